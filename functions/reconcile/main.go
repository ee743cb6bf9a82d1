// Command reconcile proves Redis and PostgreSQL agree: on every ping (a
// Knative PingSource, or any event of that type sent on demand) it
// compares, per campaign, the stock taken in Redis with the units settled
// in PostgreSQL plus those reserved in flight, writes a JSON report to S3
// and replies reconcile.reported. It is also the broker's dead-letter
// sink: dead letters are stored in PostgreSQL and dead claim requests are
// finalised as rejected. It does all of it on the plane of each event: a
// ping or a dead letter marked shadow (the PingSource reconcile-tick-shadow,
// or any shadow event the broker gave up on) is reconciled or stored on
// the shadow plane, its report under shadow/ in the bucket.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
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
	releaseEvery, err := durationEnv(os.Getenv, "SURGE_RELEASE_EVERY")
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
	pools, err := plane.Postgres(dialCtx, env.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer plane.Close(pools)
	store := connect.S3(env.S3)
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		return New(Config{Plane: p, Redis: rdb, Postgres: pools[p], S3: store, Bucket: env.S3Bucket,
			Keys: p.Keys(keyspace.New(env.KeyPrefix)), Log: log.With("plane", p.String()), EventKey: key, Timeout: env.Timeout,
			ReleaseEvery: releaseEvery})
	})
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, newPlanes(fns))
}

// durationEnv reads a duration setting; unset is 0 (the default).
func durationEnv(getenv func(string) string, name string) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}
