package main

import (
	"context"
	"time"

	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/payment"
)

// sweepBatch bounds the claims one sweep of one campaign releases.
const sweepBatch = 256

// releases is the release driver: a loop of its own (not the minute
// PingSource), sweeping every campaign's due index every ReleaseEvery, so
// a reservation not paid by pay_by is released within about one tick.
// Its goroutine ends when Stop cancels it.
type releases struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startReleases starts the driver unless ReleaseEvery is negative.
func (f *Function) startReleases() {
	if f.cfg.ReleaseEvery < 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.releases = &releases{cancel: cancel, done: make(chan struct{})}
	closer := payment.New(payment.Config{Redis: f.cfg.Redis, Keys: f.cfg.Keys, Orders: ledger.NewPayments(f.cfg.Postgres),
		Plane: f.cfg.Plane, Settle: f.cfg.Settle, Announce: f.cfg.Sink, EventKey: f.cfg.EventKey})
	go func() {
		defer close(f.releases.done)
		tick := time.NewTicker(f.cfg.ReleaseEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				f.sweep(ctx, closer)
			}
		}
	}()
}

// Stop ends the release driver and waits for its sweep in progress.
func (f *Function) Stop(context.Context) error {
	if f.releases != nil {
		f.releases.cancel()
		<-f.releases.done
	}
	return nil
}

// sweep releases what is due in every campaign; failures are logged here,
// at the edge, and retried on the next tick.
func (f *Function) sweep(ctx context.Context, closer *payment.Closer) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PassTimeout)
	defer cancel()
	ids, err := f.campaigns.IDs(ctx)
	if err != nil {
		f.cfg.Log.Error("release sweep", "err", err)
		return
	}
	now := f.cfg.Now()
	for _, id := range ids {
		got, err := closer.Sweep(ctx, id, now, sweepBatch)
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
