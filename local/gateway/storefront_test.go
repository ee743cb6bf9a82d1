package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// allServices are fake instances of every service the gateway needs.
func allServices(t *testing.T) (*backends, http.Handler) {
	b := newBackends(t, "admin", "captcha", "query", "reconcile")
	return b, newGateway(t, b.urls)
}

// TestStorefrontServed: the page and its files are 200 with their type,
// Cache-Control and a strong ETag, from the gateway itself (no service is
// asked); / and /store/ are the page.
func TestStorefrontServed(t *testing.T) {
	b, g := allServices(t)
	etag := regexp.MustCompile(`^"[0-9a-f]{32}"$`)
	tests := []struct{ path, mime, contains string }{
		{"/", "text/html", `<script src="/store/store.js"`},
		{"/store/", "text/html", `<script src="/store/store.js"`},
		{"/store/index.html", "text/html", `<script src="/store/store.js"`},
		{"/store/store.js", "text/javascript", "/v1/campaigns/"},
		{"/store/store.css", "text/css", "--accent"},
		{"/?campaign=double11", "text/html", "<title>"},
	}
	for _, tt := range tests {
		rec := serve(g, http.MethodGet, tt.path)
		h := rec.Header()
		switch {
		case rec.Code != http.StatusOK:
			t.Errorf("GET %s: status %d; want 200", tt.path, rec.Code)
		case !strings.HasPrefix(h.Get("Content-Type"), tt.mime):
			t.Errorf("GET %s: Content-Type %q; want %s", tt.path, h.Get("Content-Type"), tt.mime)
		case h.Get("Cache-Control") != "public, max-age=60":
			t.Errorf("GET %s: Cache-Control %q; want public, max-age=60", tt.path, h.Get("Cache-Control"))
		case !etag.MatchString(h.Get("ETag")):
			t.Errorf("GET %s: ETag %q; want a strong quoted hash", tt.path, h.Get("ETag"))
		case !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'"):
			t.Errorf("GET %s: Content-Security-Policy %q; want default-src 'self'", tt.path, h.Get("Content-Security-Policy"))
		case !strings.Contains(rec.Body.String(), tt.contains):
			t.Errorf("GET %s: body lacks %q", tt.path, tt.contains)
		}
	}
	if got := b.take(); len(got) != 0 {
		t.Errorf("the storefront reached %+v; want no service", got)
	}
	if a, b := serve(g, http.MethodGet, "/store/store.js").Header().Get("ETag"), serve(g, http.MethodGet, "/").Header().Get("ETag"); a == b {
		t.Errorf("store.js and the page share the ETag %s; want one per file", a)
	}
	head := serve(g, http.MethodHead, "/store/store.js")
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("ETag") == "" {
		t.Errorf("HEAD /store/store.js: status %d, %d bytes, ETag %q; want 200, no body, the ETag", head.Code, head.Body.Len(), head.Header().Get("ETag"))
	}
}

// TestStorefrontRevalidates: If-None-Match with the file's ETag is a 304
// without a body (with the same validators); another ETag gets the file.
func TestStorefrontRevalidates(t *testing.T) {
	_, g := allServices(t)
	for _, path := range []string{"/", "/store/store.js", "/store/store.css"} {
		first := serve(g, http.MethodGet, path)
		tag := first.Header().Get("ETag")
		for _, tt := range []struct {
			ifNoneMatch string
			want        int
		}{
			{tag, http.StatusNotModified},
			{`"0000", ` + tag, http.StatusNotModified},
			{"*", http.StatusNotModified},
			{`"00000000000000000000000000000000"`, http.StatusOK},
		} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("If-None-Match", tt.ifNoneMatch)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("GET %s If-None-Match %s: status %d; want %d", path, tt.ifNoneMatch, rec.Code, tt.want)
			}
			if tt.want == http.StatusNotModified {
				if rec.Body.Len() != 0 || rec.Header().Get("ETag") != tag || rec.Header().Get("Cache-Control") == "" {
					t.Errorf("GET %s If-None-Match %s: %d bytes, ETag %q, Cache-Control %q; want no body, the ETag and Cache-Control",
						path, tt.ifNoneMatch, rec.Body.Len(), rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
				}
			} else if rec.Body.String() != first.Body.String() {
				t.Errorf("GET %s with a stale ETag: not the file", path)
			}
		}
	}
}

// TestStorefrontUnknownFile: a file that is not embedded is the gateway's
// JSON 404, and reaches no service.
func TestStorefrontUnknownFile(t *testing.T) {
	b, g := allServices(t)
	for _, path := range []string{"/store/nope.js", "/store/static/index.html", "/store/index.htm", "/index.html", "/favicon.ico", "/store/store.js/x"} {
		rec := serve(g, http.MethodGet, path)
		var body struct{ Error struct{ Code string } }
		if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != "not_found" {
			t.Errorf("GET %s: status %d, body %q; want 404 not_found", path, rec.Code, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "" {
			t.Errorf("GET %s: a 404 with Cache-Control %q; want none", path, rec.Header().Get("Cache-Control"))
		}
	}
	if got := b.take(); len(got) != 0 {
		t.Errorf("unknown files reached %+v; want no service", got)
	}
}

// TestStorefrontNeverShadowsTheAPI: with the page mounted, every API
// route still reaches its service, and unknown /v1 paths (even ones
// named like the page's files) stay the API's 404, never the page.
func TestStorefrontNeverShadowsTheAPI(t *testing.T) {
	b, g := allServices(t)
	for _, r := range api {
		if rec := serve(g, r.method, r.uri); rec.Code != http.StatusTeapot {
			t.Errorf("%s %s: status %d; want the service's 418", r.method, r.uri, rec.Code)
		}
		if got := b.take(); len(got) != 1 || got[0].service != r.service {
			t.Errorf("%s %s reached %+v; want %s", r.method, r.uri, got, r.service)
		}
	}
	for _, path := range []string{"/v1/", "/v1/store/", "/v1/store/index.html", "/v1/index.html", "/v1/campaigns/x/store.js"} {
		rec := serve(g, http.MethodGet, path)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("GET %s: status %d, body %.40q; want the API's JSON 404", path, rec.Code, rec.Body)
		}
	}
}
