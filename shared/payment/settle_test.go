package payment_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/payment"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
)

// settleStandIn does to an order.queued what settle does (the order into
// PostgreSQL, the claim settled in Redis), for the orders the test
// reserved, and counts its calls.
type settleStandIn struct {
	f      *fixture
	mu     sync.Mutex
	orders map[string]ledger.Order // claim id → the order its receipt says
	calls  map[string]int
}

func (s *settleStandIn) Send(ctx context.Context, e event.Event) error {
	d, err := events.Decode[events.OrderQueuedData](e, events.TypeOrderQueued)
	if err != nil {
		return err
	}
	s.mu.Lock()
	o, calls := s.orders[d.ClaimID], s.calls
	calls[d.ClaimID]++
	s.mu.Unlock()
	if _, err := s.f.ledger.Submit(ctx, o); err != nil {
		return err
	}
	return s.f.rdb.HSet(ctx, s.f.keys.Campaign(s.f.c.ID).Claim(d.ClaimID), claim.FieldState, claim.Settled).Err()
}

// reserve takes one unit for user at now and records its receipt on the
// claim, as enqueue does, without settling it.
func (s *settleStandIn) reserve(t *testing.T, user string, now time.Time, minted bool) (string, stock.Decision) {
	t.Helper()
	ctx := context.Background()
	f := s.f
	id := keyspace.ClaimID(f.c.ID, user)
	d, err := stock.NewDeducter(f.rdb, f.keys).Deduct(ctx, stock.Request{ClaimID: id, CampaignID: f.c.ID, UserID: user, SKU: "phone", Qty: 1, Now: now})
	if err != nil || d.State != claim.Reserved {
		t.Fatalf("deduct %s: %+v, %v; want reserved", user, d, err)
	}
	no := receipt.OrderNo(f.c.ID, "phone", user, d.Seq)
	s.mu.Lock()
	s.orders[id] = ledger.Order{OrderNo: no, TokenID: id, CampaignID: f.c.ID, SKU: "phone", UserID: user,
		Seq: d.Seq, Qty: 1, FirstSlot: d.FirstSlot, Slots: d.Slots, Amount: 100, ReservedAt: d.ReservedAt, PayBy: d.PayBy}
	s.mu.Unlock()
	if minted {
		if err := f.rdb.HSet(ctx, f.keys.Campaign(f.c.ID).Claim(id), claim.FieldOrderNo, no, claim.FieldToken, "receipt-of-"+user).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return id, d
}

// TestForcedSettlement: a payment, and a release at the deadline, of a
// claim still reserved (its order not in PostgreSQL yet) settle it first
// through settle's own address, then pay or release it, and announce
// order.paid / order.released, signed, with ids of the claim. A claim
// whose receipt is not minted yet cannot be settled: NotSettled, nothing
// sent.
func TestForcedSettlement(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10, 1)
	key := eventsigtest.Key(t)
	broker := fntest.NewBroker(t)
	settle := &settleStandIn{f: f, orders: map[string]ledger.Order{}, calls: map[string]int{}}
	closer := payment.New(payment.Config{Redis: f.rdb, Keys: f.keys, Orders: ledger.NewPayments(f.pool),
		Settle: settle, Announce: broker.Sink, EventKey: key})

	payer, d := settle.reserve(t, "payer", start, true)
	late, _ := settle.reserve(t, "late", start, true)
	unminted, _ := settle.reserve(t, "unminted", start, false)
	if got, err := closer.Pay(ctx, payer, "k", d.PayBy.Add(-time.Second)); err != nil || got.Outcome != stock.Paid {
		t.Fatalf("Pay of a reserved claim = %+v, %v; want paid", got, err)
	}
	if got, err := closer.Release(ctx, late, d.PayBy); err != nil || got.Outcome != stock.Released {
		t.Fatalf("Release of a reserved claim at its deadline = %+v, %v; want released", got, err)
	}
	if got, err := closer.Pay(ctx, unminted, "k", d.PayBy.Add(-time.Second)); err != nil || got.Outcome != stock.NotSettled {
		t.Errorf("Pay of a claim with no receipt = %+v, %v; want not settled", got, err)
	}
	if want := map[string]int{payer: 1, late: 1}; len(settle.calls) != 2 || settle.calls[payer] != 1 || settle.calls[late] != 1 {
		t.Errorf("settle called %v; want %v", settle.calls, want)
	}
	for state, want := range map[string]int{"paid": 1, "released": 1} {
		if got := f.count(t, `SELECT count(*) FROM orders WHERE state = '`+state+`'`); got != want {
			t.Errorf("%s orders = %d; want %d", state, got, want)
		}
	}
	got := map[string]string{}
	for _, e := range broker.Events() {
		if err := key.Verify(e); err != nil {
			t.Errorf("%s %s: %v", e.Type(), e.ID(), err)
		}
		d, err := events.Decode[events.OrderClosedData](e, e.Type())
		if err != nil || d.Qty != 1 || d.UserID == "" {
			t.Errorf("%s %s: %+v, %v", e.Type(), e.ID(), d, err)
		}
		got[e.ID()] = e.Type()
	}
	want := map[string]string{payer + "/paid": events.TypeOrderPaid, late + "/released": events.TypeOrderReleased}
	if len(got) != len(want) || got[payer+"/paid"] != want[payer+"/paid"] || got[late+"/released"] != want[late+"/released"] {
		t.Errorf("announced %v; want %v", got, want)
	}
}

// TestSweepStepsOverUnsettled: more due claims that cannot be settled yet
// than one page of a sweep, before one that can: the sweep still
// releases it.
func TestSweepStepsOverUnsettled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10, 1)
	settle := &settleStandIn{f: f, orders: map[string]ledger.Order{}, calls: map[string]int{}}
	closer := payment.New(payment.Config{Redis: f.rdb, Keys: f.keys, Orders: ledger.NewPayments(f.pool), Settle: settle})
	var d stock.Decision
	for _, u := range []string{"stuck1", "stuck2", "stuck3"} {
		_, d = settle.reserve(t, u, start, false)
	}
	ready, _ := f.win(t, "ready", start.Add(time.Millisecond))
	got, err := closer.Sweep(ctx, f.c.ID, d.PayBy.Add(time.Second), 2)
	if err != nil || len(got.Failed) != 0 {
		t.Fatalf("Sweep = %+v, %v", got, err)
	}
	if len(got.Released) != 1 || got.Released[0] != ready || len(got.Unsettled) != 3 {
		t.Errorf("one sweep of 2 released %v, unsettled %v; want [%s] and the 3 others", got.Released, got.Unsettled, ready)
	}
	got, _ = closer.Sweep(ctx, f.c.ID, d.PayBy.Add(time.Second), 10)
	if len(got.Released) != 0 || len(got.Unsettled) != 3 {
		t.Errorf("the next sweep released %v, unsettled %v; want none and all 3", got.Released, got.Unsettled)
	}
}
