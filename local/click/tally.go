package click

import (
	"net/http"
	"slices"
	"time"
)

// tally is what one worker, then all of them, saw.
type tally struct {
	answer   []int // the statuses that count as answered
	statuses map[int]int
	lat      []time.Duration // of the answered requests
	requests int
	answered int
	errors   int
	unhinted int // refusals without Retry-After and Retry-After-Ms
	firstErr error
}

func (t *tally) record(a answer, d time.Duration, err error) {
	if t.statuses == nil {
		t.statuses = make(map[int]int)
	}
	t.statuses[a.status]++
	if (a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable) && !a.hinted {
		t.unhinted++
	}
	switch {
	case err != nil:
		t.errors++
		if t.firstErr == nil {
			t.firstErr = err
		}
	case answers(t.answer, a.status):
		t.requests++
		t.answered++
		t.lat = append(t.lat, d)
	default:
		t.requests++
		t.errors++
	}
}

func (t *tally) merge(o tally) {
	if t.statuses == nil {
		t.statuses = make(map[int]int)
	}
	for s, n := range o.statuses {
		t.statuses[s] += n
	}
	t.lat = append(t.lat, o.lat...)
	t.requests += o.requests
	t.answered += o.answered
	t.errors += o.errors
	t.unhinted += o.unhinted
	if t.firstErr == nil {
		t.firstErr = o.firstErr
	}
}

func (t *tally) result(elapsed, cpu time.Duration) Result {
	return Result{Requests: t.requests, Answered: t.answered, Errors: t.errors, Statuses: t.statuses, Unhinted: t.unhinted,
		Elapsed: elapsed, Latency: Percentiles(t.lat), ClientCPU: cpu, FirstErr: t.firstErr}
}

// Latency holds percentiles of request latency.
type Latency struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Percentiles are the nearest-rank percentiles of lat (sorted in place):
// the smallest value at or above the share p of all values.
func Percentiles(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1 // ceil(p·n) − 1 without float noise at whole ranks
		return lat[min(max(i, 0), len(lat)-1)]
	}
	return Latency{N: len(lat), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: lat[len(lat)-1]}
}
