package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/budget"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

// Config is what the enqueue function needs; zero durations get defaults.
type Config struct {
	Plane  plane.Plane // whose state Keys is; its receipts say so
	Redis  redis.UniversalClient
	Keys   keyspace.Space
	Signer *receipt.Signer
	// EventKey (SURGE_EVENT_KEY) proves a claim.reserved was signed by
	// prededuct: anything else would mint a receipt for a unit nobody
	// reserved.
	EventKey *eventsig.Key
	Timeout  time.Duration    // deadline of one event's Redis work, 2s by default
	SpecTTL  time.Duration    // how long a campaign spec is cached, 5s by default
	Now      func() time.Time // time.Now by default
	// Alerts is the broker (K_SINK), where a rain's budget.low is
	// published; nil announces nothing (the total is still kept).
	Alerts Sender
	// BudgetFlush is how often the money issued is added to Redis, 1s by
	// default (package budget).
	BudgetFlush time.Duration
}

// Sender delivers one event and returns nil only on a 2xx answer
// (fn.Sink).
type Sender interface {
	Send(ctx context.Context, e event.Event) error
}

func (c *Config) defaults() error {
	if c.Redis == nil || c.Signer == nil || c.EventKey == nil {
		return errors.New("enqueue: Redis, Signer and EventKey are required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.SpecTTL <= 0 {
		c.SpecTTL = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.BudgetFlush <= 0 {
		c.BudgetFlush = time.Second
	}
	return nil
}

// Function turns a reservation into a signed receipt token: it mints the
// token, puts it on the user's pending list, records it on the claim and
// replies order.queued for settle. Every step is idempotent, so a
// redelivered reservation changes nothing and gets the identical reply.
type Function struct {
	cfg     Config
	claims  *claim.Store
	pending *pending.Store
	prices  *prices
	issued  *budget.Counter // money issued by rains, flushed by Start's loop

	stopFlush context.CancelFunc // set by Start
	flushDone chan struct{}
}

// New returns the enqueue function.
func New(cfg Config) (*Function, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	f := &Function{
		cfg:     cfg,
		claims:  claim.NewStore(cfg.Redis, cfg.Keys),
		pending: pending.NewStore(cfg.Redis, cfg.Keys),
		prices:  newPrices(cfg.Redis, cfg.Keys, cfg.SpecTTL, cfg.Now),
	}
	f.issued = budget.New(cfg.Redis, cfg.Keys, f.announce)
	return f, nil
}

// Start runs the flush of the money issued.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	ctx, f.stopFlush = context.WithCancel(context.WithoutCancel(ctx))
	f.flushDone = make(chan struct{})
	go func() { defer close(f.flushDone); f.issued.Run(ctx, f.cfg.BudgetFlush) }()
	return nil
}

// Stop flushes what is counted and stops the flush.
func (f *Function) Stop(context.Context) error {
	if f.stopFlush != nil {
		f.stopFlush()
		<-f.flushDone
	}
	return nil
}

// announce publishes a rain's budget.low on the function's plane.
func (f *Function) announce(ctx context.Context, d events.BudgetLowData) error {
	if f.cfg.Alerts == nil {
		return nil
	}
	e := events.BudgetLow(d)
	plane.Mark(&e, f.cfg.Plane)
	return f.cfg.Alerts.Send(ctx, e)
}

// Ready answers true while Redis answers.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Redis.Ping(ctx).Err(); err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	return true, nil
}

