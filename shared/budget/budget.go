// Package budget keeps a rain's running total of money issued: the
// hottest number of a rain, written by every win. It follows the seed's
// hot-key scheme 2 (热 key, 方案二): each instance adds its wins up in
// memory and flushes the sum to one Redis key once a second, so the key
// takes one write per instance per second, never one per grab. The total
// is for showing and alerting: what can never be overspent is guarded by
// the packets themselves (each settled once, their sum the budget).
//
// A flush that takes the total to 90% of the budget or more, or to all of
// it, raises dev.surgekit.budget.low.v1 for that threshold, once across
// every instance (an HSETNX on the campaign's BudgetAlerts hash); an
// announcement that fails is tried again on the next flush.
package budget

import (
	"context"
	"errors"
	"github.com/surgekit/surge/shared/flush"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/keyspace"
)

// LowShare is the share of the budget issued that raises the low alert,
// in percent.
const LowShare = 90

// Raise announces one threshold crossed (an event to the broker).
type Raise func(ctx context.Context, d events.BudgetLowData) error

// Counter adds up money issued per rain and flushes it.
type Counter struct {
	rdb   redis.UniversalClient
	keys  keyspace.Space
	raise Raise // nil raises nothing
	now   func() time.Time

	mu     sync.Mutex
	counts map[string]*tally // campaign → what this instance issued since the last flush
}

type tally struct {
	budget int64
	delta  int64
	retry  bool // an announcement failed: check the thresholds again
}

// New returns a Counter writing key space keys.
func New(rdb redis.UniversalClient, keys keyspace.Space, raise Raise) *Counter {
	return &Counter{rdb: rdb, keys: keys, raise: raise, now: time.Now, counts: make(map[string]*tally)}
}

// Add counts amount cents issued by rain campaign, whose budget is
// budget: memory only.
func (c *Counter) Add(campaign string, budget, amount int64) {
	c.mu.Lock()
	t := c.counts[campaign]
	if t == nil {
		t = &tally{budget: budget}
		c.counts[campaign] = t
	}
	t.delta += amount
	c.mu.Unlock()
}

// Run flushes every interval until ctx ends, then once more.
func (c *Counter) Run(ctx context.Context, every time.Duration) { flush.Every(ctx, every, c.Flush) }

// Flush adds what this instance counted to each rain's total in Redis and
// raises the thresholds the totals reached. What a failed write could not
// add is kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	due := make(map[string]tally, len(c.counts))
	for id, t := range c.counts {
		if t.delta != 0 || t.retry {
			due[id] = *t
			t.delta, t.retry = 0, false
		}
	}
	c.mu.Unlock()
	var errs []error
	for id, t := range due {
		if err := c.flushOne(ctx, id, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Counter) flushOne(ctx context.Context, id string, t tally) error {
	keys := c.keys.Campaign(id)
	total, err := c.rdb.IncrBy(ctx, keys.Issued(), t.delta).Result()
	if err != nil {
		c.putBack(id, t.delta, false)
		return err
	}
	for _, th := range thresholds(t.budget) {
		if total < th.at {
			continue
		}
		if err := c.announce(ctx, keys, events.BudgetLowData{CampaignID: id, Threshold: th.name, Budget: t.budget,
			Issued: total, At: c.now().UTC()}); err != nil {
			c.putBack(id, 0, true)
			return err
		}
	}
	return nil
}

// announce raises d once: the first instance to mark it raises it, and
// unmarks it again if the raise fails.
func (c *Counter) announce(ctx context.Context, keys keyspace.Campaign, d events.BudgetLowData) error {
	if c.raise == nil {
		return nil
	}
	first, err := c.rdb.HSetNX(ctx, keys.BudgetAlerts(), d.Threshold, d.At.UnixMilli()).Result()
	if err != nil || !first {
		return err
	}
	if err := c.raise(ctx, d); err != nil {
		c.rdb.HDel(context.WithoutCancel(ctx), keys.BudgetAlerts(), d.Threshold)
		return err
	}
	return nil
}

func (c *Counter) putBack(id string, delta int64, retry bool) {
	c.mu.Lock()
	t := c.counts[id]
	t.delta += delta
	t.retry = t.retry || retry
	c.mu.Unlock()
}

type threshold struct {
	name string
	at   int64
}

// thresholds are the totals that raise an alert: 90% of the budget
// (rounded up) and all of it.
func thresholds(budget int64) []threshold {
	return []threshold{{events.ThresholdLow, (budget*LowShare + 99) / 100}, {events.ThresholdExhausted, budget}}
}

// Issued reads a rain's total as flushed so far.
func Issued(ctx context.Context, rdb redis.Cmdable, keys keyspace.Campaign) (int64, error) {
	n, err := rdb.Get(ctx, keys.Issued()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}
