package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

// Handle settles one order.queued event. A token that does not verify, or
// that disagrees with its event, is poison (400); a guard violation in the
// ledger too. A Redis failure after the commit is a 500: the broker
// retries and the insert is a no-op the second time. While the operator
// pauses settlement (the pause_settlement switch) every order is answered
// fn.ErrPaused and waits in the broker.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if f.switches.Now().PauseSettlement() {
		return nil, fmt.Errorf("settle: %w by the pause_settlement switch", fn.ErrPaused)
	}
	d, err := events.Decode[events.OrderQueuedData](e, events.TypeOrderQueued)
	if err != nil {
		return nil, err
	}
	r, err := f.verify(d)
	if err != nil {
		return nil, err
	}
	settledAt, err := f.committer.Submit(ctx, orderOf(r))
	if errors.Is(err, ledger.ErrGuard) {
		return nil, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	if errors.Is(err, ledger.ErrContention) {
		return nil, fmt.Errorf("%w: %w", fn.ErrBusy, err)
	}
	if err != nil {
		return nil, err
	}
	if err := f.clear(ctx, r, settledAt); err != nil {
		return nil, err
	}
	f.stats.Settled(d.CampaignID, settledAt.Sub(r.ReservedAt))
	reply := events.OrderSettled(events.OrderSettledData{ClaimID: d.ClaimID, CampaignID: d.CampaignID,
		UserID: d.UserID, OrderNo: d.OrderNo, SettledAt: settledAt.UTC()})
	return &reply, nil
}

// verify checks the token's signature, that it is a win of this plane (a
// shadow win posted as a real event never becomes an order), and that it
// says what the event says, including the deterministic order number.
func (f *Function) verify(d events.OrderQueuedData) (receipt.Receipt, error) {
	r, err := f.cfg.Verifier.Verify(d.Token)
	if err != nil {
		return r, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	switch {
	case r.Shadow != (f.cfg.Plane == plane.Shadow):
		return r, fmt.Errorf("%w: token %s is not of the %v plane", fn.ErrPoison, r.TokenID, f.cfg.Plane)
	case r.TokenID != d.ClaimID, r.OrderNo != d.OrderNo, r.CampaignID != d.CampaignID, r.UserID != d.UserID:
		return r, fmt.Errorf("%w: token %s does not match its event", fn.ErrPoison, r.TokenID)
	case r.OrderNo != receipt.OrderNo(r.CampaignID, r.SKU, r.UserID, r.Seq):
		return r, fmt.Errorf("%w: token %s: order number %q is not campaign:sku:user:seq", fn.ErrPoison, r.TokenID, r.OrderNo)
	}
	return r, nil
}

func orderOf(r receipt.Receipt) ledger.Order {
	return ledger.Order{
		OrderNo: r.OrderNo, TokenID: r.TokenID, CampaignID: r.CampaignID, SKU: r.SKU, UserID: r.UserID,
		Seq: r.Seq, Qty: r.Qty, FirstSlot: r.FirstSlot, Slots: r.Slots, Amount: r.Amount, ReservedAt: r.ReservedAt, PayBy: r.PayBy,
	}
}

// clear removes the settled win from Redis: the claim marked settled and
// its inflight reservation dropped (one script in the campaign's slot),
// then the user's pending token (the user's slot), pipelined with the wins
// settled beside it (sweeper). The claim goes first so that enqueue, which
// adds the pending token before it looks at the claim, sees a settled
// claim whenever it could resurrect the token. Every command is
// idempotent: a retry after a failure sends them all again.
func (f *Function) clear(ctx context.Context, r receipt.Receipt, settledAt time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	return f.sweeper.clear(ctx, r, settledAt)
}
