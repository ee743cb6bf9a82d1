package ledger

import (
	"context"
	"fmt"
	"time"

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
func (s Settled) SlotList() []int { return Slots(s.FirstSlot, s.Qty, s.Slots) }

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

// Recorded is an order as PostgreSQL holds it, in any state: what a
// rebuild of Redis starts from.
type Recorded struct {
	OrderNo    string
	TokenID    string
	SKU        string
	UserID     string
	State      string // reserved (settled, unpaid), paid, released
	Seq        int
	Qty        int
	FirstSlot  int
	Slots      []int // empty for FirstSlot..FirstSlot+Qty-1
	ReservedAt time.Time
	PayBy      time.Time
}

// Live reports whether the order still holds its units.
func (o Recorded) Live() bool { return o.State != StateReleased }

// SlotList is the order's slots, listed.
func (o Recorded) SlotList() []int { return Slots(o.FirstSlot, o.Qty, o.Slots) }

// Orders returns every order of a campaign, released ones too, in one read.
func (r *Reader) Orders(ctx context.Context, campaignID string) ([]Recorded, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT order_no, token_id, sku, user_id, state, seq, qty, first_slot, coalesce(slots, '{}'), reserved_at, pay_by
		FROM orders WHERE campaign_id = $1 ORDER BY order_no`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Recorded])
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	return out, nil
}

// OrderCount counts a campaign's orders: what a rebuild watches to know
// the broker has drained into PostgreSQL.
func (r *Reader) OrderCount(ctx context.Context, campaignID string) (int, error) {
	var n int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE campaign_id = $1`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("ledger %s: %w", campaignID, err)
	}
	return n, nil
}
