package main

import (
	"context"
	"errors"

	"net/http"
	"strings"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/ratelimit"
)

// Scopes of the rate limits: a challenge and a claim draw on buckets of
// their own, so asking for a challenge does not spend a click.
const (
	scopeClaim     = "claim"
	scopeChallenge = "challenge"
)

// limit takes a token from each of the request's buckets in scope: the
// user's, the client IP's and, for a claim, the campaign's ceiling.
func (f *Function) limit(ctx context.Context, r *http.Request, spec *campaign.Campaign, user, scope string) error {
	l := f.d.Limits
	if spec.Limits != nil {
		l = spec.Limits.Or(f.d.Limits)
	}
	limits := []ratelimit.Limit{
		{Who: "user:" + user, Rate: ratelimit.Rate{PerSec: l.UserPerSec, Burst: l.UserBurst}},
		{Who: "ip:" + f.d.ClientIP.IP(r), Rate: ratelimit.Rate{PerSec: l.IPPerSec, Burst: l.IPBurst}},
	}
	if scope == scopeClaim {
		limits = append(limits, ratelimit.Limit{Who: "all", Rate: ceiling(l.CampaignPerSec)})
	}
	ref, err := f.limiter.Take(ctx, spec.ID, scope, limits...)
	if err != nil {
		return err
	}
	if ref == nil {
		return nil
	}
	return limitError(ref)
}

// ceiling is the campaign's bucket: one second's worth of clicks at once.
func ceiling(perSec float64) ratelimit.Rate {
	return ratelimit.Rate{PerSec: perSec, Burst: max(1, int(perSec))}
}

// limitError is a refusal's public answer (429, Retry-After):
//
//	rate_limited_user      this user clicks faster than the campaign allows
//	rate_limited_ip        so does this client IP, all its users together
//	rate_limited_campaign  the campaign takes no more clicks this second
func limitError(ref *ratelimit.Refusal) error {
	var code string
	switch kind, _, _ := strings.Cut(ref.Limit.Who, ":"); kind {
	case "user":
		code = "rate_limited_user"
	case "ip":
		code = "rate_limited_ip"
	case "all":
		code = "rate_limited_campaign"
	default:
		return errors.New("rate limit: unknown limit " + ref.Limit.Who)
	}
	return httpapi.Errorf(http.StatusTooManyRequests, code, "too many requests; retry in %d ms",
		max(1, ref.Wait.Milliseconds())).WithRetryAfter(ref.Wait)
}
