// Package broker implements the Knative Broker contract on one machine:
// CloudEvents ingress over HTTP, a durable event log in an embedded NATS
// JetStream, Trigger filters, delivery with retry, backoff and dead-letter
// sinks, and replies routed again — configured by the same Trigger and
// PingSource manifests a cluster applies (see LoadTriggers).
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Broker is a running local broker. Build it with New, then call Run.
type Broker struct {
	cfg         Config
	log         *slog.Logger
	store       *store
	metrics     *metrics
	hops        hops
	listener    net.Listener
	dispatchers []*dispatcher
	pingers     []pinger
	ready       atomic.Bool
	closeOnce   sync.Once
}

// New loads the manifests, opens the store, creates one durable consumer
// per trigger of cfg.BrokerName and binds the ingress listener. A nil log
// discards the logs. Call Run
// (or Close) to release them.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Broker, error) {
	cfg.fill()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	routes, pings, err := loadRoutes(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, log: log, store: st, hops: newHops(cfg.Tracing)}
	b.metrics = newMetrics(b.Stats)
	if err := b.setup(ctx, routes, pings); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Broker) setup(ctx context.Context, routes []route, pings []PingSource) error {
	if err := b.startConsumers(ctx, routes); err != nil {
		return err
	}
	ing := b.ingester()
	for _, p := range pings {
		pg, err := newPinger(p, b.cfg.Namespace, b.cfg.PingInterval, ing, b.log)
		if err != nil {
			return err
		}
		b.pingers = append(b.pingers, pg)
	}
	ln := b.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", b.cfg.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	b.listener = ln
	return nil
}

// Addr is the ingress address, useful when Config.Listen used port 0.
func (b *Broker) Addr() net.Addr { return b.listener.Addr() }

// Ready reports whether the stream and consumers are up and Run is serving.
func (b *Broker) Ready() bool { return b.ready.Load() }

// Run serves ingress and delivers events until ctx is done, then stops
// pulling, waits up to Config.DrainTimeout for in-flight deliveries and
// closes the store. Unfinished deliveries are redelivered after a restart.
func (b *Broker) Run(ctx context.Context) error {
	defer b.Close()
	deliverCtx, cancelDeliveries := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDeliveries()
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second}
	var inflight, loops sync.WaitGroup
	errs := make(chan error, len(b.dispatchers)+1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	for _, d := range b.dispatchers {
		loops.Go(func() { errs <- d.run(runCtx, deliverCtx, &inflight) })
	}
	for _, p := range b.pingers {
		loops.Go(func() { p.run(runCtx) })
	}
	loops.Go(func() { errs <- serve(runCtx, srv, b.listener) })
	b.ready.Store(true)
	err := firstError(runCtx, errs)
	b.ready.Store(false)
	stop()
	loops.Wait()
	b.drain(&inflight, cancelDeliveries)
	return err
}

// firstError waits for ctx to end or for a loop to fail.
func firstError(ctx context.Context, errs <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		if err != nil {
			return err
		}
		<-ctx.Done() // a loop ended cleanly: only happens on shutdown
		return nil
	}
}

// serve runs srv until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	stopped := context.AfterFunc(ctx, func() {
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx) // Serve returns ErrServerClosed either way
	})
	defer stopped()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ingress: %w", err)
	}
	return nil
}

// drain waits for in-flight deliveries, cancelling them after DrainTimeout.
func (b *Broker) drain(inflight *sync.WaitGroup, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }() // exits once deliveries return
	select {
	case <-done:
	case <-time.After(b.cfg.DrainTimeout):
		b.log.Warn("drain timeout: cancelling in-flight deliveries")
		cancel()
		<-done
	}
}

// Close releases the store and the listener. Run calls it on return.
func (b *Broker) Close() {
	b.closeOnce.Do(func() {
		if b.listener != nil {
			_ = b.listener.Close() // already closed by Serve after Run
		}
		b.store.close()
	})
}
