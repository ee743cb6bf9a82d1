package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/surgekit/surge/shared/stock"
)

// Swept is what one Sweep of a campaign did.
type Swept struct {
	Released []string // claim ids whose units this sweep gave back
	// Unsettled are due claims whose order could not be settled yet (no
	// receipt minted, or settle did not answer): a later sweep tries again.
	Unsettled []string
	// Failed are claims whose release failed; the next sweep tries again.
	Failed []error
}

// Sweep releases up to max claims of a campaign due at now (pay_by ≤
// now): the release driver calls it on every tick. A claim paid meanwhile
// is left paid (the payment won); each release is idempotent, so two
// drivers sweeping at once release each claim once. Claims that stay due
// (unsettled, failed) are stepped over, page by page, so those that
// cannot be released yet never hold back those behind them; a sweep tries
// at most sweepReach × max claims.
func (c *Closer) Sweep(ctx context.Context, campaignID string, now time.Time, max int) (Swept, error) {
	var out Swept
	for left, skipped, tried := 0, 0, 0; left < max && tried < sweepReach*max && ctx.Err() == nil; {
		due, err := c.window.Due(ctx, campaignID, now, skipped, max)
		if err != nil {
			return out, err
		}
		if len(due) == 0 {
			break
		}
		for _, id := range due {
			tried++
			if c.sweepOne(ctx, campaignID, id, now, &out) {
				left++
			} else {
				skipped++
			}
		}
	}
	return out, nil
}

// sweepReach bounds how far past claims it steps over a sweep looks, in
// multiples of its max.
const sweepReach = 8

// sweepOne releases one due claim and reports whether it left the due
// index.
func (c *Closer) sweepOne(ctx context.Context, campaignID, id string, now time.Time, out *Swept) bool {
	f, err := c.Release(ctx, id, now)
	switch {
	case errors.Is(err, stock.ErrNoClaim):
		// the record expired or never was: nothing to give back here;
		// a rebuild from PostgreSQL counts its units
		if err := c.window.Forget(ctx, campaignID, id); err != nil {
			out.Failed = append(out.Failed, err)
			return false
		}
		return true
	case err != nil:
		out.Failed = append(out.Failed, fmt.Errorf("release %s: %w", id, err))
		return false
	case f.Outcome == stock.Released:
		out.Released = append(out.Released, id)
		return true
	case f.Outcome == stock.NotSettled:
		out.Unsettled = append(out.Unsettled, id)
		return false
	}
	// paid meanwhile, or released by another driver: out of the index
	return true
}
