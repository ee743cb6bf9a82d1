package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/stock"
)

// Warmed is the answer to a warm-up: the remaining units per SKU in Redis.
type Warmed struct {
	CampaignID string         `json:"campaign_id"`
	Stock      map[string]int `json:"stock"`
}

// warmup: POST /v1/campaigns/{id}/warmup (admin) → 200 Warmed. Stock keys
// already in Redis are left alone, so a second warm-up never resets stock.
func (f *Function) warmup(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	out, err := f.warm(ctx, r.PathValue("id"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (f *Function) warm(ctx context.Context, id string) (Warmed, error) {
	c, err := f.campaign(ctx, id)
	if err != nil {
		return Warmed{}, err
	}
	if c.Kind != campaign.KindSale {
		return Warmed{}, httpapi.Errorf(http.StatusNotImplemented, "not_implemented", "warming a %s campaign is not implemented yet", c.Kind)
	}
	done, err := settledUnits(ctx, f.d.Pool, c.ID)
	if err != nil {
		return Warmed{}, err
	}
	keys := f.d.Keys.Campaign(c.ID)
	if err := stock.Warm(ctx, f.d.Redis, keys, c, done); err != nil {
		return Warmed{}, err
	}
	left, _, err := stock.Remaining(ctx, f.d.Redis, keys, skus(c))
	if err != nil {
		return Warmed{}, err
	}
	return Warmed{CampaignID: c.ID, Stock: left}, nil
}

// settledUnits sums the units of c's settled orders per SKU.
func settledUnits(ctx context.Context, pool *pgxpool.Pool, campaignID string) (map[string]int, error) {
	rows, err := pool.Query(ctx, `SELECT sku, sum(qty)::int FROM orders WHERE campaign_id = $1 GROUP BY sku`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("settled units of %s: %w", campaignID, err)
	}
	out := make(map[string]int)
	var sku string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&sku, &n}, func() error {
		out[sku] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settled units of %s: %w", campaignID, err)
	}
	return out, nil
}

func skus(c *campaign.Campaign) []string {
	out := make([]string, len(c.Items))
	for i, it := range c.Items {
		out[i] = it.SKU
	}
	return out
}
