package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/surgekit/surge/local/scrape"
)

// TestMetricsCountRoutedRequests: the gateway's GET /metrics counts each
// request by its route and the status it got, times it, and counts the
// calls of a service that is down; a 404 counts as unmatched, and the
// scrape itself is not counted.
func TestMetricsCountRoutedRequests(t *testing.T) {
	b := newBackends(t, "admin", "captcha", "reconcile")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // its port now refuses connections
	b.urls["query"] = down.URL
	gw := httptest.NewServer(newGateway(t, b.urls))
	defer gw.Close()
	send := func(method, path string, n int) {
		t.Helper()
		for range n {
			req, err := http.NewRequestWithContext(t.Context(), method, gw.URL+path, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	send(http.MethodPost, "/v1/campaigns/double11/claims", 3)
	send(http.MethodGet, "/v1/campaigns/double11", 1)
	send(http.MethodGet, "/v1/keys", 2) // query is down
	send(http.MethodGet, "/v1/nope", 1)
	scrape.Get(t, gw.URL+"/metrics") // not counted
	s := scrape.Get(t, gw.URL+"/metrics")
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"surge_gateway_requests_total", []string{"route", "POST /v1/campaigns/{id}/claims", "code", "418"}, 3},
		{"surge_gateway_requests_total", []string{"route", "GET /v1/campaigns/{id}", "code", "418"}, 1},
		{"surge_gateway_requests_total", []string{"route", "GET /v1/keys", "code", "503"}, 2},
		{"surge_gateway_requests_total", []string{"route", "unmatched", "code", "404"}, 1},
		{"surge_gateway_request_duration_seconds_count", []string{"route", "POST /v1/campaigns/{id}/claims"}, 3},
		{"surge_gateway_request_duration_seconds_count", []string{"route", "GET /v1/keys"}, 2},
		{"surge_gateway_upstream_errors_total", []string{"service", "query"}, 2},
	}
	for _, tt := range tests {
		if got, ok := s.Value(tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s = %v (present %v); want %v", scrape.Key(tt.name, tt.labels...), got, ok, tt.want)
		}
	}
	var total float64
	for key, v := range s {
		if strings.HasPrefix(key, "surge_gateway_requests_total{") {
			total += v
		}
	}
	if total != 7 {
		t.Errorf("surge_gateway_requests_total over every route = %v; want the 7 requests sent (no scrape)", total)
	}
}
