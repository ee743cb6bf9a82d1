package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/ledger"
)

// TestReleasedSlotsSoldAgain: stock 2 sold out; a third order for slot 1
// is refused until slot 1's order is released, then it holds slot 1, and
// at most 2 slots are ever live. A redelivered token of the released order
// is a duplicate and takes nothing back.
func TestReleasedSlotsSoldAgain(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, 2, 1)
	c := newCommitter(t, pool)
	p := ledger.NewPayments(pool)
	a, b, late := order("a", 1, 1, 1), order("b", 1, 2, 1), order("c", 1, 1, 1)
	for _, o := range []ledger.Order{a, b} {
		if _, err := c.Submit(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Submit(ctx, late); !errors.Is(err, ledger.ErrGuard) {
		t.Fatalf("order for a held slot: %v; want ErrGuard", err)
	}
	if err := p.Release(ctx, a.OrderNo, time.Time{}); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := c.Submit(ctx, late); err != nil {
		t.Fatalf("order for a released slot: %v; want nil", err)
	}
	if _, err := c.Submit(ctx, a); err != nil {
		t.Errorf("released order delivered again: %v; want nil (a duplicate)", err)
	}
	if got := count(t, pool, `SELECT count(*) FROM stock_slots`); got != 2 {
		t.Errorf("live slots = %d; want 2", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM stock_slots WHERE slot = 1 AND order_no = $1`, late.OrderNo); got != 1 {
		t.Errorf("slot 1 held by %s: %d rows; want 1", late.OrderNo, got)
	}
	units, err := ledger.NewReader(pool).SettledUnits(ctx, "sale")
	if err != nil || units["phone"] != 2 {
		t.Errorf("SettledUnits = %v, %v; want map[phone:2] (the released order not counted)", units, err)
	}
}

// TestLimitCountsUnits: limit 2. Two units in one order fill it; after a
// release the user may win 2 units again (seq 2), but never a third.
func TestLimitCountsUnits(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, 10, 2)
	c := newCommitter(t, pool)
	p := ledger.NewPayments(pool)
	if _, err := c.Submit(ctx, order("u", 1, 1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, order("u", 2, 3, 1)); !errors.Is(err, ledger.ErrGuard) {
		t.Fatalf("third unit: %v; want ErrGuard", err)
	}
	if err := p.Release(ctx, order("u", 1, 1, 2).OrderNo, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, order("u", 3, 3, 2)); err != nil {
		t.Fatalf("two units after a release: %v; want nil", err)
	}
	if _, err := c.Submit(ctx, order("u", 4, 5, 1)); !errors.Is(err, ledger.ErrGuard) {
		t.Errorf("third live unit after a release: %v; want ErrGuard", err)
	}
	if got := count(t, pool, `SELECT count(*) FROM user_units WHERE user_id = 'u'`); got != 2 {
		t.Errorf("user units = %d; want 2", got)
	}
}

// TestSlotList: an order holding slots that are not a range.
func TestSlotList(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, 10, 3)
	c := newCommitter(t, pool)
	o := order("l", 1, 3, 3)
	o.Slots = []int{3, 7, 10}
	if _, err := c.Submit(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := count(t, pool, `SELECT sum(slot)::int FROM stock_slots WHERE order_no = $1`, o.OrderNo); got != 20 {
		t.Errorf("slots sum = %d; want 20 (3+7+10)", got)
	}
	over := order("m", 1, 9, 2)
	over.Slots = []int{9, 11}
	if _, err := c.Submit(ctx, over); !errors.Is(err, ledger.ErrGuard) {
		t.Errorf("slot 11 of stock 10: %v; want ErrGuard", err)
	}
	bad := order("n", 1, 1, 2)
	bad.Slots = []int{2, 4}
	if _, err := c.Submit(ctx, bad); !errors.Is(err, ledger.ErrGuard) {
		t.Errorf("slots not starting at first_slot: %v; want ErrGuard", err)
	}
}

func TestPayAndReleaseStates(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, 10, 1)
	c := newCommitter(t, pool)
	p := ledger.NewPayments(pool)
	paid, released := order("p", 1, 1, 1), order("r", 1, 2, 1)
	for _, o := range []ledger.Order{paid, released} {
		if _, err := c.Submit(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2030, 1, 1, 0, 5, 0, 0, time.UTC)
	first, err := p.Pay(ctx, paid.OrderNo, at)
	if err != nil || !first.Equal(at) {
		t.Fatalf("Pay = %v, %v; want %v", first, err, at)
	}
	if again, err := p.Pay(ctx, paid.OrderNo, at.Add(time.Minute)); err != nil || !again.Equal(at) {
		t.Errorf("Pay again = %v, %v; want the first time %v", again, err, at)
	}
	if err := p.Release(ctx, paid.OrderNo, time.Time{}); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("Release of a paid order: %v; want ErrConflict", err)
	}
	for range 2 {
		if err := p.Release(ctx, released.OrderNo, time.Time{}); err != nil {
			t.Errorf("Release: %v; want nil", err)
		}
	}
	if _, err := p.Pay(ctx, released.OrderNo, time.Time{}); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("Pay of a released order: %v; want ErrConflict", err)
	}
	for _, fn := range map[string]func() error{
		"pay":     func() error { _, err := p.Pay(ctx, "sale:phone:nobody:1", time.Time{}); return err },
		"release": func() error { return p.Release(ctx, "sale:phone:nobody:1", time.Time{}) },
	} {
		if err := fn(); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("unknown order: %v; want ErrNotFound", err)
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM stock_slots`); got != 1 {
		t.Errorf("live slots = %d; want 1 (the paid order)", got)
	}
}

// TestPayRacesRelease: 200 orders, each paid and released at once from two
// goroutines: each ends paid or released, never both, and exactly the
// paid orders hold slots and user units.
func TestPayRacesRelease(t *testing.T) {
	ctx := context.Background()
	const n = 200
	pool := newPool(t, n, 1)
	c := newCommitter(t, pool)
	p := ledger.NewPayments(pool)
	var orders []ledger.Order
	for i := range n {
		orders = append(orders, order(fmt.Sprintf("u%03d", i), 1, i+1, 1))
	}
	for i, err := range submitBatch(c, orders) {
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	payErr, relErr := make([]error, n), make([]error, n)
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Go(func() { _, payErr[i] = p.Pay(ctx, o.OrderNo, time.Time{}) })
		wg.Go(func() { relErr[i] = p.Release(ctx, o.OrderNo, time.Time{}) })
	}
	wg.Wait()
	paid := 0
	for i := range orders {
		if (payErr[i] == nil) == (relErr[i] == nil) {
			t.Errorf("order %d: pay %v, release %v; want exactly one to win", i, payErr[i], relErr[i])
		}
		if payErr[i] == nil {
			paid++
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM orders WHERE state = 'paid'`); got != paid {
		t.Errorf("paid rows = %d; want %d", got, paid)
	}
	if got := count(t, pool, `SELECT count(*) FROM orders WHERE state = 'released'`); got != n-paid {
		t.Errorf("released rows = %d; want %d", got, n-paid)
	}
	for _, table := range []string{"stock_slots", "user_units"} {
		if got := count(t, pool, `SELECT count(*) FROM `+table); got != paid {
			t.Errorf("%s rows = %d; want %d (the paid orders)", table, got, paid)
		}
	}
}

// TestUnitsAcrossConcurrentBatches: one user's orders settled at once by
// two committers (two settle instances) both commit, one maybe after an
// ErrContention retry, and never beyond the limit.
func TestUnitsAcrossConcurrentBatches(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		pool := newPool(t, 10, 2)
		cs := []*ledger.Committer{newCommitter(t, pool), newCommitter(t, pool), newCommitter(t, pool)}
		orders := []ledger.Order{order("u", 1, 1, 1), order("u", 2, 2, 1), order("u", 3, 3, 1)}
		errs := make([]error, len(orders))
		var wg sync.WaitGroup
		for i, o := range orders {
			wg.Go(func() {
				for {
					_, errs[i] = cs[i].Submit(ctx, o)
					if !errors.Is(errs[i], ledger.ErrContention) {
						return
					}
				}
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ledger.ErrGuard):
				t.Errorf("round %d order %d: %v; want nil or ErrGuard", round, i, err)
			}
		}
		if won != 2 {
			t.Errorf("round %d: %d orders of a limit-2 user committed; want 2", round, won)
		}
	}
}
