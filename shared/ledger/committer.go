package ledger

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/metrics"
)

// Committer group-commits the orders concurrent callers Submit: one loop
// collects up to MaxBatch orders, or what arrives within MaxDelay of the
// first, writes them in one transaction and answers every caller.
type Committer struct {
	pool      *pgxpool.Pool
	cfg       Config
	requests  chan request
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// request is one Submit waiting for its batch.
type request struct {
	ctx   context.Context
	order Order
	reply chan outcome // buffered: the loop never blocks on a caller
}

// outcome is one order's result: when its row was settled, or why not.
type outcome struct {
	settledAt time.Time
	err       error
}

// NewCommitter starts the loop on pool (schema.Migrate must have run).
// Close stops it.
func NewCommitter(pool *pgxpool.Pool, cfg Config) (*Committer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Committer{
		pool: pool, cfg: cfg,
		requests: make(chan request, cfg.Queue),
		stop:     make(chan struct{}), done: make(chan struct{}),
	}
	go c.loop()
	return c, nil
}

// Submit writes o with the next batch and returns the settled_at of its
// row: the time it was first written, the same on every retry. ErrGuard
// means the order can never be written.
func (c *Committer) Submit(ctx context.Context, o Order) (time.Time, error) {
	if err := o.validate(); err != nil {
		return time.Time{}, err
	}
	r := request{ctx: ctx, order: o, reply: make(chan outcome, 1)}
	select {
	case c.requests <- r:
	case <-c.stop:
		return time.Time{}, fmt.Errorf("submit %s: %w", o.OrderNo, ErrClosed)
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("submit %s: %w", o.OrderNo, ctx.Err())
	}
	return c.await(ctx, r)
}

func (c *Committer) await(ctx context.Context, r request) (time.Time, error) {
	select {
	case out := <-r.reply:
		return out.settledAt, out.err
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("submit %s: %w", r.order.OrderNo, ctx.Err())
	case <-c.done:
	}
	select { // the loop may have answered just before it exited
	case out := <-r.reply:
		return out.settledAt, out.err
	default:
		return time.Time{}, fmt.Errorf("submit %s: %w", r.order.OrderNo, ErrClosed)
	}
}

// Close stops taking orders, writes those already queued and waits for the
// loop to exit.
func (c *Committer) Close() error {
	c.closeOnce.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

// loop is the only writer; it exits once stop is closed and the queue is
// drained.
func (c *Committer) loop() {
	defer close(c.done)
	for {
		select {
		case r := <-c.requests:
			c.commit(c.collect(r))
		case <-c.stop:
			c.drain()
			return
		}
	}
}

// collect gathers a batch that starts with first.
func (c *Committer) collect(first request) []request {
	batch := append(make([]request, 0, c.cfg.MaxBatch), first)
	timer := time.NewTimer(c.cfg.MaxDelay)
	defer timer.Stop()
	for len(batch) < c.cfg.MaxBatch {
		select {
		case r := <-c.requests:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-c.stop:
			return batch
		}
	}
	return batch
}

// drain writes what is still queued after stop, without waiting.
func (c *Committer) drain() {
	for {
		batch := make([]request, 0, c.cfg.MaxBatch)
	fill:
		for len(batch) < c.cfg.MaxBatch {
			select {
			case r := <-c.requests:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return
		}
		c.commit(batch)
	}
}

// commit writes the live requests of batch and answers each.
func (c *Committer) commit(batch []request) {
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.reply <- outcome{err: fmt.Errorf("submit %s: %w", r.order.OrderNo, r.ctx.Err())}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
	defer cancel()
	results, fresh, err := writeBatch(ctx, c.pool, orders(live))
	metrics.Settled(len(live), fresh)
	for _, r := range live {
		r.reply <- answer(r.order, results, err)
	}
}

func orders(rs []request) []Order {
	out := make([]Order, len(rs))
	for i, r := range rs {
		out[i] = r.order
	}
	return out
}
