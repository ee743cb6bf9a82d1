package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stock"
)

// Repair is one thing a pass repaired, as its report lists it.
type Repair struct {
	Kind    string `json:"kind"`
	ClaimID string `json:"claim_id"`
	What    string `json:"what"`
}

// Kinds of repair.
const (
	// RepairSettled: a claim reserved past the grace, its receipt minted
	// but its order not in PostgreSQL (the order.queued was lost), settled
	// through settle's own address.
	RepairSettled = "settled_stuck"
	// RepairRepublished: a claim reserved past the grace with no receipt
	// (its claim.reserved was lost before enqueue): the reservation is
	// published again, signed as prededuct signs it, for enqueue.
	RepairRepublished = "republished_reservation"
	// RepairClearedInflight: an inflight entry of a claim PostgreSQL
	// settled (settle's clean-up was lost), cleared.
	RepairClearedInflight = "cleared_inflight"
	// RepairReleased: a reservation past its pay_by released by the pass.
	RepairReleased = "released_expired"
)

// repair mends what the audit of campaign c found (s, l): stale inflight
// entries, reservations stuck longer than RepairGrace, reservations past
// their deadline. A claim settling while the pass runs looks stale or
// stuck for a moment, so both wait out the grace (the claim record
// unchanged that long). Each repair is idempotent downstream (settle on
// the token, enqueue on the claim, the release on the claim's state), so
// two passes repairing at once do each thing once.
func (f *Function) repair(ctx context.Context, c *campaign.Campaign, s snapshot, l ledgerView, r *CampaignReport) error {
	now := f.cfg.Now()
	keys := f.cfg.Keys.Campaign(c.ID)
	var stuck []string
	for id := range s.inflight {
		if _, settled := l.settledClaims[id]; !settled {
			stuck = append(stuck, id)
		}
	}
	recs, err := f.records(ctx, keys, append(stuck, r.StaleInflight...))
	if err != nil {
		return err
	}
	for _, id := range r.StaleInflight {
		if !f.pastGrace(recs[id], now) {
			continue
		}
		if err := f.claims.SetSettled(ctx, id, now); err != nil {
			return err
		}
		if err := f.cfg.Redis.HDel(ctx, keys.Inflight(), id).Err(); err != nil {
			return fmt.Errorf("clear inflight %s: %w", id, err)
		}
		r.addRepair(Repair{Kind: RepairClearedInflight, ClaimID: id, What: "settled in PostgreSQL, still inflight in Redis: cleared"})
	}
	for _, id := range stuck {
		if rec := recs[id]; rec[claim.FieldState] == claim.Reserved && f.pastGrace(rec, now) {
			if err := f.repairStuck(ctx, id, rec, now, r); err != nil {
				return err
			}
		}
	}
	swept, err := f.closer.Sweep(ctx, c.ID, now, sweepBatch)
	if err != nil {
		return err
	}
	for _, id := range swept.Released {
		r.addRepair(Repair{Kind: RepairReleased, ClaimID: id, What: "not paid by its pay_by: released, its units back on sale"})
	}
	return nil
}

// records reads the claim records of ids in one round trip.
func (f *Function) records(ctx context.Context, keys keyspace.Campaign, ids []string) (map[string]map[string]string, error) {
	cmds := make(map[string]*redis.MapStringStringCmd, len(ids))
	if _, err := f.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			cmds[id] = p.HGetAll(ctx, keys.Claim(id))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("claims of %d to repair: %w", len(ids), err)
	}
	out := make(map[string]map[string]string, len(cmds))
	for id, cmd := range cmds {
		out[id] = cmd.Val()
	}
	return out, nil
}

// pastGrace: the claim record has not changed for RepairGrace.
func (f *Function) pastGrace(rec map[string]string, now time.Time) bool {
	updated, err := strconv.ParseInt(rec[claim.FieldUpdated], 10, 64)
	return err == nil && now.Sub(time.UnixMilli(updated)) >= f.cfg.RepairGrace
}

// repairStuck settles, or sends on again, claim id (its record rec),
// reserved for longer than the grace without its order in PostgreSQL.
func (f *Function) repairStuck(ctx context.Context, id string, rec map[string]string, now time.Time, r *CampaignReport) error {
	if rec[claim.FieldToken] != "" {
		if f.closer.Settle(ctx, id) {
			r.addRepair(Repair{Kind: RepairSettled, ClaimID: id, What: "reserved with its receipt, no order in PostgreSQL: settled"})
		}
		return nil
	}
	e, err := reservationOf(r.ID, id, rec)
	if err != nil {
		f.cfg.Log.Warn("stuck claim not repairable", "claim_id", id, "error", err.Error())
		return nil
	}
	plane.Mark(&e, f.cfg.Plane)
	if err := f.cfg.EventKey.Sign(&e); err != nil {
		return err
	}
	// the broker drops a re-send of source + id within its dedup window,
	// unless it is numbered as a redrive
	e.SetExtension(events.RedriveExtension, "repair-"+strconv.FormatInt(now.UnixMilli(), 10))
	sctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Sink.Send(sctx, e); err != nil {
		return fmt.Errorf("republish %s: %w", id, err)
	}
	r.addRepair(Repair{Kind: RepairRepublished, ClaimID: id, What: "reserved, never enqueued: its claim.reserved published again"})
	return nil
}

// reservationOf rebuilds the claim.reserved prededuct sent for a claim,
// from its record (the pre-deduct script keeps every field of it there).
func reservationOf(campaignID, id string, rec map[string]string) (event.Event, error) {
	n := func(field string) int { v, _ := strconv.Atoi(rec[field]); return v }
	ms := func(field string) time.Time {
		v, _ := strconv.ParseInt(rec[field], 10, 64)
		return time.UnixMilli(v).UTC()
	}
	slots, err := stock.ParseSlots(rec[stock.FieldSlots])
	if err != nil {
		return event.Event{}, err
	}
	d := events.ClaimReservedData{ClaimID: id, CampaignID: campaignID, UserID: rec[claim.FieldUser], SKU: rec[claim.FieldSKU],
		Qty: n(claim.FieldQty), Seq: n(claim.FieldSeq), FirstSlot: n(claim.FieldFirstSlot), Slots: slots,
		ReservedAt: ms(stock.FieldReservedAt), PayBy: ms(stock.FieldPayBy)}
	if d.UserID == "" || d.Qty < 1 || d.Seq < 1 || d.FirstSlot < 1 || rec[stock.FieldPayBy] == "" {
		return event.Event{}, fmt.Errorf("claim record %v holds no whole reservation", rec)
	}
	return events.ClaimReserved(d), nil
}

func (r *CampaignReport) addRepair(x Repair) {
	r.RepairList = append(r.RepairList, x)
	r.Repairs = len(r.RepairList)
}
