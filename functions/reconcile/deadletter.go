package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// deadLetter stores e once, raises its alert, and finalises the claim of a dead claim
// request, so every accepted claim reaches a final state. Only a request
// captcha signed finalises its claim: an unsigned one posted to the broker
// (prededuct's 400) must not reject somebody else's pending claim.
func (f *Function) deadLetter(ctx context.Context, e event.Event) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.letters.Put(ctx, e); err != nil {
		return err
	}
	if err := f.raiseDeadLetter(ctx, e); err != nil {
		return err
	}
	if e.Type() == events.TypeClaimReserved || e.Type() == events.TypeOrderQueued {
		return f.abandonPoison(ctx, e)
	}
	if e.Type() != events.TypeClaimRequested {
		return nil
	}
	if err := f.cfg.EventKey.Verify(e); err != nil {
		f.cfg.Log.Warn("dead claim request not from captcha: stored, claim left as it is", "event_id", e.ID(), "error", err.Error())
		return nil
	}
	err := f.claims.SetRejected(ctx, claimOf(e), events.ReasonFailed, f.cfg.Now())
	if errors.Is(err, claim.ErrNotFound) { // not a claim id: nothing to finalise
		return nil
	}
	return err
}

// claimOf is the claim id of a claim.requested event: its payload's, or
// the event id (they are equal by contract) when the payload is broken.
func claimOf(e event.Event) string {
	if d, err := events.Decode[events.ClaimRequestedData](e, events.TypeClaimRequested); err == nil {
		return d.ClaimID
	}
	return e.ID()
}

// abandonPoison gives back the units of a reservation whose claim.reserved
// or order.queued the chain refused as poison (400: a bad signature, a
// token that does not verify, a guard PostgreSQL refused). Retrying it can
// never settle it, so the claim must not hold its units: it ends released,
// its units back on sale, once. Only a claim still reserved in Redis and
// with no order in PostgreSQL is released. A dead letter of another status
// (the stage was down) is left for a redrive, or for the pass that
// settles a stuck claim.
func (f *Function) abandonPoison(ctx context.Context, e event.Event) error {
	if code := deadletter.ErrorCode(e); code == nil || *code != http.StatusBadRequest {
		return nil
	}
	claimID, _, _ := strings.Cut(e.ID(), "/")
	if _, ok := keyspace.CampaignOfClaim(claimID); !ok {
		return nil
	}
	if !f.ours(ctx, e, claimID) {
		f.cfg.Log.Warn("dead reservation not the chain's own: stored, claim left as it is", "event_id", e.ID())
		return nil
	}
	var inPostgres bool
	if err := f.cfg.Postgres.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE token_id = $1)`, claimID).Scan(&inPostgres); err != nil {
		return fmt.Errorf("dead %s: %w", e.ID(), err)
	}
	if inPostgres {
		return nil
	}
	got, err := f.closer.Abandon(ctx, claimID, f.cfg.Now())
	if errors.Is(err, stock.ErrNoClaim) {
		return nil
	}
	if err != nil {
		return err
	}
	if got.Outcome == stock.Released {
		f.cfg.Log.Warn("poison reservation released", "claim_id", claimID, "event_id", e.ID(), "type", e.Type())
	}
	return nil
}

// ours: e is what the chain sent for claimID: a claim.reserved prededuct
// signed, or an order.queued carrying the receipt enqueue recorded on the
// claim.
func (f *Function) ours(ctx context.Context, e event.Event, claimID string) bool {
	if e.Type() == events.TypeClaimReserved {
		return f.cfg.EventKey.Verify(e) == nil
	}
	d, err := events.Decode[events.OrderQueuedData](e, events.TypeOrderQueued)
	if err != nil || d.ClaimID != claimID {
		return false
	}
	campaign, _ := keyspace.CampaignOfClaim(claimID)
	token, err := f.cfg.Redis.HGet(ctx, f.cfg.Keys.Campaign(campaign).Claim(claimID), claim.FieldToken).Result()
	return err == nil && token != "" && token == d.Token
}
