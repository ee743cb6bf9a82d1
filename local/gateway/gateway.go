// Package gateway routes the public HTTP API to the functions that serve it,
// the way the cluster's HTTPRoute does: one table, read by both.
package gateway

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

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
		{http.MethodPost, "/v1/campaigns/{id}/challenges", "captcha"},
		{http.MethodPost, "/v1/campaigns/{id}/claims", "captcha"},
		{http.MethodGet, "/v1/claims/{id}", "query"},
		{http.MethodGet, "/v1/orders", "query"},
		{http.MethodGet, "/v1/keys", "query"},
	}
}

// New returns a handler proxying every route to its service's base URL.
// The transport sets no response timeout, and the server in front of it
// must set no WriteTimeout either: GET /v1/claims/{id}?wait= holds a
// request up to 30 s (the query function's cap) by design. The client's
// own deadline bounds a request.
func New(services map[string]string) (http.Handler, error) {
	transport := &http.Transport{
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	proxies := make(map[string]*httputil.ReverseProxy)
	mux := http.NewServeMux()
	for _, r := range Routes() {
		p, err := proxyFor(services, r.Service, transport, proxies)
		if err != nil {
			return nil, err
		}
		mux.Handle(r.Method+" "+r.Path, p)
	}
	mux.HandleFunc("/", httpapi.NotFound)
	return mux, nil
}

func proxyFor(services map[string]string, name string, t http.RoundTripper, made map[string]*httputil.ReverseProxy) (*httputil.ReverseProxy, error) {
	if p, ok := made[name]; ok {
		return p, nil
	}
	base, ok := services[name]
	if !ok {
		return nil, fmt.Errorf("gateway: no address for service %q", name)
	}
	target, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("gateway: service %s: %w", name, err)
	}
	p := httputil.NewSingleHostReverseProxy(target)
	p.Transport = t
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		httpapi.WriteError(w, httpapi.Errorf(http.StatusServiceUnavailable, "upstream_unavailable", "%s is unavailable", name))
	}
	made[name] = p
	return p, nil
}
