package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/keyspace"
)

// Names of the stage figures: one function driven directly.
const (
	StagePrededuct = "stage.prededuct"
	StageEnqueue   = "stage.enqueue"
	StageSettle    = "stage.settle"
)

// stages drives prededuct, enqueue and settle directly, as the broker
// would: prededuct gets Size.StageClaims claim.requested events of distinct
// users for a third as many units (wins and sell-outs both), enqueue gets
// the claim.reserved events prededuct replied, settle the order.queued
// events enqueue replied. Each stage's function is profiled while it runs.
func (r *runner) stages(ctx context.Context) error {
	if r.cfg.Functions == nil {
		r.skip("stages", "no direct address of the functions (a deployment reached through its gateway)")
		return nil
	}
	sale, err := stageCampaign(r.cfg.Size.StageClaims)
	if err != nil {
		return err
	}
	key, err := eventsig.NewKey([]byte(r.cfg.EventKey))
	if err != nil {
		return fmt.Errorf("stages: %w", err)
	}
	if err := crowd.OpenSale(ctx, r.cfg.Gateway, r.cfg.AdminToken, sale); err != nil {
		return err
	}
	now := time.Now().UTC()
	claims := make([]event.Event, r.cfg.Size.StageClaims)
	for i := range claims {
		u := "s" + strconv.Itoa(i)
		claims[i] = events.ClaimRequested(events.ClaimRequestedData{ClaimID: keyspace.ClaimID(sale.ID, u), CampaignID: sale.ID,
			UserID: u, SKU: sale.SKU, Qty: 1, RequestedAt: now})
		if err := key.Sign(&claims[i]); err != nil {
			return err
		}
	}
	next := func(i int) event.Event { return claims[i] }
	n := r.cfg.Size.StageClaims
	for _, s := range []struct{ name, function, wants string }{
		{StagePrededuct, "prededuct", events.TypeClaimReserved},
		{StageEnqueue, "enqueue", events.TypeOrderQueued},
		{StageSettle, "settle", events.TypeOrderSettled},
	} {
		replies, err := r.stage(ctx, s.name, s.function, next, n)
		if err != nil {
			return err
		}
		kept := ofType(replies, s.wants)
		if len(kept) == 0 {
			return fmt.Errorf("%s: no %s reply to drive the next stage", s.name, s.wants)
		}
		next, n = func(i int) event.Event { return *kept[i] }, len(kept)
	}
	return nil
}

// stage posts n events to one function while it is profiled.
func (r *runner) stage(ctx context.Context, name, function string, mk func(int) event.Event, n int) ([]*event.Event, error) {
	url := r.cfg.Functions[function]
	prof := r.profile(ctx, time.Second, function)
	f, replies, err := baseline.StageReplies(ctx, baseline.Client(r.cfg.Size.Concurrency), url, mk, n, r.cfg.Size.Concurrency)
	r.keepProfiles(name, prof)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f.Name = name
	if f.Errors > 0 {
		return nil, fmt.Errorf("%s: %d of %d events failed (statuses %v)", name, f.Errors, n, f.Statuses)
	}
	r.logf("stage    %-24s %10.0f %s/s", f.Name, f.PerSecond, f.Unit)
	r.rep.Stages = append(r.rep.Stages, f)
	return replies, nil
}

func ofType(all []*event.Event, typ string) []*event.Event {
	var out []*event.Event
	for _, e := range all {
		if e != nil && e.Type() == typ {
			out = append(out, e)
		}
	}
	return out
}

// stageCampaign is a fresh sale of claims/3 units, one per user.
func stageCampaign(claims int) (crowd.Campaign, error) {
	id, err := campaignID("stage-")
	return crowd.Campaign{ID: id, SKU: "sku-1", Stock: max(claims/3, 1), Limit: 1}, err
}

// campaignID is prefix and 8 random hex digits: a campaign of its own in
// every run, even against a deployment that keeps its data.
func campaignID(prefix string) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b), nil
}
