package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Options configures Start.
type Options struct {
	Dir   string       // state: redis/, postgres/ and minio/ subdirectories
	Fsync bool         // PostgreSQL durability; tests pass false for speed
	Log   *slog.Logger // nil discards
}

// Set is one Redis, one PostgreSQL and one MinIO.
type Set struct {
	Redis    *Redis
	Postgres *Postgres
	MinIO    *MinIO
}

// Start starts the three servers in parallel under opt.Dir. On error it
// stops those that did start.
func Start(ctx context.Context, opt Options) (*Set, error) {
	if opt.Dir == "" {
		return nil, errors.New("start servers: Options.Dir is empty")
	}
	opt.Log = orDiscard(opt.Log)
	dir, err := filepath.Abs(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("start servers: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start servers: %w", err)
	}
	s, err := startAll(ctx, dir, opt)
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// startAll starts each server in its own goroutine and waits for all.
func startAll(ctx context.Context, dir string, opt Options) (*Set, error) {
	var (
		s    Set
		wg   sync.WaitGroup
		errs [3]error
	)
	wg.Go(func() {
		s.Redis, errs[0] = StartRedis(ctx, filepath.Join(dir, "redis"), opt.Log)
	})
	wg.Go(func() {
		pgOpt := PostgresOptions{Dir: filepath.Join(dir, "postgres"), Fsync: opt.Fsync, Log: opt.Log}
		s.Postgres, errs[1] = StartPostgres(ctx, pgOpt)
	})
	wg.Go(func() {
		s.MinIO, errs[2] = StartMinIO(ctx, filepath.Join(dir, "minio"), opt.Log)
	})
	wg.Wait()
	return &s, errors.Join(errs[:]...)
}

// Stop stops every server that is running, in parallel.
func (s *Set) Stop() error {
	var stops []func() error
	if s.Redis != nil {
		stops = append(stops, s.Redis.Stop)
	}
	if s.Postgres != nil {
		stops = append(stops, s.Postgres.Stop)
	}
	if s.MinIO != nil {
		stops = append(stops, s.MinIO.Stop)
	}
	errs := make([]error, len(stops))
	var wg sync.WaitGroup
	for i, stop := range stops {
		wg.Go(func() { errs[i] = stop() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
