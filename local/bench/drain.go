package bench

import (
	"context"
	"time"
)

// Drain is what follows a win run's last click: the accepted wins being
// decided (reserved in Redis) and settled (orders in PostgreSQL) until none
// is left, or drainTimeout.
type Drain struct {
	Accepted     int `json:"accepted"`              // clicks answered 202
	DecidedAtEnd int `json:"decided_at_last_click"` // units reserved when the window closed
	SettledAtEnd int `json:"settled_at_last_click"`
	Decided      int `json:"decided"` // at the end of the drain
	Settled      int `json:"settled"`
	// DecidedSeconds and SettledSeconds run from the end of the window to
	// the last decision and the last settlement; the rates are over them.
	DecidedSeconds   float64 `json:"decided_seconds"`
	SettledSeconds   float64 `json:"settled_seconds"`
	DecidedPerSecond float64 `json:"decided_per_second"`
	SettledPerSecond float64 `json:"settled_per_second"`
	Seconds          float64 `json:"seconds"`  // after the last click, until the backlog was empty
	Complete         bool    `json:"complete"` // every accepted win decided and settled before the timeout
	// ServerCPUSeconds is every server process's CPU during the drain;
	// ServerCPUPerWinMicros is window and drain together per accepted win.
	ServerCPUSeconds      float64 `json:"server_cpu_seconds"`
	ServerCPUPerWinMicros float64 `json:"server_cpu_us_per_win"`
	SettledSkipped        string  `json:"settled_skipped,omitempty"` // why settled was not measured
}

// drainTimeout bounds the wait for a win run's backlog; drainEvery is how
// often its progress is read.
const (
	drainTimeout = 2 * time.Minute
	drainEvery   = 100 * time.Millisecond
)

// watchDrain reads campaign id's progress from end until every accepted
// win is decided and settled (decided only, when settled cannot be read),
// or drainTimeout passes.
func watchDrain(ctx context.Context, p *progress, id, sku string, units, accepted int) ([]sample, error) {
	deadline := time.Now().Add(drainTimeout)
	var out []sample
	for {
		s, err := p.read(ctx, id, sku, units)
		if err != nil {
			return out, err
		}
		out = append(out, s)
		if drained(s, accepted, p.settles()) || time.Now().After(deadline) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(drainEvery):
		}
	}
}

func drained(s sample, accepted int, settles bool) bool {
	return s.decided >= accepted && (!settles || s.settled >= accepted)
}

// drainOf reads the drain from the sample taken as the window closed and
// those after it: when each count last grew, and how fast it grew until then.
func drainOf(end sample, after []sample, accepted int, settles bool) Drain {
	d := Drain{Accepted: accepted, DecidedAtEnd: end.decided, SettledAtEnd: end.settled}
	last, lastDecided, lastSettled := end, end.at, end.at
	for _, s := range after {
		if s.decided > last.decided {
			lastDecided = s.at
		}
		if s.settled > last.settled {
			lastSettled = s.at
		}
		last = sample{at: s.at, decided: max(s.decided, last.decided), settled: max(s.settled, last.settled)}
	}
	d.Decided, d.Settled = last.decided, last.settled
	d.DecidedSeconds, d.SettledSeconds = lastDecided.Sub(end.at).Seconds(), lastSettled.Sub(end.at).Seconds()
	d.DecidedPerSecond = rateOver(d.Decided-d.DecidedAtEnd, d.DecidedSeconds)
	d.SettledPerSecond = rateOver(d.Settled-d.SettledAtEnd, d.SettledSeconds)
	d.Seconds = max(d.DecidedSeconds, d.SettledSeconds)
	d.Complete = drained(last, accepted, settles)
	return d
}

func rateOver(n int, seconds float64) float64 {
	if n <= 0 || seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}
