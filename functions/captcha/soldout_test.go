package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// Once the pre-deduct script has taken a SKU's last unit, a click on it is
// answered 409 sold_out at once, with nothing recorded or published; a
// retry of a claim accepted before keeps its 202, and other SKUs sell on.
func TestSoldOutAnsweredAtOnce(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "open", false)
	cup := map[string]any{"sku": "cup", "qty": 1}
	early := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), cup, "Idempotency-Key", "k1")
	if early.Code != http.StatusAccepted {
		t.Fatalf("claim before the sell-out: %d %s", early.Code, early.Body)
	}
	fx.sellOut(t, "open", "cup", 10)

	events, records := len(fx.sink.Events()), fx.claimKeys(t)
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "bob"), cup, "Idempotency-Key", "k2")
	if w.Code != http.StatusConflict || httpapitest.ErrorCode(w) != "sold_out" {
		t.Fatalf("click after the sell-out: %d %s; want 409 sold_out", w.Code, w.Body)
	}
	if e, r := len(fx.sink.Events()), fx.claimKeys(t); e != events || r != records {
		t.Fatalf("sold-out click left %d events and %d records; want none", e-events, r-records)
	}
	again := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), cup, "Idempotency-Key", "k1")
	if again.Code != http.StatusAccepted ||
		httpapitest.Decode[Accepted](t, again).ClaimID != httpapitest.Decode[Accepted](t, early).ClaimID {
		t.Fatalf("retry of an accepted claim after the sell-out: %d %s; want its 202", again.Code, again.Body)
	}
	if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "carol"), map[string]any{"sku": "mug", "qty": 1}); w.Code != http.StatusAccepted {
		t.Fatalf("click on another sku: %d %s; want 202", w.Code, w.Body)
	}
}

// sellOut takes all units of sku with the pre-deduct script, as prededuct
// would, and waits until this instance's board knows.
func (fx *fixture) sellOut(t *testing.T, campaignID, sku string, units int) {
	t.Helper()
	d := stock.NewDeducter(fx.rdb, fx.keys)
	for i := range units {
		u := fmt.Sprintf("buyer-%s-%d", sku, i)
		dec, err := d.Deduct(context.Background(), stock.Request{ClaimID: keyspace.ClaimID(campaignID, u), CampaignID: campaignID,
			UserID: u, SKU: sku, Qty: 1, Now: time.Now()})
		if err != nil || dec.State != "reserved" {
			t.Fatalf("deduct %s: %+v %v", u, dec, err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for !fx.board.SoldOut(campaignID, sku) {
		if time.Now().After(deadline) {
			t.Fatal("board not flagged within 2s of the last unit")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Once every item of a sale is sold out, a challenge is answered 409
// sold_out and leases no bank entry; while one item sells, it is issued.
func TestChallengeRefusedWhenSoldOut(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "gone", true)
	fx.sellOut(t, "gone", "cup", 10)
	if w := fx.call(t, "/v1/campaigns/gone/challenges", token(t, "alice"), nil); w.Code != http.StatusCreated {
		t.Fatalf("challenge while mug sells: %d %s; want 201", w.Code, w.Body)
	}
	fx.sellOut(t, "gone", "mug", 5)
	free := fx.rdb.SCard(context.Background(), fx.keys.Campaign("gone").BankFree()).Val()
	w := fx.call(t, "/v1/campaigns/gone/challenges", token(t, "bob"), nil)
	if w.Code != http.StatusConflict || httpapitest.ErrorCode(w) != "sold_out" {
		t.Fatalf("challenge after the sell-out: %d %s; want 409 sold_out", w.Code, w.Body)
	}
	if left := fx.rdb.SCard(context.Background(), fx.keys.Campaign("gone").BankFree()).Val(); left != free {
		t.Errorf("a refused challenge took a bank entry: %d free, was %d", left, free)
	}
}
