// Command admin serves the operator's calls (create a campaign, warm it
// up) and the public campaign reads (static spec, live stock).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/schema"
)

// Config is everything the function reads from its environment. Env.S3
// and Env.S3Bucket (SURGE_S3_*) are where warm-up uploads challenge images.
type Config struct {
	Env        connect.Env
	AdminToken string // SURGE_ADMIN_TOKEN
}

func loadConfig(getenv func(string) string) (Config, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Env: env, AdminToken: getenv("SURGE_ADMIN_TOKEN")}
	return cfg, connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_ADMIN_TOKEN", cfg.AdminToken, "SURGE_S3_BUCKET", env.S3Bucket)
}

func main() { fn.Main("admin", run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dial, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rdb, err := connect.Redis(dial, cfg.Env.RedisURL, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	pool, err := connect.Postgres(dial, cfg.Env.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := schema.Migrate(dial, pool); err != nil {
		return err
	}
	keys := keyspace.New(cfg.Env.KeyPrefix)
	images := captcha.NewObjects(connect.S3(cfg.Env.S3), cfg.Env.S3Bucket, cfg.Env.Timeout)
	f := New(Deps{
		Log: log, Redis: rdb, Pool: pool, Campaigns: campaign.NewStore(pool), Keys: keys,
		Admin: auth.NewAdmin(cfg.AdminToken), Bank: captcha.NewBank(rdb, keys, images), Timeout: cfg.Env.Timeout,
	})
	return fn.Run(ctx, log, f)
}
