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
	return r, f.writeReport(ctx, &r, at)
}

func (f *Function) writeReport(ctx context.Context, r *Report, at time.Time) error {
	r.FinishedAt = f.cfg.Now().UTC()
	r.Key = f.cfg.Plane.ObjectPrefix() + reportKey(at, r.EventID)
	return putReport(ctx, f.cfg.S3, f.cfg.Bucket, f.cfg.Timeout, *r)
}

// livePass is the near-real-time pass of seed 001, on reconcile's own
// tick (RepairEvery): the campaigns that are live (open, or still within
// a payment window) are audited and repaired. A report is written, and
// alerts raised, only for a campaign the pass repaired, rebuilt or found
// mismatching: a quiet tick leaves no object. Failures are logged here,
// at the edge, and the next tick tries again.
func (f *Function) livePass(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PassTimeout)
	defer cancel()
	started := f.cfg.Now().UTC()
	live, err := f.liveCampaigns(ctx, started)
	if err != nil {
		f.cfg.Log.Error("live pass", "err", err)
		return
	}
	r := Report{EventID: "live", StartedAt: started}
	for _, spec := range live {
		c, err := f.auditOf(ctx, spec)
		if err != nil {
			f.cfg.Log.Error("live pass", "campaign", spec.ID, "err", err)
			continue
		}
		if c.Repairs > 0 || c.Rebuild != nil || c.Mismatch {
			r.add(c)
		}
	}
	if len(r.Campaigns) == 0 {
		return
	}
	if err := f.writeReport(ctx, &r, started); err != nil {
		f.cfg.Log.Error("live pass", "err", err)
	}
	f.logReport(r)
	if err := f.raisePass(ctx, r); err != nil {
		f.cfg.Log.Error("live pass", "err", err)
	}
}

// liveCampaigns are those open at now, or whose payment windows are not
// all over (a reservation of the last second may still be released).
func (f *Function) liveCampaigns(ctx context.Context, now time.Time) ([]*campaign.Campaign, error) {
	ids, err := f.campaignIDs(ctx)
	if err != nil {
		return nil, err
	}
	var live []*campaign.Campaign
	for _, id := range ids {
		c, err := f.campaigns.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !now.Before(c.StartsAt) && now.Before(c.EndsAt.Add(c.PaymentWindow.Duration+f.cfg.RepairGrace)) {
			live = append(live, c)
		}
	}
	return live, nil
}

func (f *Function) campaignIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	return f.campaigns.IDs(ctx)
}

// audit reads Redis first, then PostgreSQL: a claim that settles in
// between is then seen inflight and settled (counted once), never in
// neither; and one reserved after the Redis snapshot is left out by its
// stock slots (see settledAt). A release in between is not seen in
// either, so a difference is looked at twice (auditOf). A campaign whose Redis state is lost or
// behind PostgreSQL is rebuilt (rebuild); it stays a mismatch only when
// this pass could not rebuild it. Any other is repaired (repair).
func (f *Function) audit(ctx context.Context, id string) (CampaignReport, error) {
	read, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	c, err := f.campaigns.Get(read, id)
	if err != nil {
		return CampaignReport{}, err
	}
	return f.auditOf(ctx, c)
}

// auditOf is audit of campaign c, read already.
func (f *Function) auditOf(ctx context.Context, c *campaign.Campaign) (CampaignReport, error) {
	id := c.ID
	read, cancel := context.WithTimeout(ctx, 4*f.cfg.Timeout)
	defer cancel()
	stock := stockOf(c)
	s, orders, l, r, err := f.compareNow(read, id, stock)
	if err == nil && r.Mismatch {
		// A release between the two reads looks like a unit taken and
		// not accounted for: Redis read before its claim was decided
		// releasing, PostgreSQL after its order was released. A second
		// look, a moment later, sees it given back or releasing; a
		// difference that is still there is one.
		s, orders, l, r, err = f.compareNow(read, id, stock)
	}
	if err != nil {
		return CampaignReport{}, err
	}
	reason, err := f.rebuildReason(read, c, s, orders)
	if err != nil {
		return r, err
	}
	if reason == "" {
		return r, f.repair(ctx, c, s, l, &r)
	}
	if r.Rebuild, err = f.rebuild(ctx, c, reason); err != nil {
		return r, err
	}
	r.Mismatch = !r.Rebuild.Done && r.Rebuild.Skipped != rebuiltMeanwhile
	return r, nil
}

// compareNow reads campaign id's Redis state, then its ledger, and
// compares them.
func (f *Function) compareNow(ctx context.Context, id string, stock map[string]int) (snapshot, []ledger.Settled, ledgerView, CampaignReport, error) {
	s, err := readSnapshot(ctx, f.cfg.Redis, f.cfg.Keys.Campaign(id), sortedKeys(stock))
	if err != nil {
		return s, nil, ledgerView{}, CampaignReport{}, fmt.Errorf("campaign %s: %w", id, err)
	}
	orders, err := f.ledger.SettledOrders(ctx, id)
	if err != nil {
		return s, nil, ledgerView{}, CampaignReport{}, err
	}
	l := settledAt(s, stock, orders)
	return s, orders, l, compare(id, s, l), nil
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
	stock := make(map[string]int, len(c.Lots()))
	for _, it := range c.Lots() {
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
