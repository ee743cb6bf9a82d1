package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// unmatched is the route label of a request no route serves (a 404).
const unmatched = "unmatched"

// metrics is what the gateway reports on GET /metrics: the requests it
// answered by route (the pattern of Routes, method and path) and status,
// how long they took, and the calls a function did not answer. Its own
// registry, not the global one, so two gateways in one test process never
// collide. The labels are bounded: the routes of the table, the services,
// the status codes.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	upstream *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_gateway_requests_total",
			Help: "Requests the gateway answered, by route (method and path pattern, or unmatched) and status code.",
		}, []string{"route", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "surge_gateway_request_duration_seconds",
			Help:    "Time from a request's arrival at the gateway to its answer, the function's time included, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_gateway_upstream_errors_total",
			Help: "Requests a function did not answer (refused, reset, unreachable), answered 503 upstream_unavailable by the gateway, by service.",
		}, []string{"service"}),
	}
	m.registry.MustRegister(m.requests, m.seconds, m.upstream, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument counts and times every request next answers as route.
func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels),
		promhttp.InstrumentHandlerDuration(m.seconds.MustCurryWith(labels), next))
}

// upstreamErrors is the counter of a service's unanswered calls.
func (m *metrics) upstreamErrors(service string) prometheus.Counter {
	return m.upstream.WithLabelValues(service)
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
