// Command captcha is the HTTP front of a claim: it hands out anti-bot
// challenges and accepts claims, publishing each accepted one as
// claim.requested to K_SINK.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/soldout"
	"github.com/surgekit/surge/shared/stats"
	"github.com/surgekit/surge/shared/switches"
)

// Config is everything the function reads from its environment. Env.S3
// and Env.S3Bucket (SURGE_S3_*) locate the challenge images it presigns.
type Config struct {
	Env           connect.Env
	JWTSecret     string        // SURGE_JWT_SECRET
	CaptchaSecret string        // SURGE_CAPTCHA_SECRET
	EventKey      *eventsig.Key // SURGE_EVENT_KEY: signs every claim.requested
	Sink          string        // K_SINK
	// OIDCTokenFile is the OIDC token sent to the broker as a bearer token
	// (SURGE_OIDC_TOKEN_FILE; /oidc/token on Knative with
	// authentication-oidc on); none when empty or missing.
	OIDCTokenFile string
	MinAge        time.Duration // SURGE_CAPTCHA_MIN_AGE, 1s default
	TTL           time.Duration // SURGE_CAPTCHA_TTL, 2m default
	// SoldOutRefresh is how often flagged SKUs are read back from Redis
	// (SURGE_SOLDOUT_REFRESH, 1s default): the longest a lost "units came
	// back" message can keep a stale sold-out flag.
	SoldOutRefresh time.Duration
	Overload       Overload
	PublishTimeout time.Duration // SURGE_PUBLISH_TIMEOUT, 500ms default
}

func loadConfig(getenv func(string) string) (Config, error) {
	env, err := connect.LoadEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Env: env, JWTSecret: getenv("SURGE_JWT_SECRET"), CaptchaSecret: getenv("SURGE_CAPTCHA_SECRET"),
		Sink: getenv("K_SINK"), OIDCTokenFile: getenv("SURGE_OIDC_TOKEN_FILE"), MinAge: captcha.DefaultMinAge, TTL: captcha.DefaultTTL, SoldOutRefresh: soldout.DefaultRefresh}
	if cfg.EventKey, err = eventsig.FromEnv(getenv, "SURGE_EVENT_KEY"); err != nil {
		return Config{}, err
	}
	if cfg.MinAge, err = connect.Duration(getenv, "SURGE_CAPTCHA_MIN_AGE", cfg.MinAge); err != nil {
		return Config{}, err
	}
	if cfg.TTL, err = connect.Duration(getenv, "SURGE_CAPTCHA_TTL", cfg.TTL); err != nil {
		return Config{}, err
	}
	if cfg.SoldOutRefresh, err = connect.Duration(getenv, "SURGE_SOLDOUT_REFRESH", cfg.SoldOutRefresh); err != nil {
		return Config{}, err
	}
	if cfg.PublishTimeout, err = connect.Duration(getenv, "SURGE_PUBLISH_TIMEOUT", DefaultPublishTimeout); err != nil {
		return Config{}, err
	}
	if cfg.Overload, err = loadOverload(getenv); err != nil {
		return Config{}, err
	}
	return cfg, connect.Require("SURGE_REDIS_URL", env.RedisURL, "SURGE_JWT_SECRET", cfg.JWTSecret,
		"SURGE_CAPTCHA_SECRET", cfg.CaptchaSecret, "K_SINK", cfg.Sink, "SURGE_S3_BUCKET", env.S3Bucket)
}

func main() { fn.Main("captcha", run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dial, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rdb, err := connect.Redis(dial, cfg.Env.RedisURL, 0)
	if err != nil {
		return err
	}
	defer rdb.Close()
	sink, err := fn.NewSink(cfg.Sink, fn.WithTokenFile(cfg.OIDCTokenFile))
	if err != nil {
		return err
	}
	signed := signedSink{next: sink, key: cfg.EventKey}
	users := auth.NewUsers([]byte(cfg.JWTSecret))
	var boards plane.Each[*soldout.Board]
	var counters plane.Each[*stats.Counter]
	var watchers plane.Each[*switches.Watcher]
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		keys := p.Keys(keyspace.New(cfg.Env.KeyPrefix))
		images := captcha.NewObjects(connect.S3(cfg.Env.S3), cfg.Env.S3Bucket, cfg.Env.Timeout).Under(p.ObjectPrefix())
		challenges, err := captcha.New(rdb, keys, images,
			captcha.Config{Secret: []byte(cfg.CaptchaSecret), TTL: cfg.TTL, MinAge: cfg.MinAge})
		if err != nil {
			return nil, err
		}
		boards[p] = soldout.New(rdb, keys, cfg.SoldOutRefresh)
		counters[p] = stats.New(rdb, keys)
		watchers[p] = switches.NewWatcher(rdb, keys, switches.DefaultPoll)
		return New(Deps{
			Plane: p, Log: log.With("plane", p.String()), Redis: rdb, Keys: keys, Users: users,
			Challenges: challenges, Claims: claim.NewStore(rdb, keys), Sink: signed, SoldOut: boards[p], Stats: counters[p], Switches: watchers[p], Timeout: cfg.Env.Timeout,
			Limits: cfg.Overload.Limits, ClientIP: cfg.Overload.ClientIP, MaxInflight: cfg.Overload.MaxInflight, PublishTimeout: cfg.PublishTimeout,
		}), nil
	})
	if err != nil {
		return err
	}
	var loops sync.WaitGroup
	defer loops.Wait()
	boardCtx, stopBoards := context.WithCancel(ctx)
	defer stopBoards()
	for _, b := range boards {
		loops.Go(func() { b.Run(boardCtx) }) // ends with stopBoards, after the server drained
	}
	for _, w := range watchers {
		loops.Go(func() { w.Run(boardCtx) })
	}
	for _, c := range counters {
		loops.Go(func() { c.Run(boardCtx, stats.Every) }) // flushes once more as it ends
	}
	return fn.Run(ctx, log, plane.NewRequests(plane.ByCaller(users), fns))
}
