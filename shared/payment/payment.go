// Package payment ends a reservation's payment window, Redis first and
// PostgreSQL after: a payment or a release is decided in one Redis script
// (stock.Window: the first to run wins), then applied to the order in
// PostgreSQL (ledger.Payments), announced (order.paid, order.released),
// and a release's units are given back in Redis only once PostgreSQL
// freed their slots. A claim still reserved (its order not in PostgreSQL
// yet) is settled first, by calling settle directly. Every step is
// idempotent on the claim's state, so a retry after a crash between steps
// finishes the job.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stock"
)

// Errors of a Closer.
var (
	// ErrNoOrder: a settled claim's record holds no order number.
	ErrNoOrder = errors.New("claim has no order number")
	// ErrNoSettle: the Closer has no settle address (Config.Settle), so it
	// cannot force a settlement.
	ErrNoSettle = errors.New("no settle address")
)

// Sender delivers one event and returns nil only on a 2xx answer
// (fn.Sink).
type Sender interface {
	Send(ctx context.Context, e event.Event) error
}

// Config is what a Closer works with.
type Config struct {
	Redis  redis.UniversalClient
	Keys   keyspace.Space // the plane's key space
	Orders *ledger.Payments
	Plane  plane.Plane // marks what the Closer sends
	// Settle is settle's own address (SURGE_SETTLE_URL): a claim still
	// reserved is settled through it, as its order.queued would be. Nil
	// leaves such a claim NotSettled.
	Settle Sender
	// Announce is the broker (K_SINK), where order.paid and order.released
	// are published, signed with EventKey. Nil announces nothing.
	Announce Sender
	EventKey *eventsig.Key
}

// Closer pays and releases reservations.
type Closer struct {
	cfg    Config
	window *stock.Window
	claims *claim.Store
}

// New returns a Closer.
func New(cfg Config) *Closer {
	return &Closer{cfg: cfg, window: stock.NewWindow(cfg.Redis, cfg.Keys), claims: claim.NewStore(cfg.Redis, cfg.Keys)}
}

// Pay pays a claim under key at now (Redis's clock when zero), settling it
// first if it is still reserved. A payment Redis accepted is recorded in
// PostgreSQL and announced; a retry with the same key (Outcome Replay)
// records and announces it again, idempotently, so a crash in between is
// repaired by the client's retry.
func (c *Closer) Pay(ctx context.Context, claimID, key string, now time.Time) (stock.Fate, error) {
	f, err := c.window.Pay(ctx, claimID, key, now)
	if err == nil && f.Outcome == stock.NotSettled && c.Settle(ctx, claimID) {
		f, err = c.window.Pay(ctx, claimID, key, now)
	}
	if err != nil || (f.Outcome != stock.Paid && f.Outcome != stock.Replay) {
		return f, err
	}
	o, err := c.order(ctx, claimID)
	if err != nil {
		return f, err
	}
	if _, err := c.cfg.Orders.Pay(ctx, o.OrderNo, now); err != nil {
		return f, fmt.Errorf("pay %s: %w", claimID, err)
	}
	o.At = at(now)
	return f, c.announce(ctx, events.OrderPaid(o))
}

// Release releases a claim whose pay_by has passed at now (Redis's clock
// when zero), settling it first if it is still reserved: decided in Redis,
// released in PostgreSQL, announced, given back in Redis. A claim left
// releasing by a crash is finished (and announced again: the event id is
// the claim's, so the broker keeps one). Outcome Released means this call
// gave the units back.
func (c *Closer) Release(ctx context.Context, claimID string, now time.Time) (stock.Fate, error) {
	f, err := c.window.Expire(ctx, claimID, now)
	if err == nil && f.Outcome == stock.NotSettled && c.Settle(ctx, claimID) {
		f, err = c.window.Expire(ctx, claimID, now)
	}
	if err != nil || f.State != claim.Releasing {
		return f, err
	}
	o, err := c.order(ctx, claimID)
	if err != nil {
		return f, err
	}
	if err := c.cfg.Orders.Release(ctx, o.OrderNo, now); err != nil {
		return f, fmt.Errorf("release %s: %w", claimID, err)
	}
	o.At = at(now)
	if err := c.announce(ctx, events.OrderReleased(o)); err != nil {
		return f, err
	}
	f, err = c.window.GiveBack(ctx, claimID, now)
	counted(f, err, metrics.Expired)
	return f, err
}

