package stats

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// Tally is what a campaign counted over a span (a day, or all its days).
type Tally struct {
	// Users is the distinct users who clicked, a HyperLogLog estimate
	// (0.81% standard error).
	Users    int64            `json:"distinct_users"`
	Clicks   int64            `json:"clicks"`
	Accepted int64            `json:"accepted"`
	Rejected map[string]int64 `json:"rejected"` // clicks refused, by error code
	Wins     int64            `json:"wins"`     // claims reserved
	Failures map[string]int64 `json:"failures"` // claims rejected, by reason
	// Settlements is the orders written to PostgreSQL.
	Settlements int64 `json:"settlements"`
}

func newTally() Tally { return Tally{Rejected: map[string]int64{}, Failures: map[string]int64{}} }

func (t *Tally) add(field string, n int64) {
	switch {
	case field == Clicks:
		t.Clicks += n
	case field == Accepted:
		t.Accepted += n
	case field == Wins:
		t.Wins += n
	case field == Settlements:
		t.Settlements += n
	case strings.HasPrefix(field, rejected):
		t.Rejected[strings.TrimPrefix(field, rejected)] += n
	case strings.HasPrefix(field, failed):
		t.Failures[strings.TrimPrefix(field, failed)] += n
	}
}

// Day is one UTC day of a campaign.
type Day struct {
	Date string `json:"date"` // 2006-01-02
	Tally
	// ActiveUsers is the distinct users who clicked in any campaign that
	// day (HyperLogLog).
	ActiveUsers int64 `json:"active_users"`
}

// Report is a campaign's statistics: every day counted, oldest first, and
// the totals over them.
type Report struct {
	CampaignID string `json:"campaign_id"`
	Totals     Tally  `json:"totals"`
	Days       []Day  `json:"days"`
}

// Read reads campaign's statistics as flushed so far by every instance.
func Read(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Space, campaign string) (Report, error) {
	ck := keys.Campaign(campaign)
	dates, err := rdb.SMembers(ctx, ck.StatsDays()).Result()
	if err != nil {
		return Report{}, fmt.Errorf("stats days of %s: %w", campaign, err)
	}
	slices.Sort(dates)
	var total *redis.IntCmd
	counts := make([]*redis.MapStringStringCmd, len(dates))
	users, active := make([]*redis.IntCmd, len(dates)), make([]*redis.IntCmd, len(dates))
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		total = p.PFCount(ctx, ck.StatsUsers())
		for i, d := range dates {
			counts[i] = p.HGetAll(ctx, ck.StatsDay(d))
			users[i] = p.PFCount(ctx, ck.StatsUsersOn(d))
			active[i] = p.PFCount(ctx, keys.ActiveUsers(d))
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("stats of %s: %w", campaign, err)
	}
	r := Report{CampaignID: campaign, Totals: newTally(), Days: make([]Day, len(dates))}
	r.Totals.Users = total.Val()
	for i, d := range dates {
		day := Day{Date: d, Tally: newTally(), ActiveUsers: active[i].Val()}
		day.Users = users[i].Val()
		for f, v := range counts[i].Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			day.add(f, n)
			r.Totals.add(f, n)
		}
		r.Days[i] = day
	}
	return r, nil
}

// Live is the last seconds of a campaign, every instance together.
type Live struct {
	// Until is the end of the last second shown (unix seconds): the
	// seconds before it are complete, flushed by every instance.
	Until int64 `json:"until"`
	// Per second, oldest first.
	Clicks      []int64 `json:"clicks"`
	Accepted    []int64 `json:"accepted"`
	Decisions   []int64 `json:"decisions"`
	Settlements []int64 `json:"settlements"`
	// Latencies over the whole span, in milliseconds.
	Decision   Latency `json:"decision_latency_ms"`
	Settlement Latency `json:"settlement_latency_ms"`
}

// Latency is a span's percentiles.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
}

func latencyOf(h Histogram) Latency {
	return Latency{Count: h.Count(), P50: h.Quantile(0.5), P99: h.Quantile(0.99)}
}

// settled is how long after a second its counts are taken as complete:
// every instance has flushed it by then (they flush once a second).
const settled = 2 * time.Second

// ReadLive reads campaign's last span seconds that are complete at now.
func ReadLive(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Space, campaign string, now time.Time, span int) (Live, error) {
	ck := keys.Campaign(campaign)
	until := now.Add(-settled).Unix()
	cmds := make([]*redis.MapStringStringCmd, span)
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range span {
			cmds[i] = p.HGetAll(ctx, ck.StatsSecond(until-int64(span-i)))
		}
		return nil
	})
	if err != nil {
		return Live{}, fmt.Errorf("live stats of %s: %w", campaign, err)
	}
	l := Live{Until: until, Clicks: make([]int64, span), Accepted: make([]int64, span),
		Decisions: make([]int64, span), Settlements: make([]int64, span)}
	var decision, settlement Histogram
	for i, cmd := range cmds {
		for f, v := range cmd.Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			name, bound, _ := strings.Cut(f, ":")
			switch name {
			case liveClicks:
				l.Clicks[i] = n
			case liveAccepted:
				l.Accepted[i] = n
			case liveDecisions:
				l.Decisions[i] = n
			case liveSettlements:
				l.Settlements[i] = n
			case decisionLatency:
				decision.addField(bound, n)
			case settleLatency:
				settlement.addField(bound, n)
			}
		}
	}
	l.Decision, l.Settlement = latencyOf(decision), latencyOf(settlement)
	return l, nil
}
