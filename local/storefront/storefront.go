// Package storefront is the buyers' page: plain HTML, CSS and JavaScript
// embedded in the gateway and served the same to every buyer at every
// moment, with Cache-Control and a strong ETag, so a browser or a CDN
// keeps it and a revalidation is a 304 with no body. Everything that
// depends on the buyer or on the time (the stock, the clock of the
// countdown, the captcha, the claim, the orders and the wallet) the page
// asks the public API (/v1) for, from the browser: the static/dynamic
// split of seed 004 (动静分离). It has no server-side part of its own.
//
// The page is served at / and under /store/; it reads the campaign from
// ?campaign= and the buyer's JWT from the URL fragment (#token=, never
// sent to a server) or a field:
//
//	http://127.0.0.1:8088/?campaign=double11#token=eyJhbGciOi…
package storefront

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/surgekit/surge/shared/httpapi"
)

// static holds the page's files; index.html is the page itself.
//
//go:embed static
var static embed.FS

// MaxAge is how long a browser or a CDN may keep a file before it
// revalidates it with its ETag: a new gateway's page reaches buyers
// within it.
const MaxAge = 60 * time.Second

// policy keeps the page to its own origin: scripts and styles from these
// files only, API calls to this gateway; images may also come from the
// object store's presigned URLs (the captcha), whatever their host.
const policy = "default-src 'self'; img-src 'self' http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// file is one embedded file, hashed once.
type file struct {
	name string // the file's name, whose extension gives its Content-Type
	body []byte
	etag string
}

// Handler serves the embedded files.
type Handler struct {
	files map[string]file // by URL path under /store/
}

// New reads the embedded files and computes their ETags.
func New() (*Handler, error) {
	h := &Handler{files: make(map[string]file)}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "static/")
		h.files["/store/"+name] = file{name: name, body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storefront: %w", err)
	}
	if _, ok := h.files["/store/index.html"]; !ok {
		return nil, fmt.Errorf("storefront: no index.html embedded")
	}
	return h, nil
}

// Register mounts the page on mux: GET (and HEAD) of / exactly and of
// everything under /store/. The API's /v1 patterns are more specific and
// never reach it; an unknown file under /store/ is the gateway's JSON 404.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /store/", h)
}

// ServeHTTP answers one file: 200 with Cache-Control and ETag, 304 when
// If-None-Match names the ETag, 404 for a file that is not embedded.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := h.files[route(r.URL.Path)]
	if !ok {
		httpapi.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(MaxAge.Seconds())))
	hd.Set("ETag", f.etag)
	hd.Set("Content-Security-Policy", policy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	// ServeContent sets the Content-Type from the name and answers 304
	// to a matching If-None-Match (and ranges); no Last-Modified, as
	// embedded files have no time.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// route is the file a URL path names: / and /store/ are the page.
func route(p string) string {
	switch p {
	case "/", "/store/":
		return "/store/index.html"
	}
	return path.Clean(p)
}
