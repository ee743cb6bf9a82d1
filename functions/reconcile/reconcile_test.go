package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
)

// TestPass: alice and bob settled, carol reserved in flight; stock 10.
func TestPass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		remaining int
		mid       bool // dave settled but still inflight: a settle mid-pass
		diff      int
		mismatch  bool
	}{
		{"consistent", 7, false, 0, false},
		{"lost order", 6, false, 1, true},
		{"settling mid-pass counted once", 6, true, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.settle(t, "alice", 1)
			fx.settle(t, "bob", 2)
			fx.reserve(t, "carol")
			if tc.mid {
				fx.reserve(t, "dave")
				fx.settle(t, "dave", 4)
			}
			fx.setRemaining(t, tc.remaining)
			_, r := fx.ping(t, "ping-1")
			if len(r.Campaigns) != 1 {
				t.Fatalf("report campaigns = %d; want 1", len(r.Campaigns))
			}
			c := r.Campaigns[0]
			if c.Difference != tc.diff || c.Mismatch != tc.mismatch || c.SKUs[0].Difference != tc.diff {
				t.Errorf("campaign = %+v; want difference %d (total and sku), mismatch %v", c, tc.diff, tc.mismatch)
			}
			if tc.mid && (len(c.StaleInflight) != 1 || c.StaleInflight[0] != "sale.dave") {
				t.Errorf("stale inflight = %v; want [sale.dave]", c.StaleInflight)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.mismatch]; r.Mismatches != want {
				t.Errorf("mismatches = %d; want %d", r.Mismatches, want)
			}
		})
	}
}

func TestReportKeyNamesEvent(t *testing.T) {
	fx := newFixture(t)
	fx.setRemaining(t, 10)
	_, r := fx.ping(t, "ping-42")
	if want := "reconcile/20301111T000000.000Z-ping-42.json"; r.Key != want || r.EventID != "ping-42" {
		t.Errorf("report key %q, event %q; want %q, ping-42", r.Key, r.EventID, want)
	}
}

func TestOtherEventIs400(t *testing.T) {
	fx := newFixture(t)
	e := event.New()
	e.SetID("x")
	e.SetType(events.TypeOrderSettled)
	e.SetSource("/test")
	if status, body := fx.post(t, "/", e); status != http.StatusBadRequest {
		t.Errorf("status = %d (%s); want 400", status, body)
	}
}

// pendingClaim records erin's pending claim id and returns its
// claim.requested, unsigned.
func (fx *fixture) pendingClaim(t *testing.T, id string) event.Event {
	t.Helper()
	_, err := fx.claims.CreatePending(context.Background(), claim.Record{ID: id, UserID: "erin", SKU: "phone", Qty: 1, CreatedAt: at})
	must(t, err)
	return events.ClaimRequested(events.ClaimRequestedData{ClaimID: id, CampaignID: "sale", UserID: "erin",
		SKU: "phone", Qty: 1, RequestedAt: at})
}

func TestDeadLetterStoredOnceAndClaimFinalised(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	id := "sale.lost-click"
	e := eventsigtest.Signed(t, fx.pendingClaim(t, id))
	e.SetExtension("knativeerrorcode", "500")
	e.SetExtension("knativeerrordest", "http://prededuct")
	e.SetExtension("knativeerrordata", "Ym9vbQ==")
	for range 2 {
		if status, body := fx.post(t, "/dead-letters", e); status != http.StatusAccepted {
			t.Fatalf("status = %d (%s); want 202", status, body)
		}
	}
	var n, code int
	must(t, fx.pool.QueryRow(ctx, `SELECT count(*), max(error_code) FROM dead_letters WHERE event_id = $1`, id).Scan(&n, &code))
	if n != 1 || code != 500 {
		t.Errorf("dead letters = %d with code %d; want 1 with 500", n, code)
	}
	r, err := fx.claims.Get(ctx, id)
	must(t, err)
	if r.State != claim.Rejected || r.Reason != events.ReasonFailed {
		t.Errorf("claim = %s/%s; want rejected/failed", r.State, r.Reason)
	}
}

// A claim.requested that captcha did not sign is dead-lettered by
// prededuct (400); stored like any dead letter, it must not reject the
// pending claim whose id it names.
func TestUnsignedDeadClaimLeavesTheClaim(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	id := "sale.someone-elses"
	e := fx.pendingClaim(t, id)
	e.SetID(id + "-forged")
	e.SetExtension("knativeerrorcode", "400")
	if status, body := fx.post(t, "/dead-letters", e); status != http.StatusAccepted {
		t.Fatalf("status = %d (%s); want 202", status, body)
	}
	var n int
	must(t, fx.pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE event_id = $1`, e.ID()).Scan(&n))
	if n != 1 {
		t.Errorf("dead letters = %d; want 1 (stored for the operator)", n)
	}
	r, err := fx.claims.Get(ctx, id)
	must(t, err)
	if r.State != claim.Pending {
		t.Errorf("claim = %s/%s; want still pending", r.State, r.Reason)
	}
}
