package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stats"
	"github.com/surgekit/surge/shared/stock"
)

// Handle decides one claim.requested event and replies claim.reserved or
// claim.rejected, signed. A redelivered event gets the recorded decision
// back (same reply id); a claim already settled or released is done (no
// reply), and so is one captcha refused (nothing changed: its client was
// told 503). An event captcha did not sign is poison and changes nothing.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if err := f.cfg.EventKey.Verify(e); err != nil {
		return nil, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	d, err := events.Decode[events.ClaimRequestedData](e, events.TypeClaimRequested)
	if err != nil {
		return nil, err
	}
	c := f.clients.Load()
	if c == nil {
		return nil, errNotStarted
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	now := f.now()
	dec, err := c.deducter.Deduct(ctx, request(d, now))
	if errors.Is(err, stock.ErrBadRequest) {
		return nil, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	if err != nil {
		return nil, err
	}
	count(c.stats, d, dec, now)
	if dec.New { // a redelivery gets the recorded decision back: counted once
		metrics.Claim(dec.State, dec.Reason)
	}
	if dec.State == claim.Rejected {
		fn.SetOutcome(ctx, dec.Reason) // the line says sold_out, not claim.rejected
	}
	return f.signed(reply(d, dec, now))
}

// signed marks a reply with this function's plane and signs it, so enqueue
// knows a claim.reserved came from here; the mark goes on first, as the
// signature covers it.
func (f *Function) signed(e *event.Event) (*event.Event, error) {
	if e == nil {
		return nil, nil
	}
	plane.Mark(e, f.cfg.Plane)
	if err := f.cfg.EventKey.Sign(e); err != nil {
		return nil, err
	}
	return e, nil
}

func request(d events.ClaimRequestedData, now time.Time) stock.Request {
	return stock.Request{
		ClaimID: d.ClaimID, CampaignID: d.CampaignID, UserID: d.UserID,
		SKU: d.SKU, Qty: d.Qty, Now: now, RequestedAt: d.RequestedAt,
	}
}

// count adds a decision to the campaign's statistics: a win or a failure
// by its reason, taken so long after the click. A claim decided before
// (settled, released, refused by captcha) is not counted again.
func count(s *stats.Counter, d events.ClaimRequestedData, dec stock.Decision, now time.Time) {
	switch dec.State {
	case claim.Reserved:
		s.Decided(d.CampaignID, "", now.Sub(d.RequestedAt))
	case claim.Rejected:
		s.Decided(d.CampaignID, dec.Reason, now.Sub(d.RequestedAt))
	}
}

// reply turns a decision into the event that continues the chain.
func reply(d events.ClaimRequestedData, dec stock.Decision, now time.Time) *event.Event {
	var e event.Event
	switch dec.State {
	case claim.Reserved:
		e = events.ClaimReserved(events.ClaimReservedData{
			ClaimID: d.ClaimID, CampaignID: d.CampaignID, UserID: d.UserID, SKU: d.SKU, Qty: d.Qty,
			Seq: dec.Seq, FirstSlot: dec.FirstSlot, Slots: dec.Slots, ReservedAt: dec.ReservedAt, PayBy: dec.PayBy,
		})
	case claim.Rejected:
		e = events.ClaimRejected(events.ClaimRejectedData{
			ClaimID: d.ClaimID, CampaignID: d.CampaignID, UserID: d.UserID, Reason: dec.Reason,
		}, now)
	default:
		return nil
	}
	return &e
}
