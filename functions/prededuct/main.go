// Command prededuct is the pre-deduct function: it takes claim.requested
// events, runs the atomic pre-deduct script in Redis and replies
// claim.reserved or claim.rejected.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
)

func main() { fn.Main("prededuct", run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, New(cfg))
}

func loadConfig(getenv func(string) string) (Config, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{RedisURL: env.RedisURL, KeyPrefix: env.KeyPrefix, Timeout: env.Timeout}
	if cfg.EventKey, err = eventsig.FromEnv(getenv, "SURGE_EVENT_KEY"); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}
