package click

import (
	"net/http"
	"slices"
	"time"
)

// tally is what one worker, then all of them, saw.
type tally struct {
	statuses map[int]int
	lat      []time.Duration // of the answered requests
	requests int
	answered int
	errors   int
	firstErr error
}

// answered is whether a status decides or accepts a click: 202 accepted,
// 409 refused for good (sold out, limit reached).
func answered(status int) bool {
	return status == http.StatusAccepted || status == http.StatusConflict
}

func (t *tally) record(status int, d time.Duration, err error) {
	if t.statuses == nil {
		t.statuses = make(map[int]int)
	}
	t.statuses[status]++
	switch {
	case err != nil:
		t.errors++
		if t.firstErr == nil {
			t.firstErr = err
		}
	case answered(status):
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
	if t.firstErr == nil {
		t.firstErr = o.firstErr
	}
}

func (t *tally) result(elapsed, cpu time.Duration) Result {
	return Result{Requests: t.requests, Answered: t.answered, Errors: t.errors, Statuses: t.statuses,
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
