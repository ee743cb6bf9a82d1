package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/gateway"
)

// hit is one request a fake service received.
type hit struct{ service, method, uri, body string }

// backends starts one fake service per name, recording what reaches it.
type backends struct {
	mu   sync.Mutex
	hits []hit
	urls map[string]string
}

func newBackends(t *testing.T, names ...string) *backends {
	b := &backends{urls: make(map[string]string)}
	for _, name := range names {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			b.mu.Lock()
			b.hits = append(b.hits, hit{name, r.Method, r.URL.RequestURI(), string(body)})
			b.mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		}))
		t.Cleanup(srv.Close)
		b.urls[name] = srv.URL
	}
	return b
}

func (b *backends) take() []hit {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.hits
	b.hits = nil
	return h
}

// one gives each service a single instance.
func one(services map[string]string) map[string][]string {
	out := make(map[string][]string, len(services))
	for name, url := range services {
		out[name] = []string{url}
	}
	return out
}

func newGateway(t *testing.T, services map[string]string) http.Handler {
	t.Helper()
	g, err := gateway.New(one(services))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func serve(g http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(`{"x":1}`)))
	return rec
}

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	return strings.NewReplacer("{id}", "double11.7f3a").Replace(pattern)
}

// api is the public API of DESIGN.md as served today, written out apart
// from gateway.Routes so a route sent to the wrong service is caught.
var api = []struct{ method, uri, service string }{
	{http.MethodPost, "/v1/campaigns", "admin"},
	{http.MethodGet, "/v1/campaigns/double11", "admin"},
	{http.MethodPost, "/v1/campaigns/double11/warmup", "admin"},
	{http.MethodGet, "/v1/campaigns/double11/stock", "admin"},
	{http.MethodGet, "/v1/campaigns/double11/challenge-bank", "admin"},
	{http.MethodGet, "/v1/campaigns/double11/stats", "admin"},
	{http.MethodPost, "/v1/campaigns/double11/challenges", "captcha"},
	{http.MethodPost, "/v1/campaigns/double11/claims", "captcha"},
	{http.MethodGet, "/v1/claims/double11.7f3a", "query"},
	{http.MethodGet, "/v1/orders?page=2", "query"},
	{http.MethodPost, "/v1/orders/double11:phone-x:alice:1/payment", "query"},
	{http.MethodGet, "/v1/wallet", "query"},
	{http.MethodPost, "/v1/wallet/withdrawals", "query"},
	{http.MethodPost, "/v1/wallet/tokens", "query"},
	{http.MethodGet, "/v1/keys", "query"},
	{http.MethodGet, "/v1/dead-letters?campaign=double11", "admin"},
	{http.MethodPost, "/v1/dead-letters/redrive?type=x", "admin"},
	{http.MethodPost, "/v1/dead-letters/42/redrive", "admin"},
	{http.MethodGet, "/v1/campaigns/double11/reconcile?limit=5", "reconcile"},
	{http.MethodPost, "/v1/campaigns/double11/reconcile", "reconcile"},
}

func TestEveryRouteReachesItsService(t *testing.T) {
	b := newBackends(t, "admin", "captcha", "query", "reconcile")
	g := newGateway(t, b.urls)
	check := func(method, uri, service string) {
		t.Helper()
		if rec := serve(g, method, uri); rec.Code != http.StatusTeapot {
			t.Errorf("%s %s: status = %d; want the service's 418", method, uri, rec.Code)
		}
		want := hit{service, method, uri, `{"x":1}`}
		if got := b.take(); len(got) != 1 || got[0] != want {
			t.Errorf("%s %s reached %+v; want %+v", method, uri, got, want)
		}
	}
	for _, r := range gateway.Routes() {
		check(r.Method, concrete(r.Path)+"?page=2", r.Service)
	}
	for _, r := range api {
		check(r.method, r.uri, r.service)
	}
	if got, want := len(gateway.Routes()), len(api); got != want {
		t.Errorf("gateway.Routes() has %d routes; want the %d of the API table", got, want)
	}
}

