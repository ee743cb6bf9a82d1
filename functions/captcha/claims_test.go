package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

func signed(t *testing.T, m jwt.SigningMethod, key any, sub string, exp time.Duration) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every bad click gets its status and code, and nothing is written or
// published.
func TestBadClaimsChangeNothing(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "open", false)
	fx.warm(t, "guarded", true)
	alice := token(t, "alice")
	big := `{"sku":"cup","qty":1,"answer":"` + strings.Repeat("x", 17<<10) + `"}`
	ok := map[string]any{"sku": "cup", "qty": 1}
	cases := []struct {
		name, path, bearer string
		body               any
		want               int
		code               string
		header             []string
	}{
		{"no jwt", "open", "", ok, 401, "unauthorized", nil},
		{"forged jwt", "open", signed(t, jwt.SigningMethodHS256, []byte("other"), "alice", time.Hour), ok, 401, "unauthorized", nil},
		{"alg none", "open", signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "alice", time.Hour), ok, 401, "unauthorized", nil},
		{"expired jwt", "open", signed(t, jwt.SigningMethodHS256, jwtSecret, "alice", -time.Hour), ok, 401, "unauthorized", nil},
		{"unknown campaign", "nope", alice, ok, 404, "campaign_not_found", nil},
		{"invalid campaign id", "No.Pe", alice, ok, 404, "campaign_not_found", nil},
		{"malformed json", "open", alice, []byte(`{"sku": "cup", "qty":`), 400, "malformed_json", nil},
		{"unknown field", "open", alice, map[string]any{"sku": "cup", "qty": 1, "price": 0}, 400, "malformed_json", nil},
		{"trailing data", "open", alice, []byte(`{"sku":"cup","qty":1}{}`), 400, "malformed_json", nil},
		{"stray closing brace", "open", alice, []byte(`{"sku":"cup","qty":1}}`), 400, "malformed_json", nil},
		{"stray closing bracket", "open", alice, []byte(`{"sku":"cup","qty":1}]`), 400, "malformed_json", nil},
		{"text/plain body", "open", alice, ok, 415, "unsupported_media_type", []string{"Content-Type", "text/plain"}},
		{"no content type", "open", alice, ok, 415, "unsupported_media_type", []string{"Content-Type", ""}},
		{"json with charset", "open", alice, []byte(`{"sku":"cup","qty":0}`), 400, "invalid_qty", []string{"Content-Type", "application/json; charset=utf-8"}},
		{"missing sku", "open", alice, map[string]any{"qty": 1}, 400, "missing_sku", nil},
		{"missing qty", "open", alice, map[string]any{"sku": "cup"}, 400, "invalid_qty", nil},
		{"negative qty", "open", alice, map[string]any{"sku": "cup", "qty": -1}, 400, "invalid_qty", nil},
		{"qty above limit", "open", alice, map[string]any{"sku": "cup", "qty": 3}, 400, "qty_over_limit", nil},
		{"unknown sku", "open", alice, map[string]any{"sku": "plate", "qty": 1}, 400, "unknown_sku", nil},
		{"oversized body", "open", alice, []byte(big), 413, "body_too_large", nil},
		{"captcha missing", "guarded", alice, ok, 400, "challenge_required", nil},
		{"captcha answer missing", "guarded", alice, map[string]any{"sku": "cup", "qty": 1, "challenge_id": "x"}, 400, "challenge_required", nil},
		{"unknown challenge", "guarded", alice, map[string]any{"sku": "cup", "qty": 1, "challenge_id": "abc", "answer": "1"}, 410, "challenge_gone", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fx.call(t, "/v1/campaigns/"+tc.path+"/claims", tc.bearer, tc.body, tc.header...)
			if w.Code != tc.want || httpapitest.ErrorCode(w) != tc.code {
				t.Fatalf("status %d %s; want %d %s", w.Code, w.Body, tc.want, tc.code)
			}
		})
	}
	if n := len(fx.sink.Events()); n != 0 {
		t.Fatalf("%d events published after bad claims; want 0", n)
	}
	if n := fx.claimKeys(t); n != 0 {
		t.Fatalf("%d claim records after bad claims; want 0", n)
	}
}

func TestClaimAcceptedAndPublished(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "open", false)
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), map[string]any{"sku": "mug", "qty": 2})
	if w.Code != http.StatusAccepted {
		t.Fatalf("claim: %d %s; want 202", w.Code, w.Body)
	}
	a := httpapitest.Decode[Accepted](t, w)
	if !strings.HasPrefix(a.ClaimID, "open.") || a.StatusURL != "/v1/claims/"+a.ClaimID {
		t.Fatalf("answer %+v; want an open.* claim id and its status url", a)
	}
	rec, err := claim.NewStore(fx.rdb, fx.keys).Get(context.Background(), a.ClaimID)
	if err != nil || rec.State != claim.Pending || rec.UserID != "alice" || rec.SKU != "mug" || rec.Qty != 2 {
		t.Fatalf("record %+v, %v; want pending alice mug×2", rec, err)
	}
	got := fx.sink.Events()
	if len(got) != 1 {
		t.Fatalf("%d events; want 1", len(got))
	}
	d, err := events.Decode[events.ClaimRequestedData](got[0], events.TypeClaimRequested)
	if err != nil || d.ClaimID != a.ClaimID || d.UserID != "alice" || d.CampaignID != "open" || d.SKU != "mug" || d.Qty != 2 {
		t.Fatalf("event %+v, %v; want the claim", d, err)
	}
	if !d.RequestedAt.Equal(rec.CreatedAt) {
		t.Fatalf("requested_at %v; want the record's created %v", d.RequestedAt, rec.CreatedAt)
	}
}

// The broker refuses: 503 with Retry-After, and the pending record is
// gone, a tombstone in its place.
func TestPublishFailureLeavesNoClaim(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "open", false)
	fx.sink.Failing.Store(true)
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), map[string]any{"sku": "cup", "qty": 1})
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || httpapitest.ErrorCode(w) != "unavailable" {
		t.Fatalf("status %d %v %s; want 503 unavailable with Retry-After", w.Code, w.Header(), w.Body)
	}
	if n, tombs := fx.claimRecords(t); n != 0 || tombs != 1 {
		t.Fatalf("%d claim records, %d tombstones after a refused publish; want 0 and 1", n, tombs)
	}
}

// A campaign warmed after a 404 is served at once: misses are not cached.
func TestCampaignFoundOnceWarmed(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	body := map[string]any{"sku": "cup", "qty": 1}
	if w := fx.call(t, "/v1/campaigns/late/claims", token(t, "alice"), body); w.Code != http.StatusNotFound {
		t.Fatalf("before warm-up: %d; want 404", w.Code)
	}
	fx.warm(t, "late", false)
	if w := fx.call(t, "/v1/campaigns/late/claims", token(t, "alice"), body); w.Code != http.StatusAccepted {
		t.Fatalf("after warm-up: %d %s; want 202", w.Code, w.Body)
	}
}
