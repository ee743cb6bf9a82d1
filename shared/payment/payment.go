// Package payment ends a reservation's payment window, Redis first and
// PostgreSQL after: a payment or a release is decided in one Redis script
// (stock.Window: the first to run wins), then applied to the order in
// PostgreSQL (ledger.Payments), and a release's units are given back in
// Redis only once PostgreSQL freed their slots. Every step is idempotent
// on the claim's state, so a retry after a crash between steps finishes
// the job.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/stock"
)

// ErrNoOrder: a settled claim's record holds no order number.
var ErrNoOrder = errors.New("claim has no order number")

// Closer pays and releases reservations.
type Closer struct {
	window *stock.Window
	orders *ledger.Payments
	rdb    redis.UniversalClient
	keys   keyspace.Space
}

// New returns a Closer deciding in rdb (key space keys) and recording
// orders with orders.
func New(rdb redis.UniversalClient, keys keyspace.Space, orders *ledger.Payments) *Closer {
	return &Closer{window: stock.NewWindow(rdb, keys), orders: orders, rdb: rdb, keys: keys}
}

// Pay pays a settled claim under key at now (Redis's clock when zero). A
// payment Redis accepted is then recorded in PostgreSQL; a retry with the
// same key (Outcome Replay) records it again, idempotently, so a crash in
// between is repaired by the client's retry.
func (c *Closer) Pay(ctx context.Context, claimID, key string, now time.Time) (stock.Fate, error) {
	f, err := c.window.Pay(ctx, claimID, key, now)
	if err != nil || (f.Outcome != stock.Paid && f.Outcome != stock.Replay) {
		return f, err
	}
	orderNo, err := c.orderNo(ctx, claimID)
	if err != nil {
		return f, err
	}
	if _, err := c.orders.Pay(ctx, orderNo, now); err != nil {
		return f, fmt.Errorf("pay %s: %w", claimID, err)
	}
	return f, nil
}

// Release releases a settled claim whose pay_by has passed at now (Redis's
// clock when zero): decided in Redis, released in PostgreSQL, given back
// in Redis. A claim left releasing by a crash is finished. Outcome
// Released means this call gave the units back.
func (c *Closer) Release(ctx context.Context, claimID string, now time.Time) (stock.Fate, error) {
	f, err := c.window.Expire(ctx, claimID, now)
	if err != nil {
		return f, err
	}
	if f.State != claim.Releasing {
		return f, nil
	}
	orderNo, err := c.orderNo(ctx, claimID)
	if err != nil {
		return f, err
	}
	if err := c.orders.Release(ctx, orderNo, now); err != nil {
		return f, fmt.Errorf("release %s: %w", claimID, err)
	}
	return c.window.GiveBack(ctx, claimID, now)
}

// orderNo reads the claim's order number (enqueue records it).
func (c *Closer) orderNo(ctx context.Context, claimID string) (string, error) {
	campaign, _ := keyspace.CampaignOfClaim(claimID)
	no, err := c.rdb.HGet(ctx, c.keys.Campaign(campaign).Claim(claimID), claim.FieldOrderNo).Result()
	if errors.Is(err, redis.Nil) || (err == nil && no == "") {
		return "", fmt.Errorf("claim %s: %w", claimID, ErrNoOrder)
	}
	if err != nil {
		return "", fmt.Errorf("claim %s: %w", claimID, err)
	}
	return no, nil
}
