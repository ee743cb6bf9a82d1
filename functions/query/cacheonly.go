package main

import (
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/httpapi"
)

// degradedHeader marks an answer made under the reads_cache_only switch:
// from Redis alone, PostgreSQL not read.
const degradedHeader = "Surge-Degraded"

// errNotCached answers, under reads_cache_only, a read that only
// PostgreSQL could answer: a claim Redis has no record of, a wallet (its
// settled part and withdrawals are in PostgreSQL; a balance without them
// would be wrong).
var errNotCached = httpapi.Errorf(http.StatusServiceUnavailable, "cache_only",
	"reads are served from the cache only for now, and this one is not in it; retry later").WithRetryAfter(5 * time.Second)

// cacheOnly reports whether reads are served from Redis only (the
// reads_cache_only switch), and then marks the answer with the header.
func (f *Function) cacheOnly(w http.ResponseWriter) bool {
	if !f.switches.Now().ReadsCacheOnly() {
		return false
	}
	w.Header().Set(degradedHeader, "cache-only")
	return true
}
