// Command gateway is the local stand-in for the cluster's HTTP gateway
// (Envoy behind the HTTPRoute): it routes the public API to the functions
// with local/gateway's table, in a process of its own as Envoy would be,
// so its CPU is counted apart from the functions' and the clients'.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/surgekit/surge/local/gateway"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/socket"
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
		log.Error("gateway failed", "err", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	listen   string
	services serviceFlag
	pprof    bool
}

func run(ctx context.Context, log *slog.Logger, args []string) error {
	opt, err := parse(args)
	if err != nil {
		return err
	}
	h, err := gateway.New(opt.services)
	if err != nil {
		return err
	}
	if opt.pprof {
		mux := http.NewServeMux()
		fn.ServePprof(mux)
		mux.Handle("/", h)
		h = mux
	}
	ln, err := socket.Listen(os.Getenv, opt.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	stopped := context.AfterFunc(ctx, func() {
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), fn.DrainTimeout)
		defer cancel()
		_ = srv.Shutdown(shut)
	})
	defer stopped()
	log.Info("gateway listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func parse(args []string) (options, error) {
	opt := options{services: serviceFlag{}}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.StringVar(&opt.listen, "listen", "127.0.0.1:8088", "address of the public API")
	fs.Var(opt.services, "service", "name=URL of a function instance (repeatable; several URLs of one name are balanced round robin)")
	fs.BoolVar(&opt.pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/ (profiling only)")
	if err := fs.Parse(args); err != nil {
		return opt, fmt.Errorf("flags: %w", err)
	}
	return opt, nil
}

// serviceFlag collects repeated -service name=URL flags.
type serviceFlag map[string][]string

func (s serviceFlag) String() string {
	var parts []string
	for name, urls := range s {
		for _, u := range urls {
			parts = append(parts, name+"="+u)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (s serviceFlag) Set(v string) error {
	name, url, ok := strings.Cut(v, "=")
	if !ok || name == "" || url == "" {
		return fmt.Errorf("want name=URL, got %q", v)
	}
	s[name] = append(s[name], url)
	return nil
}
