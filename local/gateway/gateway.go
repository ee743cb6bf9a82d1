// Package gateway routes the public HTTP API to the functions that serve it,
// the way the cluster's HTTPRoute does: one table, read by both.
package gateway

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surgekit/surge/local/storefront"
	"github.com/surgekit/surge/shared/httpapi"
)

// Route sends one method and path pattern of the public API to a function.
type Route struct {
	Method  string
	Path    string // a net/http ServeMux pattern path
	Service string // the function (Knative Service) that serves it
}

// Routes is the public API v1 of DESIGN.md, as served today.
func Routes() []Route {
	return []Route{
		{http.MethodPost, "/v1/campaigns", "admin"},
		{http.MethodGet, "/v1/campaigns/{id}", "admin"},
		{http.MethodPost, "/v1/campaigns/{id}/warmup", "admin"},
		{http.MethodGet, "/v1/campaigns/{id}/stock", "admin"},
		{http.MethodGet, "/v1/campaigns/{id}/challenge-bank", "admin"},
		{http.MethodGet, "/v1/campaigns/{id}/stats", "admin"},
		{http.MethodPost, "/v1/campaigns/{id}/challenges", "captcha"},
		{http.MethodPost, "/v1/campaigns/{id}/claims", "captcha"},
		{http.MethodGet, "/v1/claims/{id}", "query"},
		{http.MethodGet, "/v1/orders", "query"},
		{http.MethodPost, "/v1/orders/{id}/payment", "query"},
		{http.MethodGet, "/v1/wallet", "query"},
		{http.MethodPost, "/v1/wallet/withdrawals", "query"},
		{http.MethodPost, "/v1/wallet/tokens", "query"},
		{http.MethodGet, "/v1/keys", "query"},
		{http.MethodGet, "/v1/dead-letters", "admin"},
		{http.MethodPost, "/v1/dead-letters/redrive", "admin"},
		{http.MethodPost, "/v1/dead-letters/{id}/redrive", "admin"},
		{http.MethodGet, "/v1/campaigns/{id}/reconcile", "reconcile"},
		{http.MethodPost, "/v1/campaigns/{id}/reconcile", "reconcile"},
	}
}

// New returns a handler proxying every route to its service, and serving
// the gateway's own metrics on GET /metrics (outside the API v1: no
// function sees it, see metrics) and the buyers' static page
// (local/storefront) at / and under /store/; neither is a route of the
// API, so neither is in Routes. services maps
// a service to the base URLs of its instances; requests go round robin
// across them, as a Kubernetes Service spreads them over its pods. The
// transport sets no response timeout, and the server in front of it must
// set no WriteTimeout either: GET /v1/claims/{id}?wait= holds a request up
// to 30 s (the query function's cap) by design. The client's own deadline
// bounds a request.
func New(services map[string][]string) (http.Handler, error) {
	transport := &http.Transport{
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	buffers := &bufferPool{}
	m := newMetrics()
	proxies := make(map[string]http.Handler)
	mux := http.NewServeMux()
	for _, r := range Routes() {
		p, ok := proxies[r.Service]
		if !ok {
			var err error
			if p, err = proxyFor(r.Service, services[r.Service], transport, buffers, m.upstreamErrors(r.Service)); err != nil {
				return nil, err
			}
			proxies[r.Service] = p
		}
		pattern := r.Method + " " + r.Path
		mux.Handle(pattern, m.instrument(pattern, p))
	}
	mux.Handle("GET /metrics", m.handler())
	store, err := storefront.New()
	if err != nil {
		return nil, err
	}
	store.Register(mux)
	mux.Handle("/", m.instrument(unmatched, http.HandlerFunc(httpapi.NotFound)))
	return mux, nil
}

// proxyFor is the reverse proxy of one service over its instances. It
// copies bodies through pooled buffers (the standard proxy allocates 32 KB
// per request without a BufferPool) and sets X-Forwarded-For from the
// client's address: the trusted proxy's header the funnel reads. A call
// the service does not answer counts in upstreamErrors, unless the client
// left first.
func proxyFor(name string, bases []string, t http.RoundTripper, buffers httputil.BufferPool, upstreamErrors prometheus.Counter) (http.Handler, error) {
	if len(bases) == 0 {
		return nil, fmt.Errorf("gateway: no address for service %q", name)
	}
	targets := make([]*url.URL, len(bases))
	for i, base := range bases {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("gateway: service %s: bad address %q", name, base)
		}
		targets[i] = u
	}
	var next atomic.Uint64
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(targets[(next.Add(1)-1)%uint64(len(targets))])
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
		},
		Transport:  t,
		BufferPool: buffers,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				upstreamErrors.Inc()
			}
			httpapi.WriteError(w, httpapi.Errorf(http.StatusServiceUnavailable, "upstream_unavailable", "%s is unavailable", name))
		},
	}, nil
}

// bufferPool lends the proxies their copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
