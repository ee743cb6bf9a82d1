package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/receipt"
)

// TestConcurrentWinsAllCleared settles ten wins at once, so their Redis
// clean-ups share pipelines, and checks every one was cleared.
func TestConcurrentWinsAllCleared(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	wins := make([]event.Event, 10)
	for i := range wins {
		wins[i] = fx.win(t, fmt.Sprintf("user%d", i), 1, i+1)
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(wins))
	for i, e := range wins {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i], _ = fx.post(t, e) }()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("win %d: status = %d; want 200", i, s)
		}
	}
	if n := fx.orders(t); n != len(wins) {
		t.Errorf("orders = %d; want %d", n, len(wins))
	}
	if n := fx.rdb.HLen(ctx, fx.keys.Campaign("double11").Inflight()).Val(); n != 0 {
		t.Errorf("inflight entries = %d; want 0", n)
	}
	for i := range wins {
		user := fmt.Sprintf("user%d", i)
		if left, _ := fx.pending.List(ctx, user); len(left) != 0 {
			t.Errorf("%s: pending tokens = %v; want none", user, left)
		}
		if r, err := fx.claims.Get(ctx, "double11.c-"+user); err != nil || r.State != claim.Settled {
			t.Errorf("%s: claim = %+v, %v; want settled", user, r, err)
		}
	}
}

// TestSweeperAnswersAfterClose: a clean-up asked for once the sweeper has
// stopped fails (the broker retries the event) instead of hanging.
func TestSweeperAnswersAfterClose(t *testing.T) {
	fx := newFixture(t)
	s := newSweeper(fx.claims, fx.pending, time.Second)
	s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := receipt.Receipt{TokenID: "double11.c-x", OrderNo: "double11:phone-x:x:1", UserID: "x"}
	if err := s.clear(ctx, r, time.Now()); err == nil || ctx.Err() != nil {
		t.Errorf("clear after close = %v (ctx %v); want errSweeperClosed at once", err, ctx.Err())
	}
}
