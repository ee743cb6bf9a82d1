package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/rain"
	"github.com/surgekit/surge/shared/stock"
)

// Rebuild is what a pass did about a campaign whose Redis state was lost
// or behind PostgreSQL.
type Rebuild struct {
	Reason  string         `json:"reason"`            // why: what the pass found
	Done    bool           `json:"done"`              // rebuilt by this pass
	Skipped string         `json:"skipped,omitempty"` // why not (another instance holds the lease)
	Drained time.Duration  `json:"drained_ns"`        // how long it waited for the broker to drain
	Result  *stock.Rebuilt `json:"result,omitempty"`
}

// rebuildReason says why campaign c's Redis state must be rebuilt from
// PostgreSQL, "" when it need not. Only a campaign ever warmed up can be
// lost (before, missing keys only mean not warmed yet). Lost: its meta
// hash or a stock key is missing. Behind: PostgreSQL holds a live order
// whose claim Redis has no record of; Redis records every decision before
// PostgreSQL does, so Redis lost writes (a restart from an old AOF, a
// failover). Claim records expire after claim.TTL, so that check stops a
// TTL after the campaign's end.
func (f *Function) rebuildReason(ctx context.Context, c *campaign.Campaign, s snapshot, orders []ledger.Settled) (string, error) {
	warmed, err := f.campaigns.Warmed(ctx, c.ID)
	if err != nil || !warmed {
		return "", err
	}
	if !s.meta {
		return "the campaign's meta hash is missing from Redis", nil
	}
	for _, it := range c.Lots() {
		if _, ok := s.remaining[it.SKU]; !ok {
			return "the stock key of " + it.SKU + " is missing from Redis", nil
		}
	}
	if c.UnitPriced() && !s.packets {
		return "the rain's packets are missing from Redis", nil
	}
	if f.cfg.Now().After(c.EndsAt.Add(claim.TTL)) || len(orders) == 0 {
		return "", nil
	}
	keys := f.cfg.Keys.Campaign(c.ID)
	exists := make([]*redis.IntCmd, len(orders))
	if _, err := f.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, o := range orders {
			exists[i] = p.Exists(ctx, keys.Claim(o.TokenID))
		}
		return nil
	}); err != nil {
		return "", fmt.Errorf("campaign %s claims: %w", c.ID, err)
	}
	unknown := 0
	for _, e := range exists {
		if e.Val() == 0 {
			unknown++
		}
	}
	if unknown > 0 {
		return strconv.Itoa(unknown) + " orders in PostgreSQL have no claim record in Redis", nil
	}
	return "", nil
}

// rebuildNeed reads campaign c's Redis snapshot and live orders again and
// says why it must be rebuilt ("" when it need not).
func (f *Function) rebuildNeed(ctx context.Context, c *campaign.Campaign) (string, error) {
	s, err := readSnapshot(ctx, f.cfg.Redis, f.cfg.Keys.Campaign(c.ID), sortedKeys(stockOf(c)))
	if err != nil {
		return "", err
	}
	orders, err := f.ledger.SettledOrders(ctx, c.ID)
	if err != nil {
		return "", err
	}
	return f.rebuildReason(ctx, c, s, orders)
}

