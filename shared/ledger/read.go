package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reader answers what the ledger holds.
type Reader struct{ pool *pgxpool.Pool }

// NewReader returns a Reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

// SettledUnits returns the units settled per SKU of a campaign and not
// released (a released order's units are back in stock).
func (r *Reader) SettledUnits(ctx context.Context, campaignID string) (map[string]int, error) {
	return r.sums(ctx, `SELECT sku, sum(qty)::int FROM orders WHERE campaign_id = $1 AND state <> 'released' GROUP BY sku`, campaignID)
}

// Settled is one settled order as an audit sees it: the claim (token id)
// and the stock slots it holds: Slots when it took slots given back,
// else FirstSlot..FirstSlot+Qty-1 (Slots empty).
type Settled struct {
	TokenID   string
	SKU       string
	FirstSlot int
	Qty       int
	Slots     []int
}

// SlotList is the order's slots, listed.
func (s Settled) SlotList() []int {
	if len(s.Slots) > 0 {
		return s.Slots
	}
	out := make([]int, s.Qty)
	for i := range out {
		out[i] = s.FirstSlot + i
	}
	return out
}

// SettledOrders returns every settled order of a campaign not released, in
// one read.
func (r *Reader) SettledOrders(ctx context.Context, campaignID string) ([]Settled, error) {
	rows, err := r.pool.Query(ctx, `SELECT token_id, sku, first_slot, qty, coalesce(slots, '{}') FROM orders WHERE campaign_id = $1 AND state <> 'released'`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Settled])
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	return out, nil
}

func (r *Reader) sums(ctx context.Context, sql, campaignID string) (map[string]int, error) {
	rows, err := r.pool.Query(ctx, sql, campaignID)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	out := make(map[string]int)
	var key string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error {
		out[key] += n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	return out, nil
}
