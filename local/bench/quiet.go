package bench

import (
	"context"
	"time"

	"github.com/surgekit/surge/local/broker"
)

// quiesce waits until the broker has no event waiting on any trigger (the
// engine has caught up with the last run) or drainTimeout, and says how
// long after from that was; 0 when the broker cannot be watched.
func (r *runner) quiesce(ctx context.Context, from time.Time) (float64, error) {
	if r.cfg.BrokerStats == "" {
		return 0, nil
	}
	deadline := time.Now().Add(drainTimeout)
	for {
		st, err := triggerStats(ctx, r.cfg.BrokerStats)
		if err == nil && backlog(st) == 0 {
			return time.Since(from).Seconds(), nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			r.logf("click    the broker still had events waiting %v after the run", drainTimeout)
			return time.Since(from).Seconds(), nil
		}
		sleep(ctx, drainEvery)
	}
}

// backlog is the events waiting on every trigger, delivered or not.
func backlog(st []broker.TriggerStats) uint64 {
	var n uint64
	for _, t := range st {
		n += t.Pending + uint64(t.AckPending)
	}
	return n
}
