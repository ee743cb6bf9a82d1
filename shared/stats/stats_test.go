package stats

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func fresh(t *testing.T) (*Counter, func() *Counter) {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	keys := keyspace.New(env.KeyPrefix)
	return New(rdb, keys), func() *Counter { return New(rdb, keys) }
}

func read(t *testing.T, c *Counter, campaign string) Report {
	t.Helper()
	r, err := Read(context.Background(), c.rdb, c.keys, campaign)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return r
}

func mustFlush(t *testing.T, c *Counter) {
	t.Helper()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// Two instances count the clicks, decisions and settlements of one
// campaign; after both flushed, the report holds their sum, per day and
// in total.
func TestTwoInstancesAddUp(t *testing.T) {
	a, another := fresh(t)
	b := another()
	day1 := time.Date(2026, 12, 3, 23, 59, 59, 0, time.UTC)
	day2 := day1.Add(2 * time.Second)
	a.now = func() time.Time { return day1 }
	b.now = func() time.Time { return day2 }
	for i := range 30 {
		a.Click("sale", fmt.Sprintf("u%d", i), "")
		b.Click("sale", fmt.Sprintf("u%d", i+10), "")
	}
	a.Click("sale", "u1", "rate_limited")
	b.Click("sale", "u2", "sold_out")
	b.Click("sale", "u3", "sold_out")
	a.Click("other", "u1", "")
	for range 7 {
		a.Decided("sale", "", 3*time.Millisecond)
		b.Decided("sale", "", 40*time.Millisecond)
	}
	b.Decided("sale", "sold_out", time.Millisecond)
	a.Settled("sale", time.Second)
	b.Settled("sale", time.Second)
	mustFlush(t, a)
	mustFlush(t, b)
	r := read(t, a, "sale")
	want := Tally{Users: 40, Clicks: 63, Accepted: 60, Rejected: map[string]int64{"rate_limited": 1, "sold_out": 2},
		Wins: 14, Failures: map[string]int64{"sold_out": 1}, Settlements: 2}
	if got := fmt.Sprint(r.Totals); got != fmt.Sprint(want) {
		t.Errorf("totals = %s; want %s", got, fmt.Sprint(want))
	}
	if len(r.Days) != 2 || r.Days[0].Date != "2026-12-03" || r.Days[1].Date != "2026-12-04" {
		t.Fatalf("days = %+v; want 2026-12-03 and 2026-12-04", r.Days)
	}
	if d := r.Days[0]; d.Clicks != 31 || d.Users != 30 || d.Wins != 7 || d.ActiveUsers != 30 {
		t.Errorf("day 1 = %+v; want 31 clicks of 30 users (30 active), 7 wins", d)
	}
	if d := r.Days[1]; d.Clicks != 32 || d.Users != 32 || d.Wins != 7 || d.Failures["sold_out"] != 1 {
		t.Errorf("day 2 = %+v; want 32 clicks of 32 users (a refused click counts its user), 7 wins, 1 sold out", d)
	}
	if other := read(t, a, "other"); other.Totals.Clicks != 1 || other.Days[0].ActiveUsers != 30 {
		t.Errorf("other = %+v; want 1 click, the day's 30 active users across campaigns", other)
	}
	if r := read(t, a, "none"); r.Totals.Clicks != 0 || len(r.Days) != 0 {
		t.Errorf("a campaign never counted = %+v; want nothing", r)
	}
}

// 20,000 distinct users, each clicking twice through one of two
// instances, are counted within the HyperLogLog's error.
func TestDistinctUsersWithinError(t *testing.T) {
	a, another := fresh(t)
	b := another()
	const users = 20000
	for i := range users {
		u := fmt.Sprintf("user-%d", i)
		a.Click("sale", u, "")
		b.Click("sale", u, "limit_reached")
		if i%5000 == 0 {
			mustFlush(t, a)
		}
	}
	mustFlush(t, a)
	mustFlush(t, b)
	r := read(t, a, "sale")
	if r.Totals.Clicks != 2*users {
		t.Errorf("clicks = %d; want %d", r.Totals.Clicks, 2*users)
	}
	for name, got := range map[string]int64{"campaign": r.Totals.Users, "day": r.Days[0].Users, "active": r.Days[0].ActiveUsers} {
		if e := math.Abs(float64(got-users)) / users; e > 0.03 {
			t.Errorf("%s distinct users = %d; want %d within 3%% (HyperLogLog), off by %.2f%%", name, got, users, 100*e)
		}
	}
}

// Run flushes once a second: a click shows in Redis only after the
// first tick, and a later click after the next, not sooner.
func TestRunFlushesOnceASecond(t *testing.T) {
	c, _ := fresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); c.Run(ctx, Every) }()
	c.Click("sale", "alice", "")
	if got := read(t, c, "sale").Totals.Clicks; got != 0 {
		t.Errorf("clicks before any flush = %d; want 0 (counted in memory)", got)
	}
	waitClicks(t, c, 1)
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("first flush after %v; want about a second", took)
	}
	c.Click("sale", "bob", "")
	c.Click("sale", "carol", "")
	waitClicks(t, c, 3)
	c.Click("sale", "dave", "")
	cancel()
	<-done
	if got := read(t, c, "sale").Totals.Clicks; got != 4 {
		t.Errorf("clicks after Run ended = %d; want 4 (flushed on the way out)", got)
	}
}

