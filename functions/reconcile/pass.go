package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/ledger"
)

// pass audits every campaign and writes the report to S3.
func (f *Function) pass(ctx context.Context, e event.Event) (Report, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PassTimeout)
	defer cancel()
	started := f.cfg.Now().UTC()
	ids, err := f.campaignIDs(ctx)
	if err != nil {
		return Report{EventID: e.ID(), StartedAt: started}, err
	}
	return f.passOver(ctx, e.ID(), eventTime(e, started), started, ids)
}

// passOver audits the campaigns ids and writes the report, named after
// at and eventID, to S3.
func (f *Function) passOver(ctx context.Context, eventID string, at, started time.Time, ids []string) (Report, error) {
	r := Report{EventID: eventID, StartedAt: started}
	for _, id := range ids {
		c, err := f.audit(ctx, id)
		if err != nil {
			return r, err
		}
		r.add(c)
	}
	r.FinishedAt = f.cfg.Now().UTC()
	r.Key = f.cfg.Plane.ObjectPrefix() + reportKey(at, eventID)
	return r, putReport(ctx, f.cfg.S3, f.cfg.Bucket, f.cfg.Timeout, r)
}

func (f *Function) campaignIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	return f.campaigns.IDs(ctx)
}

// audit reads Redis first, then PostgreSQL: a claim that settles in
// between is then seen inflight and settled (counted once), never in
// neither; and one reserved after the Redis snapshot is left out by its
// stock slots (see settledAt). A campaign whose Redis state is lost or
// behind PostgreSQL is rebuilt (rebuild); it stays a mismatch only when
// this pass could not rebuild it.
func (f *Function) audit(ctx context.Context, id string) (CampaignReport, error) {
	read, cancel := context.WithTimeout(ctx, 4*f.cfg.Timeout)
	defer cancel()
	c, err := f.campaigns.Get(read, id)
	if err != nil {
		return CampaignReport{}, err
	}
	stock := stockOf(c)
	s, err := readSnapshot(read, f.cfg.Redis, f.cfg.Keys.Campaign(id), sortedKeys(stock))
	if err != nil {
		return CampaignReport{}, fmt.Errorf("campaign %s: %w", id, err)
	}
	orders, err := f.ledger.SettledOrders(read, id)
	if err != nil {
		return CampaignReport{}, err
	}
	r := compare(id, s, settledAt(s, stock, orders))
	reason, err := f.rebuildReason(read, c, s, orders)
	if err != nil || reason == "" {
		return r, err
	}
	if r.Rebuild, err = f.rebuild(ctx, c, reason); err != nil {
		return r, err
	}
	r.Mismatch = !r.Rebuild.Done && r.Rebuild.Skipped != rebuiltMeanwhile
	return r, nil
}

// settledAt is the ledger as of the Redis snapshot. The pre-deduct script
// hands out freed slots first (those in free:<sku>), then fresh ones in
// order; so at the snapshot the highest fresh slot handed out was
// stock − left + |free|. An order holding a slot above it, or one free at
// the snapshot, was reserved after the snapshot: counting it would report
// a difference that is only the pass racing a live sale.
func settledAt(s snapshot, stock map[string]int, orders []ledger.Settled) ledgerView {
	l := ledgerView{stock: stock, settledUnits: map[string]int{}, settledClaims: map[string]int{}}
	for _, o := range orders {
		if left, ok := s.remaining[o.SKU]; ok && reservedAfter(o, stock[o.SKU]-left+len(s.free[o.SKU]), s.free[o.SKU]) {
			continue
		}
		l.settledUnits[o.SKU] += o.Qty
		l.settledClaims[o.TokenID] += o.Qty
	}
	return l
}

// reservedAfter: o holds a slot no reservation held at the snapshot.
func reservedAfter(o ledger.Settled, highestHanded int, free map[int]bool) bool {
	for _, slot := range o.SlotList() {
		if slot > highestHanded || free[slot] {
			return true
		}
	}
	return false
}

func stockOf(c *campaign.Campaign) map[string]int {
	stock := make(map[string]int, len(c.Items))
	for _, it := range c.Items {
		stock[it.SKU] = it.Stock
	}
	return stock
}

// eventTime names the report after the ping's time, so a redelivered ping
// overwrites its own report instead of adding one.
func eventTime(e event.Event, fallback time.Time) time.Time {
	if t := e.Time(); !t.IsZero() {
		return t
	}
	return fallback
}
