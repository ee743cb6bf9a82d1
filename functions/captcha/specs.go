package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// errNoCampaign: the campaign is not in Redis (never created, or not warmed).
var errNoCampaign = httpapi.Errorf(http.StatusNotFound, "campaign_not_found", "no such campaign (or not warmed up yet)")

// errCampaignLost: a campaign this instance served is gone from Redis
// (Redis lost its state): it fails closed until reconcile rebuilds it.
var errCampaignLost = httpapi.Errorf(http.StatusServiceUnavailable, "campaign_unavailable",
	"the campaign's state is being rebuilt; retry").WithRetryAfter(time.Second)

// specCache keeps each campaign's spec, read from the Redis meta hash, for
// a short while: clicks in a flash sale all read the same few specs. Only
// found campaigns are cached, so a campaign is served as soon as it is warm.
type specCache struct {
	rdb     redis.UniversalClient
	keys    keyspace.Space
	ttl     time.Duration
	timeout time.Duration // of one read from Redis
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]specEntry
}

type specEntry struct {
	spec *campaign.Campaign
	at   time.Time
}

func newSpecCache(rdb redis.UniversalClient, keys keyspace.Space, ttl, timeout time.Duration, now func() time.Time) *specCache {
	return &specCache{rdb: rdb, keys: keys, ttl: ttl, timeout: timeout, now: now, entries: make(map[string]specEntry)}
}

// Get returns the spec of campaign id, or errNoCampaign; errCampaignLost
// for one this instance served before that Redis no longer holds.
func (c *specCache) Get(ctx context.Context, id string) (*campaign.Campaign, error) {
	if !campaign.ValidID(id) {
		return nil, errNoCampaign
	}
	if spec, ok := c.cached(id); ok {
		return spec, nil
	}
	spec, err := c.load(ctx, id)
	if errors.Is(err, errNoCampaign) && c.served(id) {
		return nil, errCampaignLost
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[id] = specEntry{spec: spec, at: c.now()}
	c.mu.Unlock()
	return spec, nil
}

func (c *specCache) cached(id string) (*campaign.Campaign, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return nil, false
	}
	return e.spec, true
}

// served reports whether this instance ever found campaign id.
func (c *specCache) served(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[id]
	return ok
}

func (c *specCache) load(ctx context.Context, id string) (*campaign.Campaign, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	raw, err := c.rdb.HGet(ctx, c.keys.Campaign(id).Meta(), stock.MetaSpec).Result()
	if errors.Is(err, redis.Nil) {
		return nil, errNoCampaign
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign %s: %w", id, err)
	}
	var spec campaign.Campaign
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return nil, fmt.Errorf("campaign %s spec: %w", id, err)
	}
	return &spec, nil
}
