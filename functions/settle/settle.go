package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/schema"
	"github.com/surgekit/surge/shared/stats"
	"github.com/surgekit/surge/shared/switches"
)

// Config is what the settle function needs; zero fields get defaults.
type Config struct {
	Plane    plane.Plane // whose state Keys and Postgres are; only its receipts settle here
	Redis    redis.UniversalClient
	Postgres *pgxpool.Pool
	Keys     keyspace.Space
	Verifier *receipt.Verifier
	Ledger   ledger.Config // batching of the order writes
	Timeout  time.Duration // deadline of one event's Redis work and of a migration, 2s by default
}

func (c *Config) defaults() error {
	if c.Redis == nil || c.Postgres == nil || c.Verifier == nil {
		return errors.New("settle: Redis, Postgres and Verifier are required")
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	return nil
}

// Function settles queued orders. Every step is idempotent: the order
// insert is a no-op the second time and the Redis clean-up deletes what is
// already gone, so a redelivered event gets the identical reply.
type Function struct {
	cfg       Config
	committer *ledger.Committer
	sweeper   *sweeper
	claims    *claim.Store
	pending   *pending.Store
	stats     *stats.Counter     // settlements counted; flushed while started
	switches  *switches.Watcher  // the degrade switches (pause_settlement); watched while started
	stopLoops context.CancelFunc // ends the flushing and the watching
	loops     sync.WaitGroup
}

// New returns the settle function; Start migrates the schema.
func New(cfg Config) (*Function, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Function{cfg: cfg, claims: claim.NewStore(cfg.Redis, cfg.Keys), pending: pending.NewStore(cfg.Redis, cfg.Keys)}, nil
}

// Start applies the schema migrations and starts the group committer.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*f.cfg.Timeout)
	defer cancel()
	if err := schema.Migrate(ctx, f.cfg.Postgres); err != nil {
		return err
	}
	c, err := ledger.NewCommitter(f.cfg.Postgres, f.cfg.Ledger)
	if err != nil {
		return err
	}
	f.committer = c
	f.sweeper = newSweeper(f.claims, f.pending, f.cfg.Timeout)
	f.stats = stats.New(f.cfg.Redis, f.cfg.Keys)
	f.switches = switches.NewWatcher(f.cfg.Redis, f.cfg.Keys, switches.DefaultPoll)
	var loopCtx context.Context
	loopCtx, f.stopLoops = context.WithCancel(context.WithoutCancel(ctx))
	f.loops.Go(func() { f.stats.Run(loopCtx, stats.Every) }) // both end with Stop
	f.loops.Go(func() { f.switches.Run(loopCtx) })
	return nil
}

// Stop writes the orders still queued and stops the committer, then the
// Redis clean-up, then flushes the statistics a last time.
func (f *Function) Stop(context.Context) error {
	if f.committer == nil {
		return nil
	}
	err := f.committer.Close()
	f.sweeper.close()
	f.stopLoops()
	f.loops.Wait()
	return err
}

// Ready answers true once started and while Redis and PostgreSQL answer.
func (f *Function) Ready(ctx context.Context) (bool, error) {
	if f.committer == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Redis.Ping(ctx).Err(); err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	if err := f.cfg.Postgres.Ping(ctx); err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	return true, nil
}
