package click_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/click"
)

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, n := range v {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: Percentiles sorts
	}
	cases := []struct {
		name string
		lat  []time.Duration
		want click.Latency
	}{
		{"none", nil, click.Latency{}},
		{"one", ms(7), click.Latency{N: 1, P50: 7e6, P90: 7e6, P99: 7e6, Max: 7e6}},
		{"two", ms(9, 1), click.Latency{N: 2, P50: 1e6, P90: 9e6, P99: 9e6, Max: 9e6}},
		{"four", ms(4, 3, 2, 1), click.Latency{N: 4, P50: 2e6, P90: 4e6, P99: 4e6, Max: 4e6}},
		{"hundred", ms(hundred...), click.Latency{N: 100, P50: 50e6, P90: 90e6, P99: 99e6, Max: 100e6}},
	}
	for _, tc := range cases {
		if got := click.Percentiles(tc.lat); got != tc.want {
			t.Errorf("%s: Percentiles = %+v; want %+v", tc.name, got, tc.want)
		}
	}
}

func TestCPUShare(t *testing.T) {
	cases := []struct {
		cpu, wall time.Duration
		cores     int
		want      float64
	}{
		{time.Second, time.Second, 1, 1},
		{time.Second, time.Second, 2, 0.5},
		{3 * time.Second, 15 * time.Second, 2, 0.1},
		{0, time.Second, 2, 0},
		{time.Second, 0, 2, 0},
		{time.Second, time.Second, 0, 0},
	}
	for _, tc := range cases {
		if got := click.CPUShare(tc.cpu, tc.wall, tc.cores); got != tc.want {
			t.Errorf("CPUShare(%v, %v, %d) = %v; want %v", tc.cpu, tc.wall, tc.cores, got, tc.want)
		}
	}
}

