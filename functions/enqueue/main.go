// Command enqueue is the peak-shaving point of the chain: it turns each
// claim.reserved event into a signed receipt token, puts the token on the
// user's pending list in Redis and replies order.queued for settle. It
// keeps the money each rain has issued (flushed once a second) and
// publishes budget.low through K_SINK when a rain nears or reaches its
// budget.
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
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

func main() { fn.Main("enqueue", run) }

// settings is the environment of the function, read once.
type settings struct {
	env  connect.Env
	seed []byte        // SURGE_RECEIPT_KEY
	key  *eventsig.Key // SURGE_EVENT_KEY
	sink string        // K_SINK: the broker, where a rain's budget.low is published
	// SURGE_OIDC_TOKEN_FILE: the SinkBinding's identity, sent with each event
	oidcToken string
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
	return settings{env: env, seed: seed, key: key, sink: getenv("K_SINK"), oidcToken: getenv("SURGE_OIDC_TOKEN_FILE")}, nil
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
	var alerts Sender
	if s.sink != "" {
		if alerts, err = fn.NewSink(s.sink, fn.WithTokenFile(s.oidcToken)); err != nil {
			return err
		}
	}
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		return New(Config{Plane: p, Redis: rdb, Keys: p.Keys(keyspace.New(s.env.KeyPrefix)), Signer: signer, EventKey: s.key,
			Timeout: s.env.Timeout, Alerts: alerts})
	})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, plane.NewEvents(fns))
}
