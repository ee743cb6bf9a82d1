package fn_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/surgekit/surge/shared/fn"
)

// Every hosted function serves GET /metrics: the requests it answered by
// method and status, their durations, and the Go runtime's collectors.
// The health checks and the scrape itself are not counted.
func TestMetricsCountWhatTheFunctionAnswered(t *testing.T) {
	h, err := fn.Handler(discard, teapot)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 3 {
		resp, err := http.Post(srv.URL+"/brew", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if resp, err := http.Get(srv.URL + "/health/readiness"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics status = %d; want 200", resp.StatusCode)
	}
	for _, want := range []string{
		`surge_http_requests_total{code="418",method="post"} 3`,
		`surge_http_request_duration_seconds_count{code="418",method="post"} 3`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), `method="get"`) {
		t.Errorf("/metrics counted a health check or a scrape:\n%s", body)
	}
}
