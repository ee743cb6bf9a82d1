package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/surgekit/surge/events"
)

// otherType is the type label of an event whose type is not in events.Types.
const otherType = "other"

// metrics is what the broker reports on GET /metrics: per trigger, its
// deliveries by the subscriber's answer, their durations, redeliveries
// and dead letters, and its consumer's state read at scrape time; the
// events ingested by type. Its own registry, not the global one, so two
// brokers in one test process never collide. Every label is bounded: the
// trigger names of the manifests, five answer classes, the types of
// package events.
type metrics struct {
	registry     *prometheus.Registry
	deliveries   *prometheus.CounterVec
	seconds      *prometheus.HistogramVec
	redeliveries *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	ingested     map[string]prometheus.Counter // by type, otherType included
	duplicates   map[string]prometheus.Counter
}

func newMetrics(stats func(context.Context) ([]TriggerStats, error)) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_broker_deliveries_total",
			Help: "Deliveries to a trigger's subscriber, by the class of its answer: 2xx, 4xx, 5xx, timeout or error (no answer).",
		}, []string{"trigger", "status"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "surge_broker_delivery_duration_seconds",
			Help:    "Time from sending an event to a trigger's subscriber to its answer (or the delivery's timeout).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"trigger"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_broker_redeliveries_total",
			Help: "Deliveries of an event a trigger had delivered before (a retry, or after an ack wait ran out).",
		}, []string{"trigger"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surge_broker_dead_letters_total",
			Help: "Events a trigger gave up on and its dead-letter sink accepted.",
		}, []string{"trigger"}),
	}
	ingested := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surge_broker_events_ingested_total",
		Help: "Events stored into the broker's log (ingress, pings, replies), by type; types outside package events count as other.",
	}, []string{"type"})
	duplicates := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surge_broker_events_duplicate_total",
		Help: "Events dropped at ingestion as re-sends of one stored within the dedup window (same source and id), by type.",
	}, []string{"type"})
	m.ingested, m.duplicates = byType(ingested), byType(duplicates)
	m.registry.MustRegister(m.deliveries, m.seconds, m.redeliveries, m.deadLetters, ingested, duplicates,
		newConsumerCollector(stats), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// byType resolves a counter per known type once, so ingesting an event
// costs a map lookup, not a label hash.
func byType(v *prometheus.CounterVec) map[string]prometheus.Counter {
	out := make(map[string]prometheus.Counter)
	for _, typ := range append(events.Types(), otherType) {
		out[typ] = v.WithLabelValues(typ)
	}
	return out
}

// stored counts an event of type typ that ingestion stored or dropped as a
// duplicate.
func (m *metrics) stored(typ string, duplicate bool) {
	counters := m.ingested
	if duplicate {
		counters = m.duplicates
	}
	c, ok := counters[typ]
	if !ok {
		c = counters[otherType]
	}
	c.Inc()
}

// handler serves the registry in the Prometheus text format. A consumer
// that cannot be read leaves its gauges out of the scrape (and a warning
// in the log) rather than failing it: the counters still come through.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry,
		ErrorHandling: promhttp.ContinueOnError, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
}

// answer is the class of a subscriber's answer to one delivery.
type answer int

const (
	answer2xx answer = iota
	answer4xx
	answer5xx
	answerTimeout
	answerError
	answers // how many classes
)

var answerNames = [answers]string{"2xx", "4xx", "5xx", "timeout", "error"}

// answerOf classes a delivery by the subscriber's status; without one (or
// with a status outside 2xx, 4xx and 5xx) it was a timeout or an error.
func answerOf(res result) answer {
	switch res.status / 100 {
	case 2:
		return answer2xx
	case 4:
		return answer4xx
	case 5:
		return answer5xx
	}
	var ne net.Error
	if errors.Is(res.err, context.DeadlineExceeded) || (errors.As(res.err, &ne) && ne.Timeout()) {
		return answerTimeout
	}
	return answerError
}

// triggerMetrics are one trigger's series, resolved once for its dispatcher.
type triggerMetrics struct {
	deliveries   [answers]prometheus.Counter
	seconds      prometheus.Observer
	redeliveries prometheus.Counter
	deadLetters  prometheus.Counter
}

// trigger resolves (and so exports, at zero) every series of a trigger.
func (m *metrics) trigger(name string) triggerMetrics {
	t := triggerMetrics{seconds: m.seconds.WithLabelValues(name),
		redeliveries: m.redeliveries.WithLabelValues(name), deadLetters: m.deadLetters.WithLabelValues(name)}
	for a, status := range answerNames {
		t.deliveries[a] = m.deliveries.WithLabelValues(name, status)
	}
	return t
}

// delivered counts one delivery to the subscriber and how long it took.
func (t triggerMetrics) delivered(res result, took time.Duration) {
	t.deliveries[answerOf(res)].Inc()
	t.seconds.Observe(took.Seconds())
}

// consumerCollector reports each trigger's durable consumer as JetStream
// sees it, read when Prometheus scrapes (the figures of /debug/triggers),
// so nothing polls the consumers between scrapes.
type consumerCollector struct {
	stats                                   func(context.Context) ([]TriggerStats, error)
	backlog, unacked, redelivered, inFlight *prometheus.Desc
}

func newConsumerCollector(stats func(context.Context) ([]TriggerStats, error)) consumerCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"trigger"}, nil)
	}
	return consumerCollector{stats: stats,
		backlog:     desc("surge_broker_backlog", "Events stored and matching a trigger's filter, not yet delivered to its dispatcher."),
		unacked:     desc("surge_broker_unacknowledged", "Events delivered to a trigger's dispatcher and not yet acknowledged (in delivery, or waiting out a retry's backoff)."),
		redelivered: desc("surge_broker_redelivered", "Among the unacknowledged events of a trigger, those delivered more than once."),
		inFlight:    desc("surge_broker_deliveries_in_flight", "Deliveries a trigger's workers have in hand: sending, retrying or waiting out a backoff."),
	}
}

func (c consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.backlog
	ch <- c.unacked
	ch <- c.redelivered
	ch <- c.inFlight
}

func (c consumerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	stats, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.backlog, fmt.Errorf("read trigger consumers: %w", err))
		return
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(s.Pending), s.Trigger)
		ch <- prometheus.MustNewConstMetric(c.unacked, prometheus.GaugeValue, float64(s.AckPending), s.Trigger)
		ch <- prometheus.MustNewConstMetric(c.redelivered, prometheus.GaugeValue, float64(s.Redelivered), s.Trigger)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.Busy), s.Trigger)
	}
}
