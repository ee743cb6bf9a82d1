// Command settle writes queued orders to PostgreSQL: it verifies each
// order.queued event's receipt token, group-commits the order with the
// ledger's database guards, then clears the win from Redis (pending token,
// inflight reservation, claim state) and replies order.settled.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

func main() { fn.Main("settle", run) }

// settings is the environment of the function, read once.
type settings struct {
	env      connect.Env
	seed     []byte // SURGE_RECEIPT_KEY
	poolSize int32  // SURGE_SETTLE_POOL_SIZE: PostgreSQL connections per plane, 4 by default
}

func loadSettings(getenv func(string) string) (settings, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return settings{}, err
	}
	if err := connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_RECEIPT_KEY", getenv("SURGE_RECEIPT_KEY")); err != nil {
		return settings{}, err
	}
	seed, err := receipt.DecodeSeed(getenv("SURGE_RECEIPT_KEY"))
	if err != nil {
		return settings{}, err
	}
	s := settings{env: env, seed: seed, poolSize: 4}
	if v := getenv("SURGE_SETTLE_POOL_SIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return settings{}, fmt.Errorf("SURGE_SETTLE_POOL_SIZE %q: want a positive integer", v)
		}
		s.poolSize = int32(n)
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
	dialCtx, cancel := context.WithTimeout(ctx, 10*s.env.Timeout)
	defer cancel()
	rdb, err := connect.Redis(dialCtx, s.env.RedisURL, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	pools, err := plane.Postgres(dialCtx, s.env.DatabaseURL, s.poolSize)
	if err != nil {
		return err
	}
	defer plane.Close(pools)
	verifier := receipt.NewVerifier(signer.Public())
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		return New(Config{Plane: p, Redis: rdb, Postgres: pools[p], Keys: p.Keys(keyspace.New(s.env.KeyPrefix)),
			Verifier: verifier, Timeout: s.env.Timeout})
	})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, plane.NewEvents(fns))
}
