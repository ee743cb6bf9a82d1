// Command admin serves the operator's calls (create a campaign, warm it
// up, list and redrive dead letters, set the degrade switches), the live
// dashboard (GET /dashboard, behind a login with the admin token) and the
// public campaign reads (static spec, live stock), on the plane each
// request names (choosePlane).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/schema"
	"github.com/surgekit/surge/shared/switches"
)

// Config is everything the function reads from its environment. Env.S3
// and Env.S3Bucket (SURGE_S3_*) are where warm-up uploads challenge images.
type Config struct {
	Env        connect.Env
	AdminToken string // SURGE_ADMIN_TOKEN
	// JWTSecret (SURGE_JWT_SECRET) tells a shadow user's public reads (the
	// stock a shadow crowd sees); without it every public read is real.
	JWTSecret string
	Sink      string // K_SINK: the broker, where a dead letter is redriven
	// OIDCTokenFile is the OIDC token sent to the broker with a redrive
	// (SURGE_OIDC_TOKEN_FILE; /oidc/token on Knative); none when empty.
	OIDCTokenFile string
	// BrokerStatsURL is the local broker's GET /debug/triggers, the
	// dashboard's backlog per stage (SURGE_BROKER_STATS_URL; the local
	// engine sets it). On Knative there is none: "not available".
	BrokerStatsURL string
}

func loadConfig(getenv func(string) string) (Config, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Env: env, AdminToken: getenv("SURGE_ADMIN_TOKEN"), JWTSecret: getenv("SURGE_JWT_SECRET"),
		Sink: getenv("K_SINK"), OIDCTokenFile: getenv("SURGE_OIDC_TOKEN_FILE"), BrokerStatsURL: getenv("SURGE_BROKER_STATS_URL")}
	return cfg, connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_DATABASE_URL", env.DatabaseURL,
		"SURGE_ADMIN_TOKEN", cfg.AdminToken, "SURGE_S3_BUCKET", env.S3Bucket, "K_SINK", cfg.Sink)
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
	pools, err := plane.Postgres(dial, cfg.Env.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer plane.Close(pools)
	sink, err := fn.NewSink(cfg.Sink, fn.WithTokenFile(cfg.OIDCTokenFile))
	if err != nil {
		return err
	}
	admin, users := auth.NewAdmin(cfg.AdminToken), auth.NewUsers([]byte(cfg.JWTSecret))
	objects := connect.S3(cfg.Env.S3)
	images := captcha.NewObjects(objects, cfg.Env.S3Bucket, cfg.Env.Timeout)
	brokerStats := NewBrokerStats(cfg.BrokerStatsURL, cfg.Env.Timeout)
	var boards plane.Each[*switches.Board]
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		if err := schema.Migrate(dial, pools[p]); err != nil {
			return nil, err
		}
		keys := p.Keys(keyspace.New(cfg.Env.KeyPrefix))
		d := Deps{
			Log: log.With("plane", p.String()), Redis: rdb, Pool: pools[p], Campaigns: campaign.NewStore(pools[p]), Keys: keys,
			Admin: admin, Bank: captcha.NewBank(rdb, keys, images.Under(p.ObjectPrefix())), Timeout: cfg.Env.Timeout,
			Letters: deadletter.NewStore(pools[p]), Sink: sink, Broker: brokerStats,
			Verdicts: NewVerdicts(objects, cfg.Env.S3Bucket, p.ObjectPrefix(), cfg.Env.Timeout),
			Switches: switches.NewBoard(switches.NewStore(pools[p]), rdb, keys),
		}
		boards[p] = d.Switches
		if p == plane.Shadow {
			d.Mirror = campaign.NewStore(pools[plane.Real])
		}
		return New(d), nil
	})
	if err != nil {
		return err
	}
	var keepers sync.WaitGroup
	defer keepers.Wait()
	keepCtx, stopKeepers := context.WithCancel(ctx)
	defer stopKeepers()
	for _, b := range boards {
		// Publishes the switches again when Redis lost them; ends with
		// stopKeepers, after the server drained.
		keepers.Go(func() { b.Keep(keepCtx, time.Second, cfg.Env.Timeout) })
	}
	return fn.Run(ctx, log, plane.NewRequests(choosePlane(admin, users), fns))
}