func waitClicks(t *testing.T, c *Counter, want int64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for read(t, c, "sale").Totals.Clicks != want {
		if time.Now().After(deadline) {
			t.Fatalf("clicks never reached %d within 3s", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The live view sums each second of every instance and reads the
// latency percentiles off the buckets.
func TestLive(t *testing.T) {
	a, another := fresh(t)
	b := another()
	base := time.Unix(1796000000, 0)
	for s := range 5 {
		at := base.Add(time.Duration(s) * time.Second)
		a.now = func() time.Time { return at }
		b.now = func() time.Time { return at }
		for range s + 1 {
			a.Click("sale", "u", "")
			b.Click("sale", "v", "sold_out")
		}
		for range 99 {
			a.Decided("sale", "", 3*time.Millisecond) // bucket 2..5ms
		}
		b.Decided("sale", "", 1500*time.Millisecond) // bucket 1000..2000ms
		b.Settled("sale", 70*time.Millisecond)
	}
	mustFlush(t, a)
	mustFlush(t, b)
	l, err := ReadLive(context.Background(), a.rdb, a.keys, "sale", base.Add(5*time.Second+settled), 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(l.Clicks, l.Accepted, l.Decisions, l.Settlements), "[2 4 6 8 10] [1 2 3 4 5] [100 100 100 100 100] [1 1 1 1 1]"; got != want {
		t.Errorf("clicks, accepted, decisions, settlements = %s; want %s", got, want)
	}
	if d := l.Decision; d.Count != 500 || d.P50 < 2 || d.P50 > 5 || d.P99 < 5 || d.P99 > 2000 {
		t.Errorf("decision latency = %+v; want 500, p50 in 2..5ms, p99 above 5ms", d)
	}
	if s := l.Settlement; s.Count != 5 || s.P50 < 50 || s.P50 > 100 {
		t.Errorf("settlement latency = %+v; want 5, p50 in 50..100ms", s)
	}
}

func TestQuantile(t *testing.T) {
	var h Histogram
	h.addField("10", 50)  // 5..10ms
	h.addField("100", 49) // 50..100ms
	h.addField("inf", 1)
	tests := []struct {
		q        float64
		min, max float64
	}{{0.25, 5, 10}, {0.5, 5, 10}, {0.75, 50, 100}, {0.99, 50, 100}, {1, 60000, 60000}}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); got < tt.min || got > tt.max {
			t.Errorf("Quantile(%v) = %v; want %v..%v", tt.q, got, tt.min, tt.max)
		}
	}
	if got := (Histogram{}).Quantile(0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v; want 0", got)
	}
	if got := bucketField(decisionLatency, 4*time.Millisecond); got != "decision_ms:5" {
		t.Errorf("bucket of 4ms = %q; want decision_ms:5", got)
	}
}

func TestNilCounterCountsNothing(t *testing.T) {
	var c *Counter
	c.Click("sale", "alice", "")
	c.Decided("sale", "", time.Millisecond)
	c.Settled("sale", time.Millisecond)
	if err := c.Flush(context.Background()); err != nil {
		t.Errorf("Flush of nil = %v; want nil", err)
	}
}
