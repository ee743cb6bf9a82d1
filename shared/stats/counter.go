// Package stats keeps a campaign's statistics (seed 003) as hot counters
// (seed 001, 热 key 方案二): each instance adds its clicks, decisions and
// settlements up in memory and flushes them to Redis once a second in one
// pipeline, so a crowd costs Redis a few commands per instance per second,
// never one per click. Per campaign and UTC day it counts clicks (accepted,
// refused by reason), wins, failures by reason and settlements, and the
// distinct users who clicked (HyperLogLog, one PFADD of the second's users
// per key); per day across campaigns, the active users. Per second it keeps
// the live rates and the decision and settlement latencies as histogram
// buckets, kept a few minutes, from which the dashboard draws the last
// minute of every instance together.
//
// Counts are at least once, like the deliveries they count: a redelivered
// event is counted again, and a flush that fails part way is tried again
// whole. They are for showing, never for deciding.
package stats

import (
	"context"
	"github.com/surgekit/surge/shared/flush"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// Every is how often Run flushes.
const Every = time.Second

// secondTTL is how long a second's live counters stay in Redis.
const secondTTL = 3 * time.Minute

// Day counters, fields of the campaign's StatsDay hash. Refusals and
// failures are counted under the prefix and their reason.
const (
	Clicks      = "clicks"
	Accepted    = "accepted"
	Wins        = "wins"
	Settlements = "settlements"
	rejected    = "rejected:"
	failed      = "failed:"
)

// Live counters, fields of a StatsSecond hash beside the latency buckets.
const (
	liveClicks      = "clicks"
	liveAccepted    = "accepted"
	liveDecisions   = "decisions"
	liveSettlements = "settlements"
)

// Counter adds up one instance's statistics and flushes them. Its methods
// are safe for concurrent use; on a nil Counter they do nothing, so a
// function built without statistics counts nothing.
type Counter struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
	now  func() time.Time

	mu  sync.Mutex
	due *batch // counted since the last flush
}

// batch is what one flush writes.
type batch struct {
	days  map[day]map[string]int64    // campaign and day → counter → n
	users map[day]map[string]struct{} // campaign and day → users who clicked
	live  map[second]map[string]int64 // campaign and second → live counter → n
}

type day struct{ campaign, date string }

type second struct {
	campaign string
	unix     int64
}

func newBatch() *batch {
	return &batch{days: map[day]map[string]int64{}, users: map[day]map[string]struct{}{}, live: map[second]map[string]int64{}}
}

func (b *batch) empty() bool { return len(b.days) == 0 && len(b.users) == 0 && len(b.live) == 0 }

func add[K comparable](m map[K]map[string]int64, k K, field string, n int64) {
	f := m[k]
	if f == nil {
		f = map[string]int64{}
		m[k] = f
	}
	f[field] += n
}

// New returns a Counter writing key space keys.
func New(rdb redis.UniversalClient, keys keyspace.Space) *Counter {
	return &Counter{rdb: rdb, keys: keys, now: time.Now, due: newBatch()}
}

// Date is the UTC day t counts on, as the statistics name it.
func Date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// slots are the day and the second of campaign that a count made now
// goes to.
func (c *Counter) slots(campaign string) (day, second) {
	now := c.now()
	return day{campaign, Date(now)}, second{campaign, now.Unix()}
}

// Click counts one click of user on campaign: accepted when refusal is
// empty, else refused for that reason (an error code of the API).
func (c *Counter) Click(campaign, user, refusal string) {
	if c == nil {
		return
	}
	d, s := c.slots(campaign)
	c.mu.Lock()
	defer c.mu.Unlock()
	add(c.due.days, d, Clicks, 1)
	add(c.due.live, s, liveClicks, 1)
	if refusal == "" {
		add(c.due.days, d, Accepted, 1)
		add(c.due.live, s, liveAccepted, 1)
	} else {
		add(c.due.days, d, rejected+refusal, 1)
	}
	u := c.due.users[d]
	if u == nil {
		u = map[string]struct{}{}
		c.due.users[d] = u
	}
	u[user] = struct{}{}
}

// Decided counts one decision of campaign: a win when reason is empty,
// else a failure for that reason (sold_out, limit_reached, …); latency is
// from the click to the decision.
func (c *Counter) Decided(campaign, reason string, latency time.Duration) {
	if c == nil {
		return
	}
	d, s := c.slots(campaign)
	field := Wins
	if reason != "" {
		field = failed + reason
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	add(c.due.days, d, field, 1)
	add(c.due.live, s, liveDecisions, 1)
	add(c.due.live, s, bucketField(decisionLatency, latency), 1)
}

// Settled counts one order of campaign written to PostgreSQL; latency is
// from its reservation to its settlement.
func (c *Counter) Settled(campaign string, latency time.Duration) {
	if c == nil {
		return
	}
	d, s := c.slots(campaign)
	c.mu.Lock()
	defer c.mu.Unlock()
	add(c.due.days, d, Settlements, 1)
	add(c.due.live, s, liveSettlements, 1)
	add(c.due.live, s, bucketField(settleLatency, latency), 1)
}

// Run flushes every interval until ctx ends, then once more.
func (c *Counter) Run(ctx context.Context, every time.Duration) { flush.Every(ctx, every, c.Flush) }

// Flush writes what was counted since the last flush in one pipeline. The
// counting goes on meanwhile: the batch is swapped out under the lock,
// written outside it. What a failed flush could not write is counted
// again into the next one (live seconds older than they are kept are
// dropped).
func (c *Counter) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	b := c.due
	c.due = newBatch()
	c.mu.Unlock()
	if b.empty() {
		return nil
	}
	if err := c.write(ctx, b); err != nil {
		c.putBack(b)
		return err
	}
	return nil
}

func (c *Counter) write(ctx context.Context, b *batch) error {
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for d, fields := range b.days {
			keys := c.keys.Campaign(d.campaign)
			for f, n := range fields {
				p.HIncrBy(ctx, keys.StatsDay(d.date), f, n)
			}
			p.SAdd(ctx, keys.StatsDays(), d.date)
		}
		for d, set := range b.users {
			users := make([]any, 0, len(set))
			for u := range set {
				users = append(users, u)
			}
			keys := c.keys.Campaign(d.campaign)
			p.PFAdd(ctx, keys.StatsUsers(), users...)
			p.PFAdd(ctx, keys.StatsUsersOn(d.date), users...)
			p.PFAdd(ctx, c.keys.ActiveUsers(d.date), users...)
		}
		for s, fields := range b.live {
			key := c.keys.Campaign(s.campaign).StatsSecond(s.unix)
			for f, n := range fields {
				p.HIncrBy(ctx, key, f, n)
			}
			p.Expire(ctx, key, secondTTL)
		}
		return nil
	})
	return err
}

func (c *Counter) putBack(b *batch) {
	oldest := c.now().Add(-secondTTL).Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	for d, fields := range b.days {
		for f, n := range fields {
			add(c.due.days, d, f, n)
		}
	}
	for d, set := range b.users {
		u := c.due.users[d]
		if u == nil {
			c.due.users[d] = set
			continue
		}
		for user := range set {
			u[user] = struct{}{}
		}
	}
	for s, fields := range b.live {
		if s.unix < oldest {
			continue
		}
		for f, n := range fields {
			add(c.due.live, s, f, n)
		}
	}
}
