package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// call sends method path to the fixture with token (none when empty).
func (fx *fixture) call(t *testing.T, method, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, fx.srv.URL+path, nil)
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var body json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestReportsAPIRefuses(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"list without token", http.MethodGet, "/v1/campaigns/sale/reconcile", "", http.StatusUnauthorized},
		{"run without token", http.MethodPost, "/v1/campaigns/sale/reconcile", "", http.StatusUnauthorized},
		{"run with a wrong token", http.MethodPost, "/v1/campaigns/sale/reconcile", "nope", http.StatusUnauthorized},
		{"list unknown campaign", http.MethodGet, "/v1/campaigns/nope/reconcile", adminToken, http.StatusNotFound},
		{"run unknown campaign", http.MethodPost, "/v1/campaigns/nope/reconcile", adminToken, http.StatusNotFound},
		{"bad limit", http.MethodGet, "/v1/campaigns/sale/reconcile?limit=0", adminToken, http.StatusBadRequest},
		{"bad plane", http.MethodGet, "/v1/campaigns/sale/reconcile?plane=moon", adminToken, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := fx.call(t, tc.method, tc.path, tc.token); status != tc.want {
				t.Errorf("status = %d (%s); want %d", status, body, tc.want)
			}
		})
	}
}

// Two ticks an hour apart, then a pass on demand: the listing is newest
// first, cut at ?limit=, each entry the campaign's part of its report.
func TestReportsAPIRunsAndLists(t *testing.T) {
	fx := newFixture(t)
	fx.settle(t, "alice", 1)
	fx.setRemaining(t, 8) // two taken, one accounted: a mismatch of 1
	now := time.Now().UTC()
	_, old := fx.pingAt(t, "tick-old", now.Add(-2*time.Hour))
	_, newer := fx.pingAt(t, "tick-new", now.Add(-time.Hour))
	status, body := fx.call(t, http.MethodPost, "/v1/campaigns/sale/reconcile", adminToken)
	if status != http.StatusOK {
		t.Fatalf("run: status = %d (%s); want 200", status, body)
	}
	var run Report
	must(t, json.Unmarshal(body, &run))
	if len(run.Campaigns) != 1 || run.Campaigns[0].ID != "sale" || run.Campaigns[0].Difference != 1 {
		t.Fatalf("run report = %s; want campaign sale with difference 1", body)
	}
	if got := fx.report(t, run.Key); got.EventID != run.EventID {
		t.Errorf("stored report %s has event %s; want %s", run.Key, got.EventID, run.EventID)
	}
	if got := len(fx.alerts.raised(t)); got != 3 {
		t.Errorf("alerts = %d; want 3 (one mismatch per pass)", got)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{run.Key, newer.Key, old.Key}},
		{"?limit=2", []string{run.Key, newer.Key}},
	} {
		status, body := fx.call(t, http.MethodGet, "/v1/campaigns/sale/reconcile"+tc.query, adminToken)
		if status != http.StatusOK {
			t.Fatalf("list%s: status = %d (%s); want 200", tc.query, status, body)
		}
		var got struct{ Reports []CampaignPass }
		must(t, json.Unmarshal(body, &got))
		var keys []string
		for _, p := range got.Reports {
			keys = append(keys, p.Key)
			if p.Campaign.ID != "sale" || !p.Campaign.Mismatch {
				t.Errorf("list%s: %s campaign = %+v; want sale, mismatching", tc.query, p.Key, p.Campaign)
			}
		}
		if !slices.Equal(keys, tc.want) {
			t.Errorf("list%s keys = %v; want %v", tc.query, keys, tc.want)
		}
	}
}
