package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// get: GET /v1/campaigns/{id} (public) → 200 the campaign's spec, with an
// ETag (a hash of the spec) and a public max-age so a CDN can keep it;
// If-None-Match with that ETag → 304.
func (f *Function) get(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	c, err := f.campaign(ctx, r.PathValue("id"))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	spec, err := json.Marshal(c)
	if err != nil {
		f.fail(w, r, fmt.Errorf("campaign %s: %w", c.ID, err))
		return
	}
	tag := etag(spec)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(f.d.MaxAge.Seconds())))
	if matches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(spec, '\n'))
}

// etag is a strong validator of spec.
func etag(spec []byte) string {
	sum := sha256.Sum256(spec)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// matches reports whether an If-None-Match header names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