// Handle mints and records the receipt of one claim.reserved event. An
// event prededuct did not sign is poison and changes nothing.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if err := f.cfg.EventKey.Verify(e); err != nil {
		return nil, fmt.Errorf("%w: %w", fn.ErrPoison, err)
	}
	d, err := events.Decode[events.ClaimReservedData](e, events.TypeClaimReserved)
	if err != nil {
		return nil, err
	}
	if err := check(d); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	token, orderNo, p, err := f.mint(ctx, d)
	if err != nil {
		return nil, err
	}
	fresh, err := f.record(ctx, d, orderNo, token)
	if err != nil {
		return nil, err
	}
	if fresh {
		metrics.Queued()
	}
	if fresh && p.spec.UnitPriced() {
		f.issued.Add(d.CampaignID, p.spec.Budget, p.amount)
	}
	reply := events.OrderQueued(events.OrderQueuedData{
		ClaimID: d.ClaimID, CampaignID: d.CampaignID, UserID: d.UserID, OrderNo: orderNo, Token: token,
	}, d.ReservedAt)
	return &reply, nil
}

// check rejects what Decode lets through but no receipt can be made of.
func check(d events.ClaimReservedData) error {
	if c, ok := keyspace.CampaignOfClaim(d.ClaimID); !ok || c != d.CampaignID {
		return fmt.Errorf("%w: claim %s is not of campaign %s", events.ErrInvalid, d.ClaimID, d.CampaignID)
	}
	if d.ReservedAt.IsZero() || d.PayBy.IsZero() {
		return fmt.Errorf("%w: reserved_at and pay_by are required", events.ErrInvalid)
	}
	return nil
}

// mint builds and signs the receipt: the same reservation always gives the
// same order number and the byte-identical token.
func (f *Function) mint(ctx context.Context, d events.ClaimReservedData) (token, orderNo string, p prize, err error) {
	p, err = f.prices.prize(ctx, d)
	if err != nil {
		return "", "", p, err
	}
	var kind string
	if p.spec.Kind != campaign.KindSale {
		kind = p.spec.Kind
	}
	orderNo = receipt.OrderNo(d.CampaignID, d.SKU, d.UserID, d.Seq)
	token, err = f.cfg.Signer.Sign(receipt.Receipt{
		TokenID: d.ClaimID, OrderNo: orderNo, CampaignID: d.CampaignID, SKU: d.SKU, UserID: d.UserID,
		Qty: d.Qty, Seq: d.Seq, FirstSlot: d.FirstSlot, Slots: d.Slots, Amount: p.amount,
		ReservedAt: d.ReservedAt, PayBy: d.PayBy, Shadow: f.cfg.Plane == plane.Shadow, Kind: kind,
	})
	if err != nil {
		return "", "", p, fmt.Errorf("%w: %v", events.ErrInvalid, err)
	}
	return token, orderNo, p, nil
}

// record puts the token on the user's pending list, then on the claim, in
// one round trip: the pending add and the claim's queue script go in one
// pipeline, in that order, so a client that sees the order number on its
// claim finds the order pending. A claim already final (settled, released)
// is left alone, and a pending entry this call added for it is removed
// again (a second round trip, on a late redelivery only): re-adding its
// token would resurrect a pending entry settle has removed. Settle marks
// the claim settled before it removes the pending entry, so on one Redis
// server one of the two always sees the other (on a cluster the two keys
// live on different nodes and a race as narrow as before remains). fresh
// reports that this call put the win on the pending list: its first
// delivery, the one that counts its money as issued.
func (f *Function) record(ctx context.Context, d events.ClaimReservedData, orderNo, token string) (fresh bool, err error) {
	var adds []*redis.BoolCmd // one per send: the pipeline is sent again on NOSCRIPT
	q, err := f.claims.Queue(ctx, d.ClaimID, orderNo, token, f.cfg.Now(), func(p redis.Pipeliner) {
		adds = append(adds, f.pending.AddIn(ctx, p, d.UserID, orderNo, token))
	})
	if err != nil {
		return false, fmt.Errorf("record %s: %w", orderNo, err)
	}
	if claim.Final(q.Prior) {
		if added(adds) {
			return false, f.pending.Remove(ctx, d.UserID, orderNo)
		}
		return false, nil
	}
	return added(adds), nil
}

// added reports whether any of the pending adds wrote the entry.
func added(adds []*redis.BoolCmd) bool {
	for _, c := range adds {
		if c.Val() {
			return true
		}
	}
	return false
}
