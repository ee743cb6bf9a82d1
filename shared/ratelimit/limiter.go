package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// Limit is one bucket a request must take a token from: Who names the
// limited party within the campaign and scope ("user:alice", "all").
type Limit struct {
	Who  string
	Rate Rate
}

// Refusal says which limit refused a request and when to retry.
type Refusal struct {
	Limit Limit
	Wait  time.Duration
}

func (r *Refusal) Error() string { return fmt.Sprintf("rate limited: %s for %v", r.Limit.Who, r.Wait) }

// Limiter checks a request's limits against the local buckets first, then
// in one script run against Redis, the truth shared by every instance.
type Limiter struct {
	rdb   redis.UniversalClient
	keys  keyspace.Space
	local *Local
	now   func() time.Time
}

// New returns a Limiter keeping at most localKeys in-process buckets.
func New(rdb redis.UniversalClient, keys keyspace.Space, localKeys int) *Limiter {
	return &Limiter{rdb: rdb, keys: keys, local: NewLocal(localKeys), now: time.Now}
}

// Take takes one token from every limit of a request on campaign in scope,
// or from none: a *Refusal names the first limit without one. Unlimited
// limits are skipped.
func (l *Limiter) Take(ctx context.Context, campaign, scope string, limits ...Limit) (*Refusal, error) {
	limits = limited(limits)
	if len(limits) == 0 {
		return nil, nil
	}
	if ref := l.takeLocal(campaign, scope, limits); ref != nil {
		return ref, nil
	}
	ref, err := l.takeRedis(ctx, campaign, scope, limits)
	if ref != nil || err != nil {
		l.undoLocal(campaign, scope, limits)
	}
	if ref != nil {
		l.local.Hold(l.localKey(campaign, scope, ref.Limit), ref.Limit.Rate, ref.Wait, l.now())
	}
	return ref, err
}

func limited(limits []Limit) []Limit {
	out := make([]Limit, 0, len(limits))
	for _, lim := range limits {
		if !lim.Rate.Unlimited() {
			out = append(out, lim)
		}
	}
	return out
}

// takeLocal takes a local token for every limit, giving back those taken
// when one refuses.
func (l *Limiter) takeLocal(campaign, scope string, limits []Limit) *Refusal {
	now := l.now()
	for i, lim := range limits {
		if ok, wait := l.local.Allow(l.localKey(campaign, scope, lim), lim.Rate, now); !ok {
			l.undoLocal(campaign, scope, limits[:i])
			return &Refusal{Limit: lim, Wait: wait}
		}
	}
	return nil
}

func (l *Limiter) undoLocal(campaign, scope string, limits []Limit) {
	for _, lim := range limits {
		l.local.Undo(l.localKey(campaign, scope, lim), lim.Rate)
	}
}

func (l *Limiter) localKey(campaign, scope string, lim Limit) string {
	return campaign + "\x00" + scope + "\x00" + lim.Who
}

func (l *Limiter) takeRedis(ctx context.Context, campaign, scope string, limits []Limit) (*Refusal, error) {
	c := l.keys.Campaign(campaign)
	keys := make([]string, len(limits))
	args := make([]any, 0, 2*len(limits))
	for i, lim := range limits {
		keys[i] = c.Limit(scope, lim.Who)
		args = append(args, strconv.FormatFloat(lim.Rate.PerSec, 'f', -1, 64), strconv.Itoa(int(lim.Rate.size())))
	}
	res, err := takeScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("rate limit %s: %w", campaign, err)
	}
	if len(res) != 2 || res[0] < 0 || int(res[0]) > len(limits) {
		return nil, fmt.Errorf("rate limit %s: unexpected reply %v", campaign, res)
	}
	if res[0] == 0 {
		return nil, nil
	}
	return &Refusal{Limit: limits[res[0]-1], Wait: time.Duration(res[1]) * time.Millisecond}, nil
}
