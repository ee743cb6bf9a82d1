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
	// Unsettled are due claims whose order is not in PostgreSQL yet: a
	// later sweep releases them once settled (forcing settlement is not
	// built yet).
	Unsettled []string
	// Failed are claims whose release failed; the next sweep tries again.
	Failed []error
}

// Sweep releases up to max claims of a campaign due at now (pay_by ≤
// now): the release driver calls it on every tick. A claim paid meanwhile
// is left paid (the payment won); each release is idempotent, so two
// drivers sweeping at once release each claim once.
func (c *Closer) Sweep(ctx context.Context, campaignID string, now time.Time, max int) (Swept, error) {
	var out Swept
	due, err := c.window.Due(ctx, campaignID, now, max)
	if err != nil {
		return out, err
	}
	for _, id := range due {
		f, err := c.Release(ctx, id, now)
		switch {
		case errors.Is(err, stock.ErrNoClaim):
			// the record expired or never was: nothing to give back
			// here; a rebuild from PostgreSQL counts its units
			if err := c.window.Forget(ctx, campaignID, id); err != nil {
				out.Failed = append(out.Failed, err)
			}
		case err != nil:
			out.Failed = append(out.Failed, fmt.Errorf("release %s: %w", id, err))
		case f.Outcome == stock.Released:
			out.Released = append(out.Released, id)
		case f.Outcome == stock.NotSettled:
			out.Unsettled = append(out.Unsettled, id)
		}
	}
	return out, nil
}