func TestBuildIsWhatNetHTTPReads(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Header.Get("Authorization")] = r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + string(b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	reqs, err := click.Build(srv.URL, "/v1/campaigns/c1/claims", []string{"t1", "t2"}, []byte(`{"sku":"s","qty":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := click.Run(context.Background(), click.Config{URL: srv.URL, Conns: 1, Window: time.Minute, Requests: reqs})
	if err != nil || res.Answered != 2 || !res.Exhausted {
		t.Fatalf("Run = %+v, %v; want 2 answered, exhausted", res, err)
	}
	for _, tok := range []string{"t1", "t2"} {
		if got, want := seen["Bearer "+tok], `POST /v1/campaigns/c1/claims application/json {"sku":"s","qty":1}`; got != want {
			t.Errorf("server saw %q for %s; want %q", got, tok, want)
		}
	}
}

// TestRunCountsEveryStatus: 202 and 409 are answered, anything else an
// error; every request is sent once, on as many connections as workers.
func TestRunCountsEveryStatus(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		switch tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); {
		case strings.HasSuffix(tok, "0"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasSuffix(tok, "1"):
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"error":{"code":"sold_out"}}`)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = "u" + string(rune('a'+i/10)) + string(rune('0'+i%10))
	}
	reqs, _ := click.Build(srv.URL, "/x", tokens, []byte(`{}`))
	res, err := click.Run(context.Background(), click.Config{URL: srv.URL, Conns: 4, Window: time.Minute, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{202: 80, 409: 10, 503: 10}
	for s, n := range want {
		if res.Statuses[s] != n {
			t.Errorf("status %d: %d; want %d (all %v)", s, res.Statuses[s], n, res.Statuses)
		}
	}
	if res.Requests != 100 || res.Answered != 90 || res.Errors != 10 || res.Latency.N != 90 {
		t.Errorf("Run = %d requests, %d answered, %d errors, %d latencies; want 100, 90, 10, 90", res.Requests, res.Answered, res.Errors, res.Latency.N)
	}
	if len(conns) != 4 {
		t.Errorf("server saw %d connections; want 4 (one per worker, kept alive)", len(conns))
	}
}

// TestRunCyclesForAWindow measures the bare handler for a short window.
func TestRunCyclesForAWindow(t *testing.T) {
	url, stop, err := baseline.ServeBare()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	reqs, _ := click.Build(url, "/v1/campaigns/c/claims", []string{"a", "b", "c"}, []byte(`{"sku":"s","qty":1}`))
	window := 300 * time.Millisecond
	res, err := click.Run(context.Background(), click.Config{URL: url, Conns: 8, Window: window, Requests: reqs, Cycle: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests <= len(reqs) || res.Errors != 0 || res.Statuses[202] != res.Requests || res.Exhausted {
		t.Errorf("Run = %+v; want more requests than built, all 202, not exhausted", res)
	}
	if res.Elapsed < window || res.ClientCPU <= 0 || res.PerSecond() <= 0 {
		t.Errorf("Run elapsed %v, client CPU %v, %.0f/s; want at least the window, some CPU, a rate", res.Elapsed, res.ClientCPU, res.PerSecond())
	}
}

func TestRunFailsWithNoServer(t *testing.T) {
	reqs, _ := click.Build("http://127.0.0.1:1", "/x", []string{"a"}, nil)
	res, err := click.Run(context.Background(), click.Config{URL: "http://127.0.0.1:1", Conns: 1, Window: 50 * time.Millisecond, Requests: reqs})
	if err == nil || res.Statuses[0] == 0 {
		t.Errorf("Run against a closed port = %+v, %v; want an error and status 0 counted", res, err)
	}
}

// TestRunOpenLoop: requests start at the rate whatever the server does; a
// server slower than the workers can cover makes arrivals missed, not late.
func TestRunOpenLoop(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") == "Bearer slow" {
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	defer close(release)
	fast, _ := click.Build(srv.URL, "/x", []string{"fast"}, nil)
	res, err := click.Run(context.Background(), click.Config{URL: srv.URL, Conns: 4, Window: 500 * time.Millisecond, Requests: fast, Cycle: true, Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	if sent := res.Sent(); sent < 50 || sent > 101 || res.Missed != 0 {
		t.Errorf("open loop at 200/s for 0.5 s sent %d, missed %d; want about 100 (at most 101), none missed", sent, res.Missed)
	}
	slow, _ := click.Build(srv.URL, "/x", []string{"slow"}, nil)
	res, err = click.Run(context.Background(), click.Config{URL: srv.URL, Conns: 2, Window: 300 * time.Millisecond, Requests: slow, Cycle: true, Rate: 100, Timeout: time.Second})
	if err == nil || res.Sent() != 2 || res.Missed < 10 {
		t.Errorf("open loop on a stuck server: sent %d, missed %d, err %v; want 2 sent (one per worker), the rest missed", res.Sent(), res.Missed, err)
	}
}

// TestRunFromSources: each worker dials from its own source address, and
// a refusal without both retry headers is counted.
func TestRunFromSources(t *testing.T) {
	var mu sync.Mutex
	peers := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.RemoteAddr, ":")
		mu.Lock()
		peers[host] = true
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		if host == "127.0.1.1" {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Retry-After-Ms", "250")
		}
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	reqs, _ := click.Build(srv.URL, "/x", []string{"a"}, nil)
	sources := []netip.Addr{netip.MustParseAddr("127.0.1.1"), netip.MustParseAddr("127.0.1.2")}
	res, err := click.Run(context.Background(), click.Config{URL: srv.URL, Conns: 2, Window: time.Minute,
		Requests: [][]byte{reqs[0], reqs[0], reqs[0], reqs[0]}, Sources: sources, Answer: []int{http.StatusTooManyRequests}})
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || !peers["127.0.1.1"] || !peers["127.0.1.2"] {
		t.Errorf("server saw peers %v; want 127.0.1.1 and 127.0.1.2", peers)
	}
	if res.Answered != 4 || res.Unhinted == 0 || res.Unhinted == 4 {
		t.Errorf("answered %d, unhinted %d; want 4 answered (429 asked for), the ones from 127.0.1.2 unhinted", res.Answered, res.Unhinted)
	}
}
