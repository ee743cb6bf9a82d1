package fn

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/surgekit/surge/shared/metrics"
)

// WithMetrics turns the host's request metrics on or off (on unless
// given; Run reads SURGE_METRICS). GET /metrics answers either way.
func WithMetrics(on bool) Option {
	return func(h *host) { h.metrics.on = on }
}

// hostMetrics is what every hosted function reports on GET /metrics: the
// requests it answered by route, method and status, how long they took,
// the Go runtime and process collectors, and beside them the domain and
// store-call metrics of package metrics. Its own registry, not the global
// one, so two hosts in one test process never collide.
type hostMetrics struct {
	on       bool
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newMetrics() *hostMetrics {
	labels := []string{"route", "method", "code"}
	m := &hostMetrics{
		on:       true,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_http_requests_total",
			Help: "Requests the function answered, by route (the mux pattern, or the CloudEvent's type), method and status code.",
		}, labels),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "surge_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route, method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, labels),
	}
	m.registry.MustRegister(m.requests, m.seconds, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument counts and times every request next answers, by the route
// the function noted (Serve, or the event host), when metrics are on.
func (m *hostMetrics) instrument(next http.Handler) http.Handler {
	if !m.on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, note := noted(r.Context())
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		status, _ := sw.result()
		labels := []string{route(note.route), method(r.Method), strconv.Itoa(status)}
		m.requests.WithLabelValues(labels...).Inc()
		m.seconds.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	})
}

// handler serves the host's registry and package metrics' in the
// Prometheus text format.
func (m *hostMetrics) handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.registry, metrics.Registry},
		promhttp.HandlerOpts{Registry: m.registry})
}

// noted is ctx with a requestNote for the function to fill, the one it
// has already when an outer layer put it there.
func noted(ctx context.Context) (context.Context, *requestNote) {
	if n, ok := ctx.Value(noteKey{}).(*requestNote); ok {
		return ctx, n
	}
	n := &requestNote{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// noteRoute tells the host the route of the request ctx carries, unless
// one is noted already (an event host nested in an HTTP function notes
// the event's type first).
func noteRoute(ctx context.Context, route string) {
	if n, ok := ctx.Value(noteKey{}).(*requestNote); ok && n.route == "" {
		n.route = route
	}
}

// route is a noted route, or "unmatched" for a request the function
// matched to none (a 404, a malformed event).
func route(r string) string {
	if r == "" {
		return "unmatched"
	}
	return r
}

// method is an HTTP method in lower case, "other" for an unknown one: a
// client cannot grow the label's set.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return strings.ToLower(m)
	}
	return metrics.Other
}
