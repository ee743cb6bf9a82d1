package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/stock"
)

// TestReleaseDriver: a settled reservation not paid by its pay_by is
// released by the driver's own ticker within a few ticks, in Redis and in
// PostgreSQL, its unit back in stock; a paid one is left paid.
func TestReleaseDriver(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.warmed(t, []string{"unpaid", "payer"}, map[string]bool{"unpaid": true, "payer": true})
	ids := map[string]string{"unpaid": keyspace.ClaimID("sale", "unpaid"), "payer": keyspace.ClaimID("sale", "payer")}
	window := stock.NewWindow(fx.rdb, fx.keys)
	if got, err := window.Pay(ctx, ids["payer"], "k", at.Add(time.Minute)); err != nil || got.Outcome != stock.Paid {
		t.Fatalf("Pay = %+v, %v", got, err)
	}
	sink := fx.alerts.Sink
	f, err := New(Config{Redis: fx.rdb, Postgres: fx.pool, S3: fx.s3, Bucket: fx.bucket, Keys: fx.keys,
		Log: slog.New(slog.DiscardHandler), EventKey: eventsigtest.Key(t), Sink: sink, ReleaseEvery: 50 * time.Millisecond,
		Now: func() time.Time { return at.Add(11 * time.Minute) }})
	must(t, err)
	must(t, f.Start(ctx, nil))
	defer func() { _ = f.Stop(ctx) }()
	deadline := time.Now().Add(3 * time.Second)
	for fx.rdb.HGet(ctx, fx.keys.Campaign("sale").Claim(ids["unpaid"]), claim.FieldState).Val() != claim.Released {
		if time.Now().After(deadline) {
			t.Fatal("unpaid claim not released within 3s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var state string
	must(t, fx.pool.QueryRow(ctx, `SELECT state FROM orders WHERE token_id = $1`, ids["unpaid"]).Scan(&state))
	if state != ledger.StateReleased {
		t.Errorf("unpaid order = %q; want released", state)
	}
	if got := fx.rdb.HGet(ctx, fx.keys.Campaign("sale").Claim(ids["payer"]), claim.FieldState).Val(); got != claim.Paid {
		t.Errorf("paid claim = %q; want paid", got)
	}
	if left, _ := fx.rdb.Get(ctx, fx.keys.Campaign("sale").Stock("phone")).Int(); left != 9 {
		t.Errorf("stock = %d; want 9 (10, one paid)", left)
	}
}
