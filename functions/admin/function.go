package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/switches"
)

// Deps is everything the function uses, built in main, for one plane.
type Deps struct {
	Log       *slog.Logger
	Redis     redis.UniversalClient
	Pool      *pgxpool.Pool
	Campaigns *campaign.Store
	Keys      keyspace.Space
	Admin     auth.Admin
	Bank      *captcha.Bank // renders a captcha campaign's challenges at warm-up
	Timeout   time.Duration // deadline of one request's server calls; 2s default
	// WarmTimeout bounds rendering and uploading a challenge bank at
	// warm-up (up to captcha.BankCap images); 2m default.
	WarmTimeout time.Duration
	StockTTL    time.Duration     // local cache of a stock view; 200ms default
	MaxAge      time.Duration     // Cache-Control max-age of the static campaign; 60s default
	Now         func() time.Time  // time.Now when nil
	Letters     *deadletter.Store // this plane's dead letters
	Sink        Publisher         // the broker: where a redrive republishes
	// Mirror, on the shadow plane, is the real plane's campaigns: warm-up
	// copies a campaign from there when this plane has none (nil: never).
	Mirror *campaign.Store
	// The dashboard's sources beyond Redis and PostgreSQL: the local
	// broker's backlog (nil: not available) and the reconcile verdicts
	// (nil: none shown).
	Broker   *BrokerStats
	Verdicts *Verdicts
	// SessionTTL is how long a dashboard login lasts (12h default);
	// FrameEvery how often the events stream sends a frame (1s); StreamFor
	// how long one stream lasts before the browser reconnects (25s: under
	// the admin Service's Knative timeoutSeconds, 30, which bounds a whole
	// response, and well within the drain).
	SessionTTL time.Duration
	FrameEvery time.Duration
	StreamFor  time.Duration
	// Switches is this plane's degrade switches (main keeps them
	// published).
	Switches *switches.Board
}

func (d *Deps) fill() {
	if d.Timeout <= 0 {
		d.Timeout = 2 * time.Second
	}
	if d.WarmTimeout <= 0 {
		d.WarmTimeout = 2 * time.Minute
	}
	if d.StockTTL <= 0 {
		d.StockTTL = 200 * time.Millisecond
	}
	if d.MaxAge <= 0 {
		d.MaxAge = time.Minute
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 12 * time.Hour
	}
	if d.FrameEvery <= 0 {
		d.FrameEvery = time.Second
	}
	if d.StreamFor <= 0 {
		d.StreamFor = 25 * time.Second
	}
}

// Function serves the campaign calls of the public API.
type Function struct {
	d        Deps
	stock    *stockCache
	sessions sessions
	mux      *http.ServeMux
}

// New returns the function, filling Deps defaults.
func New(d Deps) *Function {
	d.fill()
	f := &Function{d: d, stock: newStockCache(d.StockTTL, d.Now), mux: http.NewServeMux(),
		sessions: sessions{admin: d.Admin, ttl: d.SessionTTL, now: d.Now}}
	f.mux.HandleFunc("POST /v1/campaigns", f.admin(f.create))
	f.mux.HandleFunc("POST /v1/campaigns/{id}/warmup", f.admin(f.warmup))
	f.mux.HandleFunc("GET /v1/campaigns/{id}/challenge-bank", f.admin(f.challengeBank))
	f.mux.HandleFunc("GET /v1/campaigns/{id}", f.get)
	f.mux.HandleFunc("GET /v1/campaigns/{id}/stock", f.stockView)
	f.mux.HandleFunc("GET /v1/campaigns/{id}/stats", f.admin(f.campaignStats))
	f.mux.HandleFunc("GET /v1/dead-letters", f.admin(f.deadLetters))
	f.mux.HandleFunc("POST /v1/dead-letters/redrive", f.admin(f.redriveMany))
	f.mux.HandleFunc("POST /v1/dead-letters/{id}/redrive", f.admin(f.redriveOne))
	f.mux.HandleFunc("GET /dashboard", f.dashboard)
	f.mux.HandleFunc("POST /dashboard/login", f.login)
	f.mux.HandleFunc("GET /dashboard/campaigns", f.session(f.campaignList))
	f.mux.HandleFunc("GET /dashboard/events", f.session(f.dashboardEvents))
	f.mux.HandleFunc("GET /v1/switches", f.admin(f.listSwitches))
	f.mux.HandleFunc("PUT /v1/switches/{name}", f.admin(f.setSwitch))
	f.mux.HandleFunc("/", httpapi.NotFound)
	return f
}

func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) { fn.Serve(f.mux, w, r) }

// admin lets only the operator through to h.
func (f *Function) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f.d.Admin.Check(r); err != nil {
			httpapi.WriteError(w, auth.HTTPError(err))
			return
		}
		h(w, r)
	}
}

// Ready answers whether Redis and PostgreSQL answer.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	if err := f.d.Redis.Ping(ctx).Err(); err != nil {
		return false, err
	}
	if err := f.d.Pool.Ping(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// fail writes err in the public shape, logging the ones that are not the
// client's fault (once, here at the edge).
func (f *Function) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) || apiErr.Status >= 500 && apiErr.Status != http.StatusNotImplemented {
		f.d.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	httpapi.WriteError(w, err)
}

var errNotFound = httpapi.Errorf(http.StatusNotFound, "campaign_not_found", "no such campaign")

// campaign reads campaign id from PostgreSQL.
func (f *Function) campaign(ctx context.Context, id string) (*campaign.Campaign, error) {
	if !campaign.ValidID(id) {
		return nil, errNotFound
	}
	c, err := f.d.Campaigns.Get(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, errNotFound
	}
	return c, err
}
