package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// prices reads item prices from the campaign specs in Redis, keeping each
// spec for ttl: prices do not change during a sale, and a hot campaign
// should not cost one more Redis round trip per win.
type prices struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	specs map[string]cachedSpec
}

type cachedSpec struct {
	c       *campaign.Campaign
	expires time.Time
}

func newPrices(rdb redis.UniversalClient, keys keyspace.Space, ttl time.Duration, now func() time.Time) *prices {
	return &prices{rdb: rdb, keys: keys, ttl: ttl, now: now, specs: make(map[string]cachedSpec)}
}

// amount is the price of qty units of sku in campaign id, in cents. An
// unknown SKU or a campaign that is not a sale is poison; a campaign not in
// Redis yet is a conflict (retried: warm-up or reconcile restores it).
func (p *prices) amount(ctx context.Context, id, sku string, qty int) (int64, error) {
	c, err := p.spec(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.Kind != campaign.KindSale {
		return 0, fmt.Errorf("%w: campaign %s is a %s, enqueue prices sales only", fn.ErrPoison, id, c.Kind)
	}
	it, ok := c.Item(sku)
	if !ok {
		return 0, fmt.Errorf("%w: campaign %s has no sku %q", fn.ErrPoison, id, sku)
	}
	return it.Price * int64(qty), nil
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
