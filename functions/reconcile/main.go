// Command reconcile proves Redis and PostgreSQL agree: on every ping (a
// Knative PingSource, or any event of that type sent on demand) it
// compares, per campaign, the stock taken in Redis with the units settled
// in PostgreSQL plus those reserved in flight, writes a JSON report to S3
// and replies reconcile.reported. It is also the broker's dead-letter
// sink: dead letters are stored in PostgreSQL and dead claim requests are
// finalised as rejected.
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
)

func main() { fn.Main("reconcile", run) }

func loadEnv(getenv func(string) string) (connect.Env, *eventsig.Key, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return env, nil, err
	}
	if err := connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_S3_BUCKET", env.S3Bucket); err != nil {
		return env, nil, err
	}
	key, err := eventsig.FromEnv(getenv, "SURGE_EVENT_KEY")
	return env, key, err
}

func run(ctx context.Context, log *slog.Logger) error {
	env, key, err := loadEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*env.Timeout)
	defer cancel()
	rdb, err := connect.Redis(dialCtx, env.RedisURL, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	pool, err := connect.Postgres(dialCtx, env.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	f, err := New(Config{Redis: rdb, Postgres: pool, S3: connect.S3(env.S3), Bucket: env.S3Bucket,
		Keys: keyspace.New(env.KeyPrefix), Log: log, EventKey: key, Timeout: env.Timeout})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, f)
}
