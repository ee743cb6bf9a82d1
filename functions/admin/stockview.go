package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/stock"
)

// StockView is the dynamic part of a campaign.
type StockView struct {
	CampaignID string      `json:"campaign_id"`
	State      string      `json:"state"` // upcoming, open, closed or sold_out
	Items      []Remaining `json:"items"`
}

// Remaining is one SKU's units left.
type Remaining struct {
	SKU       string `json:"sku"`
	Remaining int    `json:"remaining"`
}

// stockView: GET /v1/campaigns/{id}/stock (public) → 200 StockView, from
// Redis through a short local cache.
func (f *Function) stockView(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	id := r.PathValue("id")
	v, ok := f.stock.get(id)
	if !ok {
		var err error
		if v, err = f.readStock(ctx, id); err != nil {
			f.fail(w, r, err)
			return
		}
		f.stock.put(id, v)
	}
	w.Header().Set("Cache-Control", "public, max-age=1")
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// readStock builds the view: a SKU whose stock key is missing (not warmed,
// or lost) shows 0, as the pre-deduct script treats it (fail closed).
func (f *Function) readStock(ctx context.Context, id string) (StockView, error) {
	c, err := f.campaign(ctx, id)
	if err != nil {
		return StockView{}, err
	}
	return f.viewOf(ctx, c)
}

// viewOf is campaign c's stock view, read from Redis now.
func (f *Function) viewOf(ctx context.Context, c *campaign.Campaign) (StockView, error) {
	left, _, err := stock.Remaining(ctx, f.d.Redis, f.d.Keys.Campaign(c.ID), skus(c))
	if err != nil {
		return StockView{}, err
	}
	v := StockView{CampaignID: c.ID, Items: make([]Remaining, len(c.Lots()))}
	total := 0
	for i, it := range c.Lots() {
		v.Items[i] = Remaining{SKU: it.SKU, Remaining: left[it.SKU]}
		total += left[it.SKU]
	}
	v.State = state(c, f.d.Now(), total)
	return v, nil
}

func state(c *campaign.Campaign, now time.Time, remaining int) string {
	s := c.State(now)
	if s == "open" && remaining == 0 {
		return "sold_out"
	}
	return s
}

// stockCache keeps each campaign's stock view for a short while, so a
// crowd polling the stock costs Redis a few reads a second per campaign.
type stockCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]stockEntry
}

type stockEntry struct {
	view StockView
	at   time.Time
}

func newStockCache(ttl time.Duration, now func() time.Time) *stockCache {
	return &stockCache{ttl: ttl, now: now, entries: make(map[string]stockEntry)}
}

func (c *stockCache) get(id string) (StockView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return StockView{}, false
	}
	return e.view, true
}

func (c *stockCache) put(id string, v StockView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[id] = stockEntry{view: v, at: c.now()}
}