// Abandon releases a reservation that can never settle (stock.Window.Abandon).
func (c *Closer) Abandon(ctx context.Context, claimID string, now time.Time) (stock.Fate, error) {
	f, err := c.window.Abandon(ctx, claimID, now)
	counted(f, err, metrics.Abandoned)
	return f, err
}

// counted counts a give-back that returned the units (stock.Released:
// this call did, once), for reason.
func counted(f stock.Fate, err error, reason string) {
	if err == nil && f.Outcome == stock.Released {
		metrics.Released(reason)
	}
}

// Settle forces the settlement of a reserved claim whose receipt enqueue
// has minted: its order.queued, as enqueue built it, is sent to settle
// directly. It reports whether settle took it; a claim with no receipt
// yet, or a settle that failed, stays NotSettled (the caller retries).
// Reconcile's repairs use it for a claim stuck reserved.
func (c *Closer) Settle(ctx context.Context, claimID string) bool {
	if c.cfg.Settle == nil {
		return false
	}
	rec, err := c.record(ctx, claimID)
	if err != nil || rec.Token == "" || rec.OrderNo == "" {
		return false
	}
	return c.SettleOrder(ctx, events.OrderQueuedData{ClaimID: claimID, CampaignID: rec.CampaignID, UserID: rec.UserID,
		OrderNo: rec.OrderNo, Token: rec.Token}, time.Now()) == nil
}

// SettleOrder sends order d, as of at, to settle directly: the order.queued
// enqueue would have sent, marked on the Closer's plane. It is the one place
// that event is built outside enqueue, so a forced settlement (a payment, a
// repair, a withdrawal, a presented token) is the event settle expects.
// Settle is idempotent on the order number, so sending it again is safe; a
// refusal is settle's answer (fn.Refused). With no settle address it
// returns ErrNoSettle.
func (c *Closer) SettleOrder(ctx context.Context, d events.OrderQueuedData, at time.Time) error {
	if c.cfg.Settle == nil {
		return ErrNoSettle
	}
	e := events.OrderQueued(d, at)
	plane.Mark(&e, c.cfg.Plane)
	return c.cfg.Settle.Send(ctx, e)
}

// announce marks e on the Closer's plane, signs it and publishes it.
func (c *Closer) announce(ctx context.Context, e event.Event) error {
	if c.cfg.Announce == nil {
		return nil
	}
	plane.Mark(&e, c.cfg.Plane)
	if err := c.cfg.EventKey.Sign(&e); err != nil {
		return err
	}
	if err := c.cfg.Announce.Send(ctx, e); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	return nil
}

// order reads what the claim's record says of its order (enqueue records
// the order number).
func (c *Closer) order(ctx context.Context, claimID string) (events.OrderClosedData, error) {
	rec, err := c.record(ctx, claimID)
	if err != nil {
		return events.OrderClosedData{}, err
	}
	if rec.OrderNo == "" {
		return events.OrderClosedData{}, fmt.Errorf("claim %s: %w", claimID, ErrNoOrder)
	}
	if rec.Qty < 1 {
		return events.OrderClosedData{}, fmt.Errorf("claim %s: qty %d", claimID, rec.Qty)
	}
	return events.OrderClosedData{ClaimID: claimID, CampaignID: rec.CampaignID, UserID: rec.UserID,
		OrderNo: rec.OrderNo, SKU: rec.SKU, Qty: rec.Qty}, nil
}

// record reads the claim's record (claim.Store); none is stock.ErrNoClaim.
func (c *Closer) record(ctx context.Context, claimID string) (claim.Record, error) {
	rec, err := c.claims.Get(ctx, claimID)
	if errors.Is(err, claim.ErrNotFound) {
		return rec, fmt.Errorf("claim %s: %w", claimID, stock.ErrNoClaim)
	}
	return rec, err
}

// at is the time an event reports: now, or the local clock when zero.
func at(now time.Time) time.Time {
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC()
}
