package broker

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/fn"
)

// loadRoutes reads the manifests and resolves the triggers of this broker.
func loadRoutes(cfg Config) ([]route, []PingSource, error) {
	triggers, err := LoadTriggers(cfg.TriggersDir)
	if err != nil {
		return nil, nil, err
	}
	var routes []route
	for _, t := range triggers {
		if t.Broker != cfg.BrokerName {
			continue
		}
		r, err := newRoute(t, cfg.Services)
		if err != nil {
			return nil, nil, err
		}
		routes = append(routes, r)
	}
	pings, err := LoadPingSources(cfg.TriggersDir)
	if err != nil {
		return nil, nil, err
	}
	var mine []PingSource
	for _, p := range pings {
		if p.targets(cfg.BrokerName) {
			mine = append(mine, p)
		}
	}
	return routes, mine, nil
}

// startConsumers creates or updates one durable consumer per route and
// deletes the consumers of triggers that are gone.
func (b *Broker) startConsumers(ctx context.Context, routes []route) error {
	copies := 1
	if b.cfg.DuplicateDelivery {
		copies = 2
	}
	client := newClient(b.cfg.Workers * len(routes))
	keep := map[string]bool{}
	for _, r := range routes {
		cc, err := consumerConfig(r, b.cfg.Workers, copies)
		if err != nil {
			return err
		}
		cons, err := b.store.stream.CreateOrUpdateConsumer(ctx, cc)
		if err != nil {
			return fmt.Errorf("trigger %s consumer: %w", r.name, err)
		}
		keep[cc.Durable] = true
		b.dispatchers = append(b.dispatchers, &dispatcher{route: r, cons: cons, client: client,
			ing: b.ingester(), metrics: b.metrics.trigger(r.name), log: b.log, workers: b.cfg.Workers, copies: copies})
	}
	return b.store.pruneConsumers(ctx, keep)
}

// newClient is the HTTP client of every delivery; each request carries its
// trigger's timeout in its context. It keeps a connection idle for each of
// the workers, all triggers together, whichever hosts they post to, so a
// delivery never opens a new one once the pool is warm: with the default
// transport's cap of 100 idle connections in all, the triggers of a flash
// sale closed and redialled thousands (BenchmarkWinPath, delivery-conns).
func newClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no cap over all hosts; the per-host one bounds it
	t.MaxIdleConnsPerHost = max(workers, 1)
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// Handler serves ingress, health checks, each trigger's delivery state
// (GET /debug/triggers), the Prometheus metrics (GET /metrics), and
// net/http/pprof when Config.Pprof is set.
func (b *Broker) Handler() http.Handler {
	ing := ingressHandler{ingester: b.ingester(), log: b.log,
		brokerName: b.cfg.BrokerName, maxBytes: b.cfg.MaxEventBytes}
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", ing)
	mux.Handle("POST /{namespace}/{broker}", ing)
	mux.HandleFunc("GET /health/readiness", b.readiness)
	mux.HandleFunc("GET /debug/triggers", b.serveStats)
	mux.Handle("GET /metrics", b.metrics.handler(b.log))
	mux.HandleFunc("GET /health/liveness", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	if b.cfg.Pprof {
		fn.ServePprof(mux)
	}
	return mux
}

func (b *Broker) readiness(w http.ResponseWriter, _ *http.Request) {
	if !b.Ready() {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "broker starting or stopping")
		return
	}
	w.WriteHeader(http.StatusOK)
}
