// Package metrics is the process's domain metrics: what Surge decided
// (clicks answered, claims decided, orders queued and settled, batch
// sizes, releases, dead letters) and how long its calls to Redis,
// PostgreSQL and S3 took. The fn host serves Registry on GET /metrics
// beside its own request metrics.
//
// Registry is process-wide, the one exception to "no package-level
// state": a process has one /metrics, and the packages that count (stock
// decisions, the ledger, the store clients in shared/connect) sit far
// from the function that serves it. Its collectors are only ever added
// to, never replaced. Every label is bounded: an outcome, a reason or
// error code from a fixed set, a command or operation name; never a user,
// claim, campaign or order id.
//
// Each decision is counted once, where it is made for the first time: a
// redelivered event, which gets the recorded decision back, is not
// counted again. So the counters summed over every instance are the
// sale's outcome.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/surgekit/surge/events"
)

// Registry holds every collector of this package; the fn host gathers it.
var Registry = prometheus.NewRegistry()

// Click outcomes (captcha's answer to POST /v1/campaigns/{id}/claims).
const (
	Accepted = "accepted" // 202: recorded and published
	Refused  = "refused"  // any other answer; the reason is its error code
)

// Release reasons.
const (
	Expired   = "expired"   // the payment deadline passed
	Abandoned = "abandoned" // the chain refused the reservation as poison
)

// Other is the label value of anything outside a label's fixed set.
const Other = "other"

var (
	clicks = counterVec("surge_clicks_total",
		"Claims clicked, by captcha's answer: accepted (202) or refused, with the error code the client got as reason.",
		"outcome", "reason")
	claims = counterVec("surge_claims_total",
		"Claims decided (each once, not its redeliveries): reserved, or rejected with a reason.",
		"outcome", "reason")
	queued = counter("surge_orders_queued_total",
		"Reservations enqueue turned into a receipt token on the user's pending list (each once).")
	settlements = counter("surge_settlements_total",
		"Orders written to PostgreSQL by settle's group commit (each once: a rewrite of an order is not counted).")
	settleBatch = histogram("surge_settle_batch_size",
		"Orders per group-commit transaction of settle.", prometheus.ExponentialBuckets(1, 2, 11))
	releases = counterVec("surge_reservations_released_total",
		"Reservations whose units were given back to stock (each once), by why: expired (unpaid) or abandoned (poison).",
		"reason")
	deadLetters = counterVec("surge_dead_letters_total",
		"Dead letters stored (each once: one stored again after a redrive is not counted), by event type.", "type")
)

// Click counts captcha's answer to a click: Accepted, or Refused with the
// error code the client was sent ("" when accepted).
func Click(outcome, reason string) { clicks.WithLabelValues(outcome, reason).Inc() }

// Claim counts a new decision: a state (claim.Reserved, claim.Rejected)
// and a rejection's reason ("" for a reservation; a reason outside
// events' rejection reasons is Other).
func Claim(state, reason string) { claims.WithLabelValues(state, rejection(reason)).Inc() }

// Queued counts a receipt token put on a pending list for the first time.
func Queued() { queued.Inc() }

// Settled counts one group commit of batch orders, n of them newly
// written.
func Settled(batch, n int) {
	settleBatch.Observe(float64(batch))
	settlements.Add(float64(n))
}

// Released counts a reservation given back, for reason (Expired, Abandoned).
func Released(reason string) { releases.WithLabelValues(reason).Inc() }

// DeadLetter counts a dead letter newly stored, by its event type (Other
// for a type that is not the chain's).
func DeadLetter(eventType string) { deadLetters.WithLabelValues(EventType(eventType)).Inc() }

// rejection bounds a rejection reason to the public API's set.
func rejection(reason string) string {
	switch reason {
	case "", events.ReasonSoldOut, events.ReasonLimitReached, events.ReasonNotOpen, events.ReasonClosed,
		events.ReasonUnknownSKU, events.ReasonFailed:
		return reason
	}
	return Other
}

// EventType is t when it is one of the chain's event types (events.Types),
// else Other: a label's value from a fixed set, whatever a sender posted.
func EventType(t string) string {
	if chainTypes[t] {
		return t
	}
	return Other
}

// chainTypes is the set of events.Types, built once and only read.
var chainTypes = func() map[string]bool {
	set := make(map[string]bool)
	for _, t := range events.Types() {
		set[t] = true
	}
	return set
}()

func counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	Registry.MustRegister(c)
	return c
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(c)
	return c
}

func histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	Registry.MustRegister(h)
	return h
}

// latency is a call-duration histogram by one label, registered.
func latency(name, help, label string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: LatencyBuckets}, []string{label})
	Registry.MustRegister(h)
	return h
}

// LatencyBuckets are the seconds every call-duration histogram counts in:
// 100 µs (a Redis round trip on loopback) to 5 s (past any deadline).
var LatencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
