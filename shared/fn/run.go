package fn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/socket"
	"github.com/surgekit/surge/shared/tracing"
)

// DrainTimeout bounds the graceful shutdown after SIGTERM.
const DrainTimeout = 20 * time.Second

// ListenAddress is where a function listens: LISTEN_ADDRESS, then PORT,
// then 8080.
func ListenAddress(getenv func(string) string) string {
	if a := getenv("LISTEN_ADDRESS"); a != "" {
		return a
	}
	if p := getenv("PORT"); p != "" {
		return ":" + p
	}
	return ":8080"
}

// Run serves f until ctx ends or the process gets SIGTERM/SIGINT, then
// drains in-flight requests and calls f's Stop hook.
func Run(ctx context.Context, log *slog.Logger, f Function) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	obs, err := observeFromEnv(ctx, log)
	if err != nil {
		return err
	}
	h, err := newHost(log, f, append(obs, WithPprof(PprofEnabled(os.Getenv)), WithMetrics(metrics.Enabled()))...)
	if err != nil {
		return err
	}
	if s, ok := f.(Starter); ok {
		if err := s.Start(ctx, environ()); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	ln, err := socket.Listen(os.Getenv, ListenAddress(os.Getenv))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h.routes(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "address", ln.Addr().String())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return h.drain(srv, f)
}

// host carries the health state beside the function's own handler.
type host struct {
	log      *slog.Logger
	f        Function
	handler  http.Handler
	pprof    bool // serve net/http/pprof under /debug/pprof/
	tracing  *tracing.Tracing
	lines    *lineSampler
	metrics  *hostMetrics
	draining atomic.Bool
}

func newHost(log *slog.Logger, f Function, opts ...Option) (*host, error) {
	h := &host{log: log, f: f, metrics: newMetrics(), tracing: tracing.Off(),
		lines: newLineSampler(log, DefaultLinesPerSecond, time.Now)}
	for _, o := range opts {
		o(h)
	}
	handler, err := handlerFor(log, f, newObserver(log, h.tracing, h.lines))
	if err != nil {
		return nil, err
	}
	h.handler = handler
	return h, nil
}

func (h *host) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/readiness", h.readiness)
	mux.HandleFunc("GET /health/liveness", h.liveness)
	// The same checks where OpenFaaS looks for them.
	mux.HandleFunc("GET /_/ready", h.readiness)
	mux.HandleFunc("GET /_/health", h.liveness)
	if h.pprof {
		ServePprof(mux)
	}
	mux.Handle("GET /metrics", h.metrics.handler())
	mux.Handle("/", h.metrics.instrument(h.handler))
	return mux
}

func (h *host) readiness(w http.ResponseWriter, r *http.Request) {
	ok, err := true, error(nil)
	if rr, is := h.f.(ReadinessReporter); is {
		ok, err = rr.Ready(r.Context())
	}
	health(w, ok && err == nil && !h.draining.Load(), err)
}

func (h *host) liveness(w http.ResponseWriter, r *http.Request) {
	ok, err := true, error(nil)
	if lr, is := h.f.(LivenessReporter); is {
		ok, err = lr.Alive(r.Context())
	}
	health(w, ok && err == nil, err)
}

func health(w http.ResponseWriter, ok bool, err error) {
	if ok {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("OK"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	if err != nil {
		_, _ = w.Write([]byte(err.Error()))
	}
}

// drain stops taking traffic, waits for in-flight requests and runs Stop.
func (h *host) drain(srv *http.Server, f Function) error {
	h.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if s, ok := f.(Stopper); ok {
		err = errors.Join(err, s.Stop(ctx))
	}
	err = errors.Join(err, h.stopObserving(ctx))
	h.log.Info("stopped")
	return err
}

func environ() map[string]string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// NewLogger is the JSON logger every function writes to stderr, tagged with
// the function's name.
func NewLogger(function string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("function", function)
}

// Handler is f as Run serves it (health paths included), for tests that
// drive a function through httptest. Run reads SURGE_PPROF into WithPprof
// and SURGE_METRICS into WithMetrics; Handler serves pprof only when given
// WithPprof(true), and counts requests unless given WithMetrics(false).
func Handler(log *slog.Logger, f Function, opts ...Option) (http.Handler, error) {
	h, err := newHost(log, f, opts...)
	if err != nil {
		return nil, err
	}
	return h.routes(), nil
}

// Main is a function's main: it runs run with the function's JSON logger
// and exits 1, after logging why, when run fails.
func Main(function string, run func(ctx context.Context, log *slog.Logger) error) {
	log := NewLogger(function)
	if err := run(withName(context.Background(), function), log); err != nil {
		log.Error("stopped", "error", err.Error())
		os.Exit(1)
	}
}
