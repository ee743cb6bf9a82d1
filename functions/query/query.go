package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/receipt"
)

// Config is what the query function needs; a zero Timeout gets 2s.
type Config struct {
	Redis    redis.UniversalClient
	DB       *pgxpool.Pool
	Keys     keyspace.Space
	Users    auth.Users        // verifies the caller's JWT
	Receipts *receipt.Verifier // verifies pending tokens and publishes the keys
	Timeout  time.Duration     // deadline of one call to Redis or PostgreSQL
	Log      *slog.Logger
}

func (c *Config) defaults() error {
	if c.Redis == nil || c.DB == nil || c.Receipts == nil || c.Log == nil {
		return errors.New("query: Redis, DB, Receipts and Log are required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	return nil
}

// Function answers the read side of the public API: a claim's status, the
// caller's orders (settled plus pending, merged) and the receipt keys.
type Function struct {
	cfg     Config
	claims  *claim.Store
	pending *pending.Store
	mux     *http.ServeMux
}

// New returns the query function.
func New(cfg Config) (*Function, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	f := &Function{cfg: cfg, claims: claim.NewStore(cfg.Redis, cfg.Keys), pending: pending.NewStore(cfg.Redis, cfg.Keys)}
	f.mux = http.NewServeMux()
	f.mux.Handle("GET /v1/claims/{claim_id}", f.handle(f.claim))
	f.mux.Handle("GET /v1/orders", f.handle(f.orders))
	f.mux.Handle("GET /v1/keys", f.handle(f.keys))
	return f, nil
}

func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

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

// user authenticates the caller.
func (f *Function) user(r *http.Request) (string, error) {
	user, err := f.cfg.Users.Verify(r)
	if err != nil {
		return "", auth.HTTPError(err)
	}
	return user, nil
}

// claim answers GET /v1/claims/{claim_id}. Another user's claim is "not
// found", exactly like a missing one, so claim ids cannot be probed.
func (f *Function) claim(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.cfg.Timeout)
	defer cancel()
	rec, err := f.claims.Get(ctx, r.PathValue("claim_id"))
	if errors.Is(err, claim.ErrNotFound) || (err == nil && rec.UserID != user) {
		return httpapi.Errorf(http.StatusNotFound, "claim_not_found", "no such claim")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, rec)
	return nil
}

// keys answers GET /v1/keys: the public keys that verify receipt tokens.
func (f *Function) keys(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpapi.WriteJSON(w, http.StatusOK, f.cfg.Receipts.PublicKeys())
	return nil
}
