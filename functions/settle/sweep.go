package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/receipt"
)

// Sweeping: how many pipelines run at once and how many wins one holds.
const (
	sweepWorkers  = 4
	sweepMaxBatch = 256
)

// errSweeperClosed: the function is stopping.
var errSweeperClosed = errors.New("redis clean-up stopped")

// sweeper clears settled wins from Redis for concurrent Handle calls
// together. The calls one group commit answers arrive at once, and one
// pipeline clears them all: each win's claim script (claim.Store.SettleAll)
// with its pending remove right after it. Nothing waits for a batch to
// fill: a worker takes what is queued when it is free.
type sweeper struct {
	claims   *claim.Store
	pending  *pending.Store
	timeout  time.Duration // deadline of one pipeline
	requests chan sweep
	stop     chan struct{}
	done     chan struct{} // closed once every worker has exited
	stopOnce sync.Once
}

// sweep is one win waiting for its pipeline.
type sweep struct {
	ctx   context.Context
	r     receipt.Receipt
	at    time.Time
	reply chan error // buffered: a worker never blocks on a caller
}

func newSweeper(claims *claim.Store, pending *pending.Store, timeout time.Duration) *sweeper {
	s := &sweeper{claims: claims, pending: pending, timeout: timeout,
		requests: make(chan sweep, sweepMaxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for range sweepWorkers {
		wg.Add(1)
		go func() { defer wg.Done(); s.loop() }()
	}
	go func() { wg.Wait(); close(s.done) }()
	return s
}

// clear removes r's win from Redis: its claim settled at at, its inflight
// entry and its pending token gone.
func (s *sweeper) clear(ctx context.Context, r receipt.Receipt, at time.Time) error {
	w := sweep{ctx: ctx, r: r, at: at, reply: make(chan error, 1)}
	select {
	case s.requests <- w:
	case <-s.stop:
		return errSweeperClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-w.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
	}
	select { // a worker may have answered just before it exited
	case err := <-w.reply:
		return err
	default:
		return errSweeperClosed
	}
}

// close stops the workers once they have finished their pipelines.
func (s *sweeper) close() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *sweeper) loop() {
	for {
		select {
		case w := <-s.requests:
			s.run(s.collect(w))
		case <-s.stop:
			return
		}
	}
}

// collect takes first and whatever else is queued now, up to a batch.
func (s *sweeper) collect(first sweep) []sweep {
	batch := []sweep{first}
	for len(batch) < sweepMaxBatch {
		select {
		case w := <-s.requests:
			batch = append(batch, w)
		default:
			return batch
		}
	}
	return batch
}

// run sends the clean-up of the live sweeps of batch in one pipeline and
// answers each.
func (s *sweeper) run(batch []sweep) {
	live := batch[:0]
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.reply <- err
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	ss := make([]claim.Settlement, len(live))
	for i, w := range live {
		ss[i] = claim.Settlement{ClaimID: w.r.TokenID, At: w.at}
	}
	removes := make([]*redis.IntCmd, len(live))
	errs := s.claims.SettleAll(ctx, ss, func(p redis.Pipeliner, i int) {
		removes[i] = s.pending.RemoveIn(ctx, p, live[i].r.UserID, live[i].r.OrderNo)
	})
	for i, w := range live {
		w.reply <- outcome(w.r, errs[i], removes[i])
	}
}

func outcome(r receipt.Receipt, err error, remove *redis.IntCmd) error {
	if err == nil && remove != nil {
		err = remove.Err()
	}
	if err != nil {
		return fmt.Errorf("settled %s: %w", r.OrderNo, err)
	}
	return nil
}
