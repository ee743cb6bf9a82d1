package main

import (
	"context"
	"net/http"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/ledger"
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
	done, err := ledger.NewReader(f.d.Pool).SettledUnits(ctx, c.ID)
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

func skus(c *campaign.Campaign) []string {
	out := make([]string, len(c.Items))
	for i, it := range c.Items {
		out[i] = it.SKU
	}
	return out
}
