// Command broker runs the local Knative-compatible broker: CloudEvents
// ingress, an embedded NATS JetStream log, and delivery to the subscribers
// of the Trigger manifests in -triggers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/surgekit/surge/local/broker"
	"github.com/surgekit/surge/shared/socket"
	"github.com/surgekit/surge/shared/tracing"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, log, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Error("broker failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, args []string) (err error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if cfg.Listener, err = socket.Listen(os.Getenv, cfg.Listen); err != nil {
		return err
	}
	if cfg.Tracing, err = tracing.FromEnv(ctx, "broker", os.Getenv); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, flushSpans(ctx, cfg.Tracing)) }()
	b, err := broker.New(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	log.Info("broker listening", "addr", b.Addr().String(), "store", cfg.StoreDir, "triggers", cfg.TriggersDir)
	if err := b.Run(ctx); err != nil {
		return fmt.Errorf("run broker: %w", err)
	}
	log.Info("broker stopped")
	return nil
}

// flushSpans exports the spans still queued, for at most spanFlush.
func flushSpans(ctx context.Context, t *tracing.Tracing) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spanFlush)
	defer cancel()
	return t.Shutdown(ctx)
}

// spanFlush bounds the export of the last spans on shutdown.
const spanFlush = 5 * time.Second

func parseFlags(args []string) (broker.Config, error) {
	cfg := broker.Config{Services: map[string]string{}}
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "ingress address (port 0 picks a free port; see the log)")
	fs.StringVar(&cfg.StoreDir, "store", ".surge/broker", "JetStream store directory")
	fs.StringVar(&cfg.TriggersDir, "triggers", "infra/knative/base", "directory of Trigger and PingSource manifests")
	fs.Var(serviceFlag(cfg.Services), "service", "name=URL of a Knative Service a trigger refers to (repeatable)")
	fs.BoolVar(&cfg.DuplicateDelivery, "duplicate", false, "deliver every event twice to each subscriber (idempotency tests)")
	fs.IntVar(&cfg.Workers, "workers", 64, "concurrent deliveries per trigger")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 0, "PingSource period override (0 = from the schedule)")
	fs.DurationVar(&cfg.SyncInterval, "sync-interval", 0, "JetStream fsync interval (0 = NATS default, 2m)")
	fs.DurationVar(&cfg.DedupWindow, "dedup-window", 0, "how long a re-send of an event's source+id is dropped (0 = 2m)")
	fs.BoolVar(&cfg.SyncAlways, "sync-always", false, "fsync every event before acknowledging it")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/ (profiling only, never in production)")
	if err := fs.Parse(args); err != nil {
		return cfg, fmt.Errorf("flags: %w", err)
	}
	return cfg, nil
}

// serviceFlag collects repeated -service name=URL flags.
type serviceFlag map[string]string

func (s serviceFlag) String() string {
	var parts []string
	for k, v := range s {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (s serviceFlag) Set(v string) error {
	name, url, ok := strings.Cut(v, "=")
	if !ok || name == "" || url == "" {
		return errors.New("want name=URL")
	}
	s[name] = url
	return nil
}
