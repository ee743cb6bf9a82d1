// Package ratelimit holds token buckets: one in Redis per limited party
// (the truth shared by every instance) and an in-process pre-filter that
// refuses, without a round trip, what is certainly over the limit.
package ratelimit

import (
	"math"
	"time"
)

// Rate is a token bucket's refill rate and size. A zero PerSec is no limit.
type Rate struct {
	PerSec float64
	Burst  int // at least 1 when PerSec > 0
}

// Unlimited reports whether r limits nothing.
func (r Rate) Unlimited() bool { return r.PerSec <= 0 }

// size is the bucket's capacity: Burst, at least one token.
func (r Rate) size() float64 { return math.Max(1, float64(r.Burst)) }

// wait is how long a bucket holding tokens takes to hold one.
func (r Rate) wait(tokens float64) time.Duration {
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / r.PerSec * float64(time.Second)))
}
