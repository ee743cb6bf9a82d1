package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

func TestCreate(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("taken"))
	now := time.Now().UTC()
	rain := map[string]any{"id": "rain1", "kind": "rain", "title": "rain", "budget": 100000, "packets": 100,
		"per_user_limit": 1, "starts_at": now, "ends_at": now.Add(time.Hour), "captcha": false}
	cases := []struct {
		name, bearer string
		body         any
		want         int
		code         string
	}{
		{"created", adminToken, sale("fresh"), 201, ""},
		{"no token", "", sale("a1"), 401, "unauthorized"},
		{"wrong token", "not-it", sale("a2"), 401, "unauthorized"},
		{"user-looking token", "eyJhbGciOiJIUzI1NiJ9.e30.x", sale("a3"), 401, "unauthorized"},
		{"exists", adminToken, sale("taken"), 409, "campaign_exists"},
		{"invalid id", adminToken, with(sale("x"), "id", "Bad.Id"), 400, "invalid_campaign"},
		{"no items", adminToken, with(sale("a4"), "items", []any{}), 400, "invalid_campaign"},
		{"zero limit", adminToken, with(sale("a5"), "per_user_limit", 0), 400, "invalid_campaign"},
		{"ends before start", adminToken, with(sale("a6"), "ends_at", now.Add(-2*time.Hour)), 400, "invalid_campaign"},
		{"unknown field", adminToken, with(sale("a7"), "color", "red"), 400, "malformed_json"},
		{"malformed json", adminToken, []byte(`{"id":`), 400, "malformed_json"},
		{"bad duration", adminToken, with(sale("a8"), "payment_window", "soon"), 400, "malformed_json"},
		{"oversized", adminToken, with(sale("a9"), "title", strings.Repeat("x", 17<<10)), 413, "body_too_large"},
		{"rain", adminToken, rain, 201, ""},
		{"rain, budget below packets", adminToken, with(rain, "budget", 99), 400, "invalid_campaign"},
		{"rain, no packets", adminToken, with(rain, "packets", 0), 400, "invalid_campaign"},
		{"rain, negative budget", adminToken, with(rain, "budget", -1), 400, "invalid_campaign"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fx.call(t, http.MethodPost, "/v1/campaigns", tc.bearer, tc.body)
			if w.Code != tc.want || httpapitest.ErrorCode(w) != tc.code {
				t.Fatalf("status %d %s; want %d %q", w.Code, w.Body, tc.want, tc.code)
			}
		})
	}
	for _, id := range []string{"a1", "a2", "a3", "a4", "a9"} {
		if w := fx.call(t, http.MethodGet, "/v1/campaigns/"+id, "", nil); w.Code != http.StatusNotFound {
			t.Errorf("campaign %s after a refused create: %d; want 404", id, w.Code)
		}
	}
}

func TestGetWithETag(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	w := fx.call(t, http.MethodGet, "/v1/campaigns/double11", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}
	c := httpapitest.Decode[campaign.Campaign](t, w)
	if c.ID != "double11" || len(c.Items) != 2 || c.PaymentWindow.Duration != 10*time.Minute || !c.Captcha {
		t.Fatalf("campaign %+v; want double11 as created", c)
	}
	tag := w.Header().Get("ETag")
	if !strings.HasPrefix(tag, `"`) || !strings.HasPrefix(w.Header().Get("Cache-Control"), "public, max-age=") {
		t.Fatalf("headers %v; want a strong ETag and public Cache-Control", w.Header())
	}
	cases := []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"same tag", tag, http.StatusNotModified},
		{"weak same tag", "W/" + tag, http.StatusNotModified},
		{"in a list", `"other", ` + tag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"other tag", `"other"`, http.StatusOK},
		{"none", "", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fx.call(t, http.MethodGet, "/v1/campaigns/double11", "", nil, "If-None-Match", tc.ifNoneMatch)
			if w.Code != tc.want || w.Header().Get("ETag") != tag {
				t.Fatalf("status %d, ETag %q; want %d, %q", w.Code, w.Header().Get("ETag"), tc.want, tag)
			}
			if tc.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Fatalf("304 with a body %q", w.Body)
			}
		})
	}
	other := newFixture(t)
	other.mustCreate(t, with(sale("double11"), "title", "changed"))
	if w := other.call(t, http.MethodGet, "/v1/campaigns/double11", "", nil); w.Header().Get("ETag") == tag {
		t.Fatal("a different spec has the same ETag")
	}
}

func TestGetUnknown(t *testing.T) {
	fx := newFixture(t)
	for _, id := range []string{"nope", "Bad.Id"} {
		if w := fx.call(t, http.MethodGet, "/v1/campaigns/"+id, "", nil); w.Code != http.StatusNotFound || httpapitest.ErrorCode(w) != "campaign_not_found" {
			t.Errorf("get %s: %d %s; want 404 campaign_not_found", id, w.Code, w.Body)
		}
	}
}
