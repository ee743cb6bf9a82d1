package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/rain"
	"github.com/surgekit/surge/shared/stock"
)

// prices reads what a win is worth: a sale unit's price from the campaign
// spec in Redis, kept for ttl (prices do not change during a sale, and a
// hot campaign should not cost one more Redis round trip per win), or a
// rain packet's amount from its split (rain.Amounts, read once).
type prices struct {
	rdb     redis.UniversalClient
	keys    keyspace.Space
	ttl     time.Duration
	now     func() time.Time
	packets *rain.Amounts

	mu    sync.Mutex
	specs map[string]cachedSpec
}

type cachedSpec struct {
	c       *campaign.Campaign
	expires time.Time
}

func newPrices(rdb redis.UniversalClient, keys keyspace.Space, ttl time.Duration, now func() time.Time) *prices {
	return &prices{rdb: rdb, keys: keys, ttl: ttl, now: now, packets: rain.NewAmounts(rdb, keys),
		specs: make(map[string]cachedSpec)}
}

// prize is what a reservation won: its amount in cents and its
// campaign's spec.
type prize struct {
	amount int64
	spec   *campaign.Campaign
}

// prize is what reservation d won: the lot's price × qty, or the sum of
// its packets' amounts. A lot the campaign does not have is poison; a
// campaign or split not in Redis yet is a conflict (retried: warm-up or
// reconcile restores it).
func (p *prices) prize(ctx context.Context, d events.ClaimReservedData) (prize, error) {
	c, err := p.spec(ctx, d.CampaignID)
	if err != nil {
		return prize{}, err
	}
	it, ok := c.Lot(d.SKU)
	if !ok {
		return prize{}, fmt.Errorf("%w: campaign %s has no lot %q", fn.ErrPoison, d.CampaignID, d.SKU)
	}
	if !c.UnitPriced() {
		return prize{amount: it.Price * int64(d.Qty), spec: c}, nil
	}
	amount, err := p.packets.Of(ctx, d.CampaignID, ledger.Slots(d.FirstSlot, d.Qty, d.Slots))
	if errors.Is(err, rain.ErrNoPackets) {
		return prize{}, fmt.Errorf("%w: %w", fn.ErrConflict, err)
	}
	if err != nil {
		return prize{}, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	return prize{amount: amount, spec: c}, nil
}

func (p *prices) spec(ctx context.Context, id string) (*campaign.Campaign, error) {
	if c, ok := p.cached(id); ok {
		return c, nil
	}
	c, err := p.load(ctx, id)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.specs[id] = cachedSpec{c: c, expires: p.now().Add(p.ttl)}
	p.mu.Unlock()
	return c, nil
}

func (p *prices) cached(id string) (*campaign.Campaign, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.specs[id]
	if !ok || !p.now().Before(s.expires) {
		delete(p.specs, id)
		return nil, false
	}
	return s.c, true
}

func (p *prices) load(ctx context.Context, id string) (*campaign.Campaign, error) {
	raw, err := p.rdb.HGet(ctx, p.keys.Campaign(id).Meta(), stock.MetaSpec).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: campaign %s has no spec in redis", fn.ErrConflict, id)
	}
	if err != nil {
		return nil, fmt.Errorf("campaign %s spec: %w", id, err)
	}
	var c campaign.Campaign
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fmt.Errorf("%w: campaign %s spec: %v", fn.ErrPoison, id, err)
	}
	return &c, nil
}