// rebuild rebuilds campaign c from PostgreSQL, under the campaign's lease:
// fence (its stock keys deleted, so every click is sold out: fail
// closed), drain (wait until PostgreSQL's order count has not moved for
// RebuildQuiet: what the broker held has settled), then stock.Rebuild.
func (f *Function) rebuild(ctx context.Context, c *campaign.Campaign, reason string) (*Rebuild, error) {
	out := &Rebuild{Reason: reason}
	keys := f.cfg.Keys.Campaign(c.ID)
	lease, err := f.lease(ctx, keys.RebuildLease())
	if errors.Is(err, errLeaseHeld) {
		out.Skipped = "another reconcile instance holds the rebuild lease"
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer lease.release()
	// the state may have changed while the lease was taken: a rebuild
	// that just finished leaves nothing to do
	if reason, err = f.rebuildNeed(ctx, c); err != nil || reason == "" {
		out.Skipped = rebuiltMeanwhile
		return out, err
	}
	out.Reason = reason
	stockKeys := make([]string, len(c.Lots()))
	for i, it := range c.Lots() {
		stockKeys[i] = keys.Stock(it.SKU)
	}
	if err := f.cfg.Redis.Del(ctx, stockKeys...).Err(); err != nil {
		return nil, fmt.Errorf("fence %s: %w", c.ID, err)
	}
	started := f.cfg.Now()
	if err := f.drain(ctx, c.ID); err != nil {
		return nil, err
	}
	out.Drained = f.cfg.Now().Sub(started)
	orders, err := f.ledger.Orders(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if err := f.reloadPackets(ctx, c); err != nil {
		return nil, err
	}
	res, err := stock.Rebuild(ctx, f.cfg.Redis, f.cfg.Keys, c, orders, f.cfg.Now())
	if err != nil {
		return nil, err
	}
	out.Done, out.Result = true, &res
	f.cfg.Log.Warn("rebuilt from PostgreSQL", "campaign_id", c.ID, "reason", reason, "orders", res.Orders,
		"remaining", fmt.Sprint(res.Remaining), "lost", len(res.Lost), "drained", out.Drained.String())
	return out, nil
}

// drain waits until the campaign's order count in PostgreSQL stays the
// same for RebuildQuiet: what was in flight in the broker (reservations
// on their way to settle) has settled. On Knative there is no API that
// says a broker is empty for one campaign; a quiet period longer than a
// delivery's retries is what is known.
func (f *Function) drain(ctx context.Context, campaignID string) error {
	last := -1
	for {
		n, err := f.ledger.OrderCount(ctx, campaignID)
		if err != nil {
			return err
		}
		if n == last {
			return nil
		}
		last = n
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain %s: %w", campaignID, ctx.Err())
		case <-time.After(f.cfg.RebuildQuiet):
		}
	}
}

// rebuiltMeanwhile: another pass rebuilt the campaign while this one
// waited for the lease.
const rebuiltMeanwhile = "rebuilt meanwhile by another pass"

// errLeaseHeld: another holder has the lease.
var errLeaseHeld = errors.New("lease held")

// leaseTTL bounds a lease whose holder died mid-rebuild.
const leaseTTL = 5 * time.Minute

type lease struct {
	rdb   redis.UniversalClient
	key   string
	token string
}

// releaseLua deletes the lease only if it is still the holder's.
var releaseLua = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// lease takes key for this instance (SET NX PX), or errLeaseHeld.
func (f *Function) lease(ctx context.Context, key string) (*lease, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	l := &lease{rdb: f.cfg.Redis, key: key, token: hex.EncodeToString(b)}
	ok, err := f.cfg.Redis.SetNX(ctx, key, l.token, leaseTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", key, err)
	}
	if !ok {
		return nil, errLeaseHeld
	}
	return l, nil
}

func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = releaseLua.Run(ctx, l.rdb, []string{l.key}, l.token).Err()
}

// rebuildAlert is the alert of a rebuild this pass made.
func rebuildAlert(r Report, c CampaignReport) events.AlertRaisedData {
	return events.AlertRaisedData{Severity: events.SeverityWarning, Kind: events.AlertRebuild, CampaignID: c.ID, Ref: r.Key,
		What:   "Redis was rebuilt from PostgreSQL: " + c.Rebuild.Reason,
		Action: "find out why Redis lost the campaign's state (a restart without its AOF, a failover, a FLUSHALL); the sale goes on from PostgreSQL's figures"}
}

// reloadPackets puts a rain's split back into Redis from PostgreSQL (the
// split recorded at its first warm-up) before its stock comes back, so no
// packet is handed out without its amount.
func (f *Function) reloadPackets(ctx context.Context, c *campaign.Campaign) error {
	if !c.UnitPriced() {
		return nil
	}
	amounts, err := rain.Split(ctx, f.cfg.Postgres, c)
	if err != nil {
		return err
	}
	_, err = rain.Load(ctx, f.cfg.Redis, f.cfg.Keys.Campaign(c.ID), amounts)
	return err
}
