package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/metrics"
)

// submitAll submits every order copies times, all at once, and returns
// the errors by order number.
func submitAll(t *testing.T, c *ledger.Committer, orders []ledger.Order, copies int) map[string][]error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	errs := make(map[string][]error)
	var wg sync.WaitGroup
	for range copies {
		for _, o := range orders {
			wg.Go(func() {
				_, err := c.Submit(ctx, o)
				mu.Lock()
				defer mu.Unlock()
				errs[o.OrderNo] = append(errs[o.OrderNo], err)
			})
		}
	}
	wg.Wait()
	return errs
}

func distinct(n int) []ledger.Order {
	orders := make([]ledger.Order, n)
	for i := range orders {
		orders[i] = order(fmt.Sprintf("u%d", i), 1, i+1, 1)
	}
	return orders
}

func TestConcurrentSubmits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		copies int
	}{
		{"distinct orders", 1},
		{"every order twice", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := newPool(t, 1000, 1)
			c := newCommitter(t, pool)
			before := settlements(t)
			for no, errs := range submitAll(t, c, distinct(1000), tc.copies) {
				for _, err := range errs {
					if err != nil {
						t.Fatalf("Submit(%s) = %v; want nil", no, err)
					}
				}
			}
			if got := count(t, pool, `SELECT count(*) FROM orders`); got != 1000 {
				t.Errorf("orders = %d; want 1000", got)
			}
			if n := settlements(t) - before; n != 1000 {
				t.Errorf("surge_settlements_total moved by %v; want 1000: each order counted once", n)
			}
			if got := count(t, pool, `SELECT count(*) FROM stock_slots`); got != 1000 {
				t.Errorf("stock slots = %d; want 1000", got)
			}
		})
	}
}

func TestSettledAtStableOnRetry(t *testing.T) {
	pool := newPool(t, 10, 1)
	c := newCommitter(t, pool)
	ctx := context.Background()
	first, err := c.Submit(ctx, order("a", 1, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Submit(ctx, order("a", 1, 1, 1))
	if err != nil || !again.Equal(first) {
		t.Errorf("retry = %v, %v; want %v, nil", again, err, first)
	}
}

func TestCloseDrains(t *testing.T) {
	pool := newPool(t, 100, 1)
	c, err := ledger.NewCommitter(pool, ledger.Config{MaxDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 50)
	for _, o := range distinct(50) {
		go func() { _, err := c.Submit(context.Background(), o); errs <- err }()
	}
	time.Sleep(10 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := <-errs; err != nil && !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("Submit = %v; want nil or ErrClosed", err)
		}
	}
	if _, err := c.Submit(context.Background(), order("late", 1, 99, 1)); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Submit after Close = %v; want ErrClosed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ledger.Config
		ok   bool
	}{
		{"defaults", ledger.Config{}, true},
		{"batch too big", ledger.Config{MaxBatch: 20000}, false},
		{"negative delay", ledger.Config{MaxDelay: -1}, false},
		{"negative timeout", ledger.Config{WriteTimeout: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ledger.NewCommitter(nil, tc.cfg)
			if err == nil {
				_ = c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("NewCommitter(%+v) error = %v; want ok %v", tc.cfg, err, tc.ok)
			}
		})
	}
}

// settlements is this process's surge_settlements_total.
func settlements(t *testing.T) float64 {
	t.Helper()
	v, err := metrics.Value("surge_settlements_total")
	if err != nil {
		t.Fatal(err)
	}
	return v
}
