package main

import (
	"context"
	"errors"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
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
