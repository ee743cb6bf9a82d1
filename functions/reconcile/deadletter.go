package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
)

// Extensions the broker adds to a dead letter.
const (
	extErrorCode = "knativeerrorcode"
	extErrorDest = "knativeerrordest"
)

// isDeadLetter: Knative functions have one handler, so the dead-letter
// sink is recognised by the extension the broker adds.
func isDeadLetter(e event.Event) bool {
	_, ok := e.Extensions()[extErrorCode]
	return ok
}

const insertDeadLetter = `
INSERT INTO dead_letters (event_id, event_type, source, error_code, error_dest, event)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (source, event_id, event_type) DO NOTHING`

// deadLetter stores e once and finalises the claim of a dead claim
// request, so every accepted claim reaches a final state. Only a request
// captcha signed finalises its claim: an unsigned one posted to the broker
// (prededuct's 400) must not reject somebody else's pending claim.
func (f *Function) deadLetter(ctx context.Context, e event.Event) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", e.ID(), err)
	}
	if _, err := f.cfg.Postgres.Exec(ctx, insertDeadLetter, e.ID(), e.Type(), e.Source(),
		errorCode(e), extString(e, extErrorDest), body); err != nil {
		return fmt.Errorf("dead letter %s: %w", e.ID(), err)
	}
	if e.Type() != events.TypeClaimRequested {
		return nil
	}
	if err := f.cfg.EventKey.Verify(e); err != nil {
		f.cfg.Log.Warn("dead claim request not from captcha: stored, claim left as it is", "event_id", e.ID(), "error", err.Error())
		return nil
	}
	err = f.claims.SetRejected(ctx, claimOf(e), events.ReasonFailed, f.cfg.Now())
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

// errorCode is the HTTP status the broker last got, or nil.
func errorCode(e event.Event) *int {
	s := extString(e, extErrorCode)
	if s == nil {
		return nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		return nil
	}
	return &n
}

func extString(e event.Event, name string) *string {
	v, ok := e.Extensions()[name]
	if !ok {
		return nil
	}
	s := fmt.Sprint(v)
	return &s
}
