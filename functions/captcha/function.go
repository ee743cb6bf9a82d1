package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/clientip"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/ratelimit"
	"github.com/surgekit/surge/shared/soldout"
	"github.com/surgekit/surge/shared/stats"
	"github.com/surgekit/surge/shared/switches"
)

// Publisher sends an event to the broker; nil means the broker stored it.
type Publisher interface {
	Send(ctx context.Context, e event.Event) error
}

// Deps is everything the function uses, built in main, for one plane.
type Deps struct {
	Plane      plane.Plane // whose state Keys, Challenges, Claims and SoldOut are
	Log        *slog.Logger
	Redis      redis.UniversalClient
	Keys       keyspace.Space
	Users      auth.Users
	Challenges *captcha.Service
	Claims     *claim.Store
	Sink       Publisher
	SoldOut    *soldout.Board    // this instance's sold-out flags; main runs it
	Stats      *stats.Counter    // the campaigns' click statistics; main runs it (nil: none)
	Switches   *switches.Watcher // this plane's degrade switches; main runs it (nil: all off)
	Timeout    time.Duration     // deadline of one request's calls to Redis and the broker; 2s default
	SpecTTL    time.Duration     // how long a campaign spec is cached; 1s default
	Now        func() time.Time  // time.Now when nil

	Limits   campaign.Limits    // default rate limits; a zero rate is no limit
	ClientIP clientip.Resolver  // tells the client IP of a request
	Limiter  *ratelimit.Limiter // built on Redis when nil
	// MaxInflight bounds the claims this instance holds at once; past it a
	// claim is answered 503 at once (256 default).
	MaxInflight int
	// PublishTimeout bounds one publish to the broker (500ms default);
	// shorter than Timeout, so a slow broker sheds the claim in time.
	PublishTimeout time.Duration
}

// Function serves the challenge and claim calls of the public API.
type Function struct {
	d        Deps
	specs    *specCache
	limiter  *ratelimit.Limiter
	inflight chan struct{} // one slot per claim being served
	mux      *http.ServeMux
}

// New returns the function, filling Deps defaults.
func New(d Deps) *Function {
	if d.Timeout <= 0 {
		d.Timeout = 2 * time.Second
	}
	if d.SpecTTL <= 0 {
		d.SpecTTL = time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Limiter == nil {
		d.Limiter = ratelimit.New(d.Redis, d.Keys, defaultLocalBuckets)
	}
	if d.MaxInflight <= 0 {
		d.MaxInflight = DefaultMaxInflight
	}
	if d.PublishTimeout <= 0 {
		d.PublishTimeout = DefaultPublishTimeout
	}
	f := &Function{d: d, specs: newSpecCache(d.Redis, d.Keys, d.SpecTTL, d.Timeout, d.Now), limiter: d.Limiter,
		inflight: make(chan struct{}, d.MaxInflight), mux: http.NewServeMux()}
	f.mux.HandleFunc("POST /v1/campaigns/{id}/challenges", f.issueChallenge)
	f.mux.HandleFunc("POST /v1/campaigns/{id}/claims", f.acceptClaim)
	f.mux.HandleFunc("/", httpapi.NotFound)
	return f
}

func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) { fn.Serve(f.mux, w, r) }

// Ready answers whether Redis answers and the sold-out board listens.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	if !f.d.SoldOut.Listening() {
		return false, errors.New("sold-out board not listening yet")
	}
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	if err := f.d.Redis.Ping(ctx).Err(); err != nil {
		return false, err
	}
	return true, nil
}

// fail writes err in the public shape, logging (once, here at the edge)
// the failures behind a 5xx: an internal error, or an API error wrapping
// its cause (a publish that failed). A bare API error is an answer, not a
// failure to log: 503 overloaded is the shedding doing its job, and a line
// per shed click would make shedding cost what it saves.
func (f *Function) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) || (apiErr.Status >= 500 && err != error(apiErr)) {
		f.d.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	httpapi.WriteError(w, err)
}

// user authenticates the caller, of this function's plane.
func (f *Function) user(r *http.Request) (string, error) {
	return plane.User(f.d.Users, r, f.d.Plane)
}
