package main

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/switches"
)

// The answers of the degrade switches that refuse a click at once.
var (
	errClaimsPaused = httpapi.Errorf(http.StatusServiceUnavailable, "claims_paused",
		"new claims are paused by the operator, retry later").WithRetryAfter(2 * time.Second)
	errShed = httpapi.Errorf(http.StatusServiceUnavailable, "shed",
		"the click was shed to relieve the sale, retry shortly").WithRetryAfter(time.Second)
)

// degraded is the answer the switches give a click before anything else
// is done for it (no auth, no Redis, no in-flight slot): paused claims,
// or a shed click (each click with the probability shed_fraction); nil
// lets it through.
func (f *Function) degraded(sw *switches.Snapshot) error {
	switch {
	case sw.PauseClaims():
		return errClaimsPaused
	case rand.Float64() < sw.ShedFraction():
		return errShed
	}
	return nil
}
