package fn_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/metrics"
)

// scrape GETs h's /metrics and returns the text.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics status = %d; want 200", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func call(h http.Handler, method, path string) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
}

// Every hosted function serves GET /metrics: the requests it answered by
// route (the mux pattern, never the raw path), method and status, their
// durations, the Go runtime's collectors, and package metrics' registry.
// The health checks and the scrape itself are not counted.
func TestMetricsCountRequestsByRoute(t *testing.T) {
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer broker.Close()
	sink, err := fn.NewSink(broker.URL)
	if err != nil {
		t.Fatal(err)
	}
	h, err := fn.Handler(discard, newRouted(sink))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone", "gone", "open", "also-open", "third"} {
		call(h, http.MethodPost, "/v1/campaigns/"+id+"/claims?x=1")
	}
	call(h, http.MethodPost, "/nowhere/a")
	call(h, http.MethodPost, "/nowhere/b")
	call(h, "BREW", "/nowhere/c")
	call(h, http.MethodGet, "/health/readiness")
	metrics.Queued() // package metrics' registry is served beside the host's
	body := scrape(t, h)
	for _, want := range []string{
		`surge_http_requests_total{code="409",method="post",route="/v1/campaigns/{id}/claims"} 2`,
		`surge_http_requests_total{code="202",method="post",route="/v1/campaigns/{id}/claims"} 3`,
		`surge_http_request_duration_seconds_count{code="409",method="post",route="/v1/campaigns/{id}/claims"} 2`,
		`surge_http_requests_total{code="404",method="post",route="unmatched"} 2`,
		`surge_http_requests_total{code="404",method="other",route="unmatched"} 1`,
		"go_goroutines ",
		"surge_orders_queued_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(body, "surge_http_requests_total"))
		}
	}
	counted := grep(body, "surge_http_request")
	for _, never := range []string{"gone", "open", `method="get"`, "/nowhere"} {
		if strings.Contains(counted, never) {
			t.Errorf("/metrics holds %q (a raw path, a health check or the scrape):\n%s", never, grep(body, "surge_http_requests_total"))
		}
	}
}

// An event function's requests are counted by the event's type, one of
// the chain's (any other is "other"), and a body that is no event as
// unmatched.
func TestMetricsCountEventsByType(t *testing.T) {
	h := handler(t, &function{})
	post(t, h, input())
	post(t, h, input())
	odd := input()
	odd.SetType("com.example.whatever.v1")
	post(t, h, odd)
	call(h, http.MethodPost, "/")
	body := scrape(t, h)
	for _, want := range []string{
		`surge_http_requests_total{code="202",method="post",route="claim.requested"} 2`,
		`surge_http_requests_total{code="202",method="post",route="other"} 1`,
		`surge_http_requests_total{code="400",method="post",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(body, "surge_http_requests_total"))
		}
	}
}

// SURGE_METRICS=off (WithMetrics(false)): no request is counted, and
// /metrics still answers.
func TestMetricsOff(t *testing.T) {
	h, err := fn.Handler(discard, teapot, fn.WithMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	call(h, http.MethodPost, "/brew")
	if body := scrape(t, h); strings.Contains(body, "surge_http_requests_total{") || !strings.Contains(body, "go_goroutines ") {
		t.Errorf("/metrics with metrics off:\n%s", grep(body, "surge_http"))
	}
}

// grep is the lines of body that contain s.
func grep(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
