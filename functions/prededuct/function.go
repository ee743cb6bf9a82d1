package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stats"
	"github.com/surgekit/surge/shared/stock"
)

// Config is everything the function reads from its environment.
type Config struct {
	Plane     plane.Plane   // whose state KeyPrefix is; its replies carry its mark
	RedisURL  string        // SURGE_REDIS_URL
	KeyPrefix string        // SURGE_KEY_PREFIX
	Timeout   time.Duration // SURGE_TIMEOUT: deadline of one Redis call
	PoolSize  int           // Redis connections; 0: go-redis default
	// EventKey (SURGE_EVENT_KEY) verifies that captcha signed each
	// claim.requested and signs the replies for enqueue.
	EventKey *eventsig.Key
}

// Validate names the first missing setting and fills defaults.
func (c *Config) Validate() error {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.EventKey == nil {
		return errors.New("SURGE_EVENT_KEY is required")
	}
	return connect.Require("SURGE_REDIS_URL", c.RedisURL)
}

// Function decides claims. Its Redis client is opened by Start.
type Function struct {
	cfg     Config
	now     func() time.Time
	clients atomic.Pointer[clients]
}

type clients struct {
	rdb      *redis.Client
	deducter *stock.Deducter
	stats    *stats.Counter
	stop     context.CancelFunc // ends the statistics' flushing
	flushed  chan struct{}      // closed once they flushed the last time
}

// errNotStarted: an event arrived before Start opened Redis (retried).
var errNotStarted = errors.New("prededuct: redis not open yet")

// New returns the function for cfg; it takes traffic once Start has run.
func New(cfg Config) *Function {
	return &Function{cfg: cfg, now: time.Now}
}

// Start opens the Redis client. The environment is read by main already.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	rdb, err := connect.Redis(ctx, f.cfg.RedisURL, f.cfg.PoolSize)
	if err != nil {
		return fmt.Errorf("prededuct start: %w", err)
	}
	keys := keyspace.New(f.cfg.KeyPrefix)
	c := &clients{rdb: rdb, deducter: stock.NewDeducter(rdb, keys), stats: stats.New(rdb, keys), flushed: make(chan struct{})}
	var flushCtx context.Context
	flushCtx, c.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(c.flushed); c.stats.Run(flushCtx, stats.Every) }() // ends with Stop
	f.clients.Store(c)
	return nil
}

// Stop flushes the statistics a last time and closes the Redis client.
func (f *Function) Stop(context.Context) error {
	c := f.clients.Swap(nil)
	if c == nil {
		return nil
	}
	c.stop()
	<-c.flushed
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("prededuct stop: %w", err)
	}
	return nil
}

// Ready answers false until Start has opened Redis.
func (f *Function) Ready(context.Context) (bool, error) {
	return f.clients.Load() != nil, nil
}

// Alive answers true: the function holds no state that can wedge.
func (f *Function) Alive(context.Context) (bool, error) { return true, nil }
