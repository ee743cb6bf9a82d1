package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/budget"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stats"
)

// liveSpan is how many seconds of rates a frame carries: the charts'
// last minute.
const liveSpan = 60

// Frame is one second of the dashboard for one campaign, as the events
// stream sends it.
type Frame struct {
	At         time.Time `json:"at"`
	CampaignID string    `json:"campaign_id"`
	Kind       string    `json:"kind"`
	// Stock is the units left per SKU (a rain's packets) and the
	// campaign's state.
	Stock  StockView   `json:"stock"`
	Budget *BudgetLeft `json:"budget,omitempty"` // a rain's money; a sale has none
	// Totals is what the campaign counted so far, every day together:
	// clicks, accepted, rejected by reason, wins, failures by reason,
	// settlements (package stats).
	Totals stats.Tally `json:"totals"`
	// Rates are the last complete second's clicks, decisions and
	// settlements; Live the last minute of them and the latencies over it.
	Rates       Rates             `json:"rates"`
	Live        stats.Live        `json:"live"`
	Backlog     Backlog           `json:"backlog"`
	DeadLetters deadletter.Counts `json:"dead_letters"`
	Reconcile   *Verdict          `json:"reconcile"` // null: no pass has seen the campaign yet
	// ReconcileError says why the reports could not be read just now (the
	// verdict shown is the last one read).
	ReconcileError string `json:"reconcile_error,omitempty"`
	// Switches is the degrade switches' hash as it is (field → value,
	// with its version); empty when none is set.
	Switches map[string]string `json:"switches"`
}

// BudgetLeft is a rain's money, in cents.
type BudgetLeft struct {
	Budget int64 `json:"budget"`
	Issued int64 `json:"issued"`
	Left   int64 `json:"left"`
}

// Rates are per second.
type Rates struct {
	Clicks      int64 `json:"clicks"`
	Accepted    int64 `json:"accepted"`
	Decisions   int64 `json:"decisions"`
	Settlements int64 `json:"settlements"`
}

func lastRates(l stats.Live) Rates {
	n := len(l.Clicks)
	if n == 0 {
		return Rates{}
	}
	return Rates{Clicks: l.Clicks[n-1], Accepted: l.Accepted[n-1], Decisions: l.Decisions[n-1], Settlements: l.Settlements[n-1]}
}

// frame reads campaign c's frame now. Backlog and verdict are shown as
// unavailable when their sources fail; the campaign's own numbers fail
// the frame.
func (f *Function) frame(ctx context.Context, c *campaign.Campaign) (Frame, error) {
	now := f.d.Now()
	fr := Frame{At: now.UTC(), CampaignID: c.ID, Kind: c.Kind}
	var err error
	if fr.Stock, err = f.viewOf(ctx, c); err != nil {
		return Frame{}, err
	}
	if c.Kind == campaign.KindRain {
		issued, err := budget.Issued(ctx, f.d.Redis, f.d.Keys.Campaign(c.ID))
		if err != nil {
			return Frame{}, err
		}
		fr.Budget = &BudgetLeft{Budget: c.Budget, Issued: issued, Left: max(c.Budget-issued, 0)}
	}
	report, err := stats.Read(ctx, f.d.Redis, f.d.Keys, c.ID)
	if err != nil {
		return Frame{}, err
	}
	fr.Totals = report.Totals
	if fr.Live, err = stats.ReadLive(ctx, f.d.Redis, f.d.Keys, c.ID, now, liveSpan); err != nil {
		return Frame{}, err
	}
	fr.Rates = lastRates(fr.Live)
	if fr.DeadLetters, err = f.d.Letters.Count(ctx, c.ID); err != nil {
		return Frame{}, err
	}
	if fr.Switches, err = readSwitches(ctx, f.d.Redis, f.d.Keys); err != nil {
		return Frame{}, err
	}
	fr.Backlog = f.d.Broker.read(ctx)
	if fr.Reconcile, err = f.d.Verdicts.of(ctx, c.ID); err != nil {
		fr.ReconcileError = "reports unavailable: " + err.Error()
	}
	return fr, nil
}

// readSwitches reads the degrade switches' hash raw, for showing only:
// package switches owns it and decides what each field means.
func readSwitches(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Space) (map[string]string, error) {
	m, err := rdb.HGetAll(ctx, keys.Switches()).Result()
	if err != nil {
		return nil, fmt.Errorf("switches: %w", err)
	}
	return m, nil
}
