package main

import (
	"context"
	"time"
)

// sweepBatch bounds the claims one sweep of one campaign releases.
const sweepBatch = 256

// loop is a ticker of reconcile's own (the release driver, the live
// repair pass), not a PingSource: its goroutine ends when Stop cancels it.
type loop struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startLoop runs tick every every, until Stop; nil when every is negative.
func startLoop(every time.Duration, tick func(context.Context)) *loop {
	if every < 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &loop{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				tick(ctx)
			}
		}
	}()
	return l
}

func (l *loop) stop() {
	if l != nil {
		l.cancel()
		<-l.done
	}
}

// startLoops starts the release driver, sweeping every campaign's due
// index every ReleaseEvery, so a reservation not paid by pay_by is
// released within about one tick; and the live repair pass every
// RepairEvery.
func (f *Function) startLoops() {
	f.releases = startLoop(f.cfg.ReleaseEvery, f.sweep)
	f.repairs = startLoop(f.cfg.RepairEvery, f.livePass)
}

// Stop ends the loops and waits for the tick in progress of each.
func (f *Function) Stop(context.Context) error {
	f.releases.stop()
	f.repairs.stop()
	return nil
}

// sweep releases what is due in every campaign; failures are logged here,
// at the edge, and retried on the next tick.
func (f *Function) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PassTimeout)
	defer cancel()
	ids, err := f.campaigns.IDs(ctx)
	if err != nil {
		f.cfg.Log.Error("release sweep", "err", err)
		return
	}
	now := f.cfg.Now()
	for _, id := range ids {
		got, err := f.closer.Sweep(ctx, id, now, sweepBatch)
		if err != nil {
			f.cfg.Log.Error("release sweep", "campaign", id, "err", err)
			continue
		}
		for _, err := range got.Failed {
			f.cfg.Log.Error("release", "campaign", id, "err", err)
		}
		if len(got.Released) > 0 || len(got.Unsettled) > 0 {
			f.cfg.Log.Info("released", "campaign", id, "released", len(got.Released), "unsettled", len(got.Unsettled))
		}
	}
}
