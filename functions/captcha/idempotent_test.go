package main

import (
	"net/http"
	"testing"

	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// A click retried with the same Idempotency-Key is the same claim: one
// record, the same claim id, no second captcha needed; the pending claim is
// republished as the identical event.
func TestIdempotentRetry(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "guarded", true)
	id, answer := fx.challenge(t, "guarded", "alice")
	body := claimWith(id, answer)
	first := fx.call(t, "/v1/campaigns/guarded/claims", token(t, "alice"), body, "Idempotency-Key", "click-1")
	again := fx.call(t, "/v1/campaigns/guarded/claims", token(t, "alice"), body, "Idempotency-Key", "click-1")
	if first.Code != http.StatusAccepted || again.Code != http.StatusAccepted {
		t.Fatalf("statuses %d %s, %d %s; want 202 twice", first.Code, first.Body, again.Code, again.Body)
	}
	a, b := httpapitest.Decode[Accepted](t, first), httpapitest.Decode[Accepted](t, again)
	if a.ClaimID != b.ClaimID {
		t.Fatalf("claim ids %s and %s; want the same", a.ClaimID, b.ClaimID)
	}
	got := fx.sink.Events()
	if len(got) != 2 || got[0].ID() != got[1].ID() || string(got[0].Data()) != string(got[1].Data()) {
		t.Fatalf("%d events; want the same event twice", len(got))
	}
	if c := fx.claimKeys(t); c != 1 {
		t.Fatalf("%d claim records; want 1", c)
	}
}

func TestIdempotencyKeyScope(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "open", false)
	claimAs := func(user, sku, key string) (int, string) {
		w := fx.call(t, "/v1/campaigns/open/claims", token(t, user), map[string]any{"sku": sku, "qty": 1}, "Idempotency-Key", key)
		if w.Code != http.StatusAccepted {
			return w.Code, httpapitest.ErrorCode(w)
		}
		return w.Code, httpapitest.Decode[Accepted](t, w).ClaimID
	}
	_, alice := claimAs("alice", "cup", "k")
	_, bob := claimAs("bob", "cup", "k")
	if alice == bob {
		t.Fatalf("alice and bob share claim %s; want their own", alice)
	}
	if status, code := claimAs("alice", "mug", "k"); status != http.StatusConflict || code != "idempotency_key_reused" {
		t.Fatalf("same key, other sku: %d %s; want 409 idempotency_key_reused", status, code)
	}
	if _, other := claimAs("alice", "cup", "k2"); other == alice {
		t.Fatalf("another key gave the same claim %s", other)
	}
}
