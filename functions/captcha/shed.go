package main

import (
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/httpapi"
)

// Defaults of the overload bounds. DefaultMaxInflight is also captcha's
// containerConcurrency in infra/knative/base/services.yaml: keep them equal.
const (
	DefaultMaxInflight    = 256
	DefaultPublishTimeout = 500 * time.Millisecond
	defaultLocalBuckets   = 100_000 // in-process rate-limit buckets per instance
)

// errOverloaded: this instance holds MaxInflight claims already.
var errOverloaded = httpapi.Errorf(http.StatusServiceUnavailable, "overloaded", "too many claims in flight, retry shortly")

// enter takes an in-flight slot, or reports that there is none free.
func (f *Function) enter() bool {
	select {
	case f.inflight <- struct{}{}:
		return true
	default:
		return false
	}
}

func (f *Function) leave() { <-f.inflight }
