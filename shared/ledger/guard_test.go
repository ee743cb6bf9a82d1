package ledger_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/ledger"
)

// TestGuards submits one bad order in the same batch as good ones: the
// bad one gets ErrGuard and leaves no row, the good ones commit. Stock is
// 10 and the per-user limit 2; "held" already owns slots 1..2.
func TestGuards(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  ledger.Order
	}{
		{"units over limit", order("held", 2, 5, 1)},
		{"qty over limit", order("greedy", 1, 5, 3)},
		{"slot over stock", order("late", 1, 10, 2)},
		{"slot taken by another order", order("liar", 1, 2, 1)},
		{"order number reused with another token", withToken(order("held", 1, 7, 1), "sale.other")},
		{"token reused under another order number", withToken(order("thief", 1, 7, 1), "sale.held-1")},
		{"unknown sku", withSKU(order("lost", 1, 1, 1), "tablet")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := newPool(t, 10, 2)
			c, err := ledger.NewCommitter(pool, ledger.Config{MaxDelay: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Submit(context.Background(), order("held", 1, 1, 2)); err != nil {
				t.Fatal(err)
			}
			good := []ledger.Order{order("a", 1, 3, 1), order("b", 1, 4, 1)}
			errs := submitBatch(c, append(good, tc.bad))
			for i := range good {
				if errs[i] != nil {
					t.Errorf("good order %s: %v; want nil", good[i].OrderNo, errs[i])
				}
			}
			if !errors.Is(errs[len(good)], ledger.ErrGuard) {
				t.Errorf("bad order: %v; want ErrGuard", errs[len(good)])
			}
			if n := count(t, pool, `SELECT count(*) FROM orders WHERE token_id = $1 AND order_no = $2`, tc.bad.TokenID, tc.bad.OrderNo); n != 0 {
				t.Errorf("bad order has %d rows; want 0", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM orders`); n != 3 {
				t.Errorf("orders = %d; want 3 (held + 2 good)", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM stock_slots`); n != 4 {
				t.Errorf("slots = %d; want 4", n)
			}
		})
	}
}

// TestOverlapInOneBatch: two orders of one batch claim the same slot; one
// wins, the other is refused, and no slot is sold twice; one settlement
// is counted.
func TestOverlapInOneBatch(t *testing.T) {
	pool := newPool(t, 10, 2)
	c, err := ledger.NewCommitter(pool, ledger.Config{MaxDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := settlements(t)
	errs := submitBatch(c, []ledger.Order{order("a", 1, 1, 2), order("b", 1, 2, 2)})
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("errors = %v; want exactly one ErrGuard", errs)
	}
	if n := settlements(t) - before; n != 1 {
		t.Errorf("surge_settlements_total moved by %v; want 1 (the refused order is not written)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("orders = %d; want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM stock_slots`); n != 2 {
		t.Errorf("slots = %d; want 2", n)
	}
}

// TestNoOversellUnderRace: 50 users race for 20 units with slots a lying
// Redis handed out twice (every slot 1..20 claimed by 2-3 users).
func TestNoOversellUnderRace(t *testing.T) {
	pool := newPool(t, 20, 1)
	c := newCommitter(t, pool)
	var orders []ledger.Order
	for i := range 50 {
		orders = append(orders, order(string(rune('A'+i)), 1, i%20+1, 1))
	}
	errs := submitBatch(c, orders)
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrGuard):
			t.Errorf("order %s: %v; want nil or ErrGuard", orders[i].OrderNo, err)
		}
	}
	if won != 20 {
		t.Errorf("winners = %d; want 20", won)
	}
	if n := count(t, pool, `SELECT coalesce(sum(qty), 0) FROM orders`); n != 20 {
		t.Errorf("settled units = %d; want 20 (stock)", n)
	}
}

func TestReader(t *testing.T) {
	pool := newPool(t, 10, 3)
	c := newCommitter(t, pool)
	for _, o := range []ledger.Order{order("a", 1, 1, 2), order("a", 2, 3, 1), order("b", 1, 4, 3)} {
		if _, err := c.Submit(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	r := ledger.NewReader(pool)
	units, err := r.SettledUnits(context.Background(), "sale")
	if err != nil || units["phone"] != 6 || len(units) != 1 {
		t.Errorf("SettledUnits = %v, %v; want map[phone:6]", units, err)
	}
	orders, err := r.SettledOrders(context.Background(), "sale")
	want := map[string]ledger.Settled{
		"sale.a-1": {TokenID: "sale.a-1", SKU: "phone", FirstSlot: 1, Qty: 2, Slots: []int{}},
		"sale.a-2": {TokenID: "sale.a-2", SKU: "phone", FirstSlot: 3, Qty: 1, Slots: []int{}},
		"sale.b-1": {TokenID: "sale.b-1", SKU: "phone", FirstSlot: 4, Qty: 3, Slots: []int{}},
	}
	if err != nil || len(orders) != len(want) {
		t.Fatalf("SettledOrders = %v, %v; want %v", orders, err, want)
	}
	for _, o := range orders {
		if !reflect.DeepEqual(o, want[o.TokenID]) {
			t.Errorf("SettledOrders has %+v; want %+v", o, want[o.TokenID])
		}
	}
}

// submitBatch submits orders concurrently and returns their errors in order.
func submitBatch(c *ledger.Committer, orders []ledger.Order) []error {
	errs := make([]error, len(orders))
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Go(func() { _, errs[i] = c.Submit(context.Background(), o) })
	}
	wg.Wait()
	return errs
}

func withToken(o ledger.Order, token string) ledger.Order { o.TokenID = token; return o }
func withSKU(o ledger.Order, sku string) ledger.Order {
	o.SKU = sku
	o.OrderNo = "sale:" + sku + ":" + o.UserID + ":1"
	return o
}
