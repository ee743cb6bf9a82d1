// Command query serves the read side of the public API: a claim's status,
// the caller's orders (settled in PostgreSQL plus pending tokens in Redis,
// merged at read time) and the public keys of the receipt tokens; and the
// payment of an order (settled first through settle's own address when
// still pending, announced as order.paid through K_SINK).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

func main() { fn.Main("query", run) }

// settings is the environment of the function, read once.
type settings struct {
	env       connect.Env
	jwtSecret []byte // SURGE_JWT_SECRET
	seed      []byte // SURGE_RECEIPT_KEY
	// SURGE_QUERY_MAX_WAITERS: ?wait= requests held at once by one
	// instance (claimwatch.DefaultMaxWaiters when unset).
	maxWaiters int
	eventKey   *eventsig.Key // SURGE_EVENT_KEY: signs order.paid
	sink       string        // K_SINK: the broker, where order.paid is published
	oidcToken  string        // SURGE_OIDC_TOKEN_FILE: the SinkBinding's identity, sent with each event
	settleURL  string        // SURGE_SETTLE_URL: settle's own address, to settle an order paid while pending
}

func loadSettings(getenv func(string) string) (settings, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return settings{}, err
	}
	if err := connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_JWT_SECRET", getenv("SURGE_JWT_SECRET"), "SURGE_RECEIPT_KEY", getenv("SURGE_RECEIPT_KEY"),
		"K_SINK", getenv("K_SINK"), "SURGE_SETTLE_URL", getenv("SURGE_SETTLE_URL")); err != nil {
		return settings{}, err
	}
	seed, err := receipt.DecodeSeed(getenv("SURGE_RECEIPT_KEY"))
	if err != nil {
		return settings{}, err
	}
	s := settings{env: env, jwtSecret: []byte(getenv("SURGE_JWT_SECRET")), seed: seed, sink: getenv("K_SINK"),
		oidcToken: getenv("SURGE_OIDC_TOKEN_FILE"), settleURL: getenv("SURGE_SETTLE_URL")}
	if s.eventKey, err = eventsig.FromEnv(getenv, "SURGE_EVENT_KEY"); err != nil {
		return settings{}, err
	}
	if v := getenv("SURGE_QUERY_MAX_WAITERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return settings{}, fmt.Errorf("SURGE_QUERY_MAX_WAITERS %q: want a positive integer", v)
		}
		s.maxWaiters = n
	}
	return s, nil
}

func run(ctx context.Context, log *slog.Logger) error {
	s, err := loadSettings(os.Getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	signer, err := receipt.NewSigner(s.seed)
	if err != nil {
		return err
	}
	sink, err := fn.NewSink(s.sink, fn.WithTokenFile(s.oidcToken))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	settle, err := fn.NewSink(s.settleURL)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*s.env.Timeout)
	defer cancel()
	rdb, err := connect.Redis(dialCtx, s.env.RedisURL, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	dbs, err := plane.Postgres(dialCtx, s.env.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer plane.Close(dbs)
	users, verifier := auth.NewUsers(s.jwtSecret), receipt.NewVerifier(signer.Public())
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		return New(Config{
			Plane: p, Redis: rdb, DB: dbs[p], Keys: p.Keys(keyspace.New(s.env.KeyPrefix)), Users: users,
			Receipts: verifier, Timeout: s.env.Timeout, MaxWaiters: s.maxWaiters, Log: log.With("plane", p.String()),
			Settle: settle, Announce: sink, EventKey: s.eventKey,
		})
	})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, plane.NewRequests(plane.ByCaller(users), fns))
}
