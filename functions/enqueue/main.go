// Command enqueue is the peak-shaving point of the chain: it turns each
// claim.reserved event into a signed receipt token, puts the token on the
// user's pending list in Redis and replies order.queued for settle.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/receipt"
)

func main() { fn.Main("enqueue", run) }

// settings is the environment of the function, read once.
type settings struct {
	env  connect.Env
	seed []byte        // SURGE_RECEIPT_KEY
	key  *eventsig.Key // SURGE_EVENT_KEY
}

func loadSettings(getenv func(string) string) (settings, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return settings{}, err
	}
	if err := connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_RECEIPT_KEY", getenv("SURGE_RECEIPT_KEY")); err != nil {
		return settings{}, err
	}
	seed, err := receipt.DecodeSeed(getenv("SURGE_RECEIPT_KEY"))
	if err != nil {
		return settings{}, err
	}
	key, err := eventsig.FromEnv(getenv, "SURGE_EVENT_KEY")
	if err != nil {
		return settings{}, err
	}
	return settings{env: env, seed: seed, key: key}, nil
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
	f, err := New(Config{Redis: rdb, Keys: keyspace.New(s.env.KeyPrefix), Signer: signer, EventKey: s.key, Timeout: s.env.Timeout})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, f)
}