func TestNoRoute(t *testing.T) {
	b := newBackends(t, "admin", "captcha", "query", "reconcile")
	g := newGateway(t, b.urls)
	tests := []struct{ name, method, target string }{
		{"unknown path", http.MethodGet, "/v1/nope"},
		{"POST to the storefront", http.MethodPost, "/"},
		{"unversioned", http.MethodPost, "/campaigns"},
		{"sub-path of a route", http.MethodGet, "/v1/keys/extra"},
		// A wrong method on a known path is 404, not 405: the catch-all
		// "/" pattern matches every method, so ServeMux never answers 405.
		{"wrong method on a known path", http.MethodGet, "/v1/campaigns"},
		{"DELETE a campaign", http.MethodDelete, "/v1/campaigns/double11"},
		{"POST to a GET route", http.MethodPost, "/v1/keys"},
	}
	for _, tt := range tests {
		rec := serve(g, tt.method, tt.target)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s (%s %s): status = %d; want 404", tt.name, tt.method, tt.target, rec.Code)
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "not_found" {
			t.Errorf("%s: body %q (%v); want a JSON error with code not_found", tt.name, rec.Body, err)
		}
		if got := b.take(); len(got) != 0 {
			t.Errorf("%s: reached %+v; want no service", tt.name, got)
		}
	}
}

func TestDownService(t *testing.T) {
	b := newBackends(t, "admin", "captcha", "reconcile")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // its port now refuses connections
	b.urls["query"] = down.URL
	rec := serve(newGateway(t, b.urls), http.MethodGet, "/v1/keys")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d; want 503", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got == "" {
		t.Error("no Retry-After header; want one")
	}
	var body struct{ Error struct{ Code string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "upstream_unavailable" {
		t.Errorf("body %q (%v); want a JSON error with code upstream_unavailable", rec.Body, err)
	}
}

func TestNewNeedsEveryService(t *testing.T) {
	all := map[string]string{"admin": "http://127.0.0.1:1", "captcha": "http://127.0.0.1:2", "query": "http://127.0.0.1:3",
		"reconcile": "http://127.0.0.1:4"}
	if _, err := gateway.New(one(all)); err != nil {
		t.Fatalf("New(all services) = %v; want nil", err)
	}
	for name := range all {
		services := make(map[string]string)
		for k, v := range all {
			if k != name {
				services[k] = v
			}
		}
		if _, err := gateway.New(one(services)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("New without %s = %v; want an error naming it", name, err)
		}
	}
	bad := map[string]string{"admin": "http://[::1", "captcha": "http://x", "query": "http://y", "reconcile": "http://z"}
	if _, err := gateway.New(one(bad)); err == nil {
		t.Error("New with an unparsable URL = nil error; want an error")
	}
}

// A service with several instances gets its requests round robin, with
// the client's address in X-Forwarded-For.
func TestInstancesShareRequests(t *testing.T) {
	b := newBackends(t, "admin", "query", "reconcile", "captcha-1", "captcha-2")
	var forwarded sync.Map
	xff := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded.Store(r.Header.Get("X-Forwarded-For"), true)
	}))
	t.Cleanup(xff.Close)
	g, err := gateway.New(map[string][]string{"admin": {b.urls["admin"]}, "query": {b.urls["query"]},
		"reconcile": {b.urls["reconcile"]}, "captcha": {b.urls["captcha-1"], b.urls["captcha-2"], xff.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		serve(g, http.MethodPost, "/v1/campaigns/double11/claims")
	}
	count := map[string]int{}
	for _, h := range b.take() {
		count[h.service]++
	}
	if count["captcha-1"] != 2 || count["captcha-2"] != 2 {
		t.Errorf("requests per instance %v; want 2 each (and 2 to the third)", count)
	}
	if _, ok := forwarded.Load("192.0.2.1"); !ok { // httptest.NewRequest's RemoteAddr
		t.Error("X-Forwarded-For not set to the client's address")
	}
}

// TestLongPollIsNotCut: a long poll (GET /v1/claims/{id}?wait=) that the
// service answers after 6 s passes through the gateway, served as the
// engine serves it.
func TestLongPollIsNotCut(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(6 * time.Second):
			w.WriteHeader(http.StatusTeapot)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	gw := httptest.NewUnstartedServer(newGateway(t, map[string]string{"admin": slow.URL, "captcha": slow.URL, "query": slow.URL, "reconcile": slow.URL}))
	gw.Config.ReadHeaderTimeout = 5 * time.Second // as local/engine serves it
	gw.Start()
	defer gw.Close()
	resp, err := http.Get(gw.URL + "/v1/claims/double11.7f3a?wait=6s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d after a 6 s wait, want the service's 418", resp.StatusCode)
	}
}
