package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/claimwatch"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/payment"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
	"github.com/surgekit/surge/shared/switches"
)

// Config is what the query function needs; a zero Timeout gets 2s, a zero
// MaxWaiters claimwatch.DefaultMaxWaiters.
type Config struct {
	Plane    plane.Plane // whose state Keys and DB are
	Redis    redis.UniversalClient
	DB       *pgxpool.Pool
	Keys     keyspace.Space
	Users    auth.Users        // verifies the caller's JWT
	Receipts *receipt.Verifier // verifies pending tokens and publishes the keys
	Timeout  time.Duration     // deadline of one call to Redis or PostgreSQL
	// MaxWaiters bounds the ?wait= requests held at once; past it a
	// request is answered at once.
	MaxWaiters int
	Log        *slog.Logger
	// Settle is settle's own address (SURGE_SETTLE_URL): a payment of an
	// order still pending settles it first, through it.
	Settle payment.Sender
	// Announce is the broker (K_SINK): a payment publishes order.paid,
	// signed with EventKey (SURGE_EVENT_KEY).
	Announce payment.Sender
	EventKey *eventsig.Key
}

func (c *Config) defaults() error {
	if c.Redis == nil || c.DB == nil || c.Receipts == nil || c.Log == nil {
		return errors.New("query: Redis, DB, Receipts and Log are required")
	}
	if c.Announce != nil && c.EventKey == nil {
		return errors.New("query: an Announce sink needs the EventKey")
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MaxWaiters <= 0 {
		c.MaxWaiters = claimwatch.DefaultMaxWaiters
	}
	return nil
}

// Function answers the read side of the public API: a claim's status, the
// caller's orders (settled plus pending, merged) and the receipt keys; and
// the payment of an order.
type Function struct {
	cfg     Config
	claims  *claim.Store
	pending *pending.Store
	hub     *claimwatch.Hub // wakes the ?wait= requests
	// payments pays the caller's orders (POST /v1/orders/{order_no}/payment)
	payments *payment.Closer
	wallets  *ledger.Wallets
	switches *switches.Watcher // reads_cache_only; run by Start
	mux      *http.ServeMux

	stopHub context.CancelFunc // set by Start
	hubDone chan struct{}      // closed when the hub has stopped
}

// New returns the query function.
func New(cfg Config) (*Function, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	f := &Function{cfg: cfg, claims: claim.NewStore(cfg.Redis, cfg.Keys), pending: pending.NewStore(cfg.Redis, cfg.Keys),
		hub: claimwatch.New(cfg.Redis, cfg.Keys, cfg.MaxWaiters),
		payments: payment.New(payment.Config{Redis: cfg.Redis, Keys: cfg.Keys, Orders: ledger.NewPayments(cfg.DB),
			Plane: cfg.Plane, Settle: cfg.Settle, Announce: cfg.Announce, EventKey: cfg.EventKey}),
		wallets: ledger.NewWallets(cfg.DB), switches: switches.NewWatcher(cfg.Redis, cfg.Keys, switches.DefaultPoll)}
	f.mux = http.NewServeMux()
	f.mux.Handle("GET /v1/claims/{claim_id}", f.handle(f.claim))
	f.mux.Handle("GET /v1/orders", f.handle(f.orders))
	f.mux.Handle("POST /v1/orders/{order_no}/payment", f.handle(f.pay))
	f.mux.Handle("GET /v1/wallet", f.handle(f.wallet))
	f.mux.Handle("POST /v1/wallet/withdrawals", f.handle(f.withdraw))
	f.mux.Handle("POST /v1/wallet/tokens", f.handle(f.presentToken))
	f.mux.Handle("GET /v1/keys", f.handle(f.keys))
	return f, nil
}

func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) { fn.Serve(f.mux, w, r) }

// Ready answers true while Redis and PostgreSQL answer.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Redis.Ping(ctx).Err(); err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	if err := f.cfg.DB.Ping(ctx); err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	return true, nil
}

// handle writes an endpoint's error in the public shape, logging the ones
// that are the server's fault: the one place errors meet the client.
func (f *Function) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var apiErr *httpapi.Error
		if !errors.As(err, &apiErr) || apiErr.Status >= 500 {
			f.cfg.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		}
		httpapi.WriteError(w, err)
	})
}

// user authenticates the caller, of this function's plane.
func (f *Function) user(r *http.Request) (string, error) {
	return plane.User(f.cfg.Users, r, f.cfg.Plane)
}

// claim answers GET /v1/claims/{claim_id}, long-polling with ?wait= (see
// await). Another user's claim is "not found", exactly like a missing one
// and at once, so claim ids cannot be probed.
func (f *Function) claim(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	rec, err := f.ownClaim(r.Context(), r.PathValue("claim_id"), user, f.cacheOnly(w))
	if err != nil {
		return err
	}
	if wait > 0 {
		if rec, err = f.await(r.Context(), rec, r.URL.Query().Get("state"), wait); err != nil {
			return err
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, rec)
	return nil
}

// ownClaim reads claimID if it is user's; cacheOnly, from Redis alone
// (a claim Redis has no record of is not looked up in PostgreSQL).
func (f *Function) ownClaim(ctx context.Context, claimID, user string, cacheOnly bool) (claim.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	rec, err := f.claims.Get(ctx, claimID)
	if errors.Is(err, claim.ErrNotFound) && cacheOnly {
		return claim.Record{}, errNotCached
	}
	if errors.Is(err, claim.ErrNotFound) {
		return f.claimWithoutRecord(ctx, claimID, user)
	}
	if err == nil && rec.UserID != user {
		return claim.Record{}, errNoClaim
	}
	return rec, err
}

var errNoClaim = httpapi.Errorf(http.StatusNotFound, "claim_not_found", "no such claim")

// claimWithoutRecord answers for a claim Redis has no record of. Its
// order in PostgreSQL, the system of record, says what it became. With no
// order, in a campaign Redis lost and reconcile rebuilt (stock.Rebuild),
// the claim was lost with Redis and won nothing: rejected, reason lost, a
// final answer (invariant 7). Otherwise it does not exist.
func (f *Function) claimWithoutRecord(ctx context.Context, claimID, user string) (claim.Record, error) {
	campaignID, ok := keyspace.CampaignOfClaim(claimID)
	if !ok {
		return claim.Record{}, errNoClaim
	}
	rec := claim.Record{ID: claimID, CampaignID: campaignID, UserID: user}
	var state string
	err := f.cfg.DB.QueryRow(ctx, `SELECT order_no, sku, qty, state, reserved_at, settled_at FROM orders WHERE token_id = $1 AND user_id = $2`,
		claimID, user).Scan(&rec.OrderNo, &rec.SKU, &rec.Qty, &state, &rec.CreatedAt, &rec.UpdatedAt)
	if err == nil {
		rec.State = pending.StateOf(state) // claim.Settled, Paid or Released
		return rec, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return claim.Record{}, fmt.Errorf("claim %s: %w", claimID, err)
	}
	rebuilt, err := f.cfg.Redis.HExists(ctx, f.cfg.Keys.Campaign(campaignID).Meta(), stock.MetaRebuiltMS).Result()
	if err != nil {
		return claim.Record{}, fmt.Errorf("claim %s: %w", claimID, err)
	}
	if !rebuilt {
		return claim.Record{}, errNoClaim
	}
	rec.State, rec.Reason = claim.Rejected, "lost"
	return rec, nil
}

// keys answers GET /v1/keys: the public keys that verify receipt tokens.
func (f *Function) keys(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpapi.WriteJSON(w, http.StatusOK, f.cfg.Receipts.PublicKeys())
	return nil
}
