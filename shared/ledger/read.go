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

// SettledUnits returns the units settled per SKU of a campaign.
func (r *Reader) SettledUnits(ctx context.Context, campaignID string) (map[string]int, error) {
	return r.sums(ctx, `SELECT sku, sum(qty)::int FROM orders WHERE campaign_id = $1 GROUP BY sku`, campaignID)
}

// SettledClaims returns the units settled per claim (token id) of a
// campaign.
func (r *Reader) SettledClaims(ctx context.Context, campaignID string) (map[string]int, error) {
	return r.sums(ctx, `SELECT token_id, qty FROM orders WHERE campaign_id = $1`, campaignID)
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
