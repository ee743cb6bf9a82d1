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
//
// It raises alerts (alert.raised, through K_SINK) on a dead letter, on a
// campaign a pass finds mismatching, and on a pass's repairs over
// SURGE_ALERT_REPAIR_THRESHOLD; the alerts Trigger brings them back to it,
// and it logs each. With the admin token it serves
// GET /v1/campaigns/{id}/reconcile (the campaign's reports, newest first)
// and POST /v1/campaigns/{id}/reconcile (a pass over it now).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
)

func main() { fn.Main("reconcile", run) }

// settings is reconcile's configuration, read once from the environment.
type settings struct {
	Env             connect.Env
	EventKey        *eventsig.Key
	AdminToken      string // SURGE_ADMIN_TOKEN: the operator's calls
	Sink            string // K_SINK: the broker, where alerts and order.released are published
	SettleURL       string // SURGE_SETTLE_URL: settle's own address, to settle a due claim still reserved
	OIDCTokenFile   string // SURGE_OIDC_TOKEN_FILE: the SinkBinding's identity, sent with each alert
	RepairThreshold int    // SURGE_ALERT_REPAIR_THRESHOLD: repairs in a campaign's pass before an alert; 0
	// The loops' and passes' durations (Config's fields of the same
	// names); unset is Config's default.
	ReleaseEvery, RebuildQuiet, RepairGrace, RepairEvery time.Duration
}

func loadEnv(getenv func(string) string) (settings, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return settings{}, err
	}
	s := settings{Env: env, AdminToken: getenv("SURGE_ADMIN_TOKEN"), Sink: getenv("K_SINK"),
		OIDCTokenFile: getenv("SURGE_OIDC_TOKEN_FILE"), SettleURL: getenv("SURGE_SETTLE_URL")}
	if err := connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_S3_BUCKET", env.S3Bucket, "SURGE_ADMIN_TOKEN", s.AdminToken, "K_SINK", s.Sink, "SURGE_SETTLE_URL", s.SettleURL); err != nil {
		return s, err
	}
	if v := getenv("SURGE_ALERT_REPAIR_THRESHOLD"); v != "" {
		if s.RepairThreshold, err = strconv.Atoi(v); err != nil || s.RepairThreshold < 0 {
			return s, fmt.Errorf("SURGE_ALERT_REPAIR_THRESHOLD %q: want a count ≥ 0", v)
		}
	}
	for name, d := range map[string]*time.Duration{"SURGE_RELEASE_EVERY": &s.ReleaseEvery, "SURGE_REBUILD_QUIET": &s.RebuildQuiet,
		"SURGE_REPAIR_GRACE": &s.RepairGrace, "SURGE_REPAIR_EVERY": &s.RepairEvery} {
		if *d, err = connect.Duration(getenv, name, 0); err != nil {
			return s, err
		}
	}
	s.EventKey, err = eventsig.FromEnv(getenv, "SURGE_EVENT_KEY")
	return s, err
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := loadEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	env := cfg.Env
	sink, err := fn.NewSink(cfg.Sink, fn.WithTokenFile(cfg.OIDCTokenFile))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	settle, err := fn.NewSink(cfg.SettleURL)
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
			Keys: p.Keys(keyspace.New(env.KeyPrefix)), Log: log.With("plane", p.String()), EventKey: cfg.EventKey,
			Sink: sink, Settle: settle, RepairThreshold: cfg.RepairThreshold, Timeout: env.Timeout, ReleaseEvery: cfg.ReleaseEvery, RebuildQuiet: cfg.RebuildQuiet,
			RepairGrace: cfg.RepairGrace, RepairEvery: cfg.RepairEvery})
	})
	if err != nil {
		return err
	}
	srv, err := newServer(log, fns, auth.NewAdmin(cfg.AdminToken))
	if err != nil {
		return err
	}
	return fn.Run(ctx, log, srv)
}
