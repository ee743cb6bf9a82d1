// Package connect opens the clients every function shares: Redis,
// PostgreSQL and S3, each with deadlines, from URLs in the configuration,
// and each timed by package metrics unless SURGE_METRICS is off.
package connect

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/metrics"
)

// Redis opens a client for url (redis://host:port/db) with context
// deadlines honoured, and checks it answers.
func Redis(ctx context.Context, url string, poolSize int) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	opt.ReadTimeout = 2 * time.Second
	opt.WriteTimeout = 2 * time.Second
	if poolSize > 0 {
		opt.PoolSize = poolSize
	}
	c := redis.NewClient(opt)
	if metrics.Enabled() {
		c.AddHook(metrics.RedisHook{})
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis ping: %w", err)
	}
	return c, nil
}

// Postgres opens a pool for url with maxConns connections (0: pgx default)
// and checks it answers.
func Postgres(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	return PostgresIn(ctx, url, "", maxConns)
}

// PostgresIn is Postgres with every connection's search_path set to schema
// alone ("": the URL's or the server's own), so that unqualified names
// (every table of shared/schema) are that schema's. The schema must exist
// before the pool is used.
func PostgresIn(ctx context.Context, url, schema string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if metrics.Enabled() {
		metrics.TracePostgres(cfg.ConnConfig)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres ping: %w", err)
	}
	return pool, nil
}

// S3Config locates an S3-compatible store (MinIO locally).
type S3Config struct {
	Endpoint  string // http://127.0.0.1:9000; empty means AWS
	Region    string
	AccessKey string
	SecretKey string
}

// S3 returns a path-style client for cfg.
func S3(cfg S3Config) *s3.Client {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := s3.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		BaseEndpoint: endpoint(cfg.Endpoint),
		UsePathStyle: true,
	}
	if metrics.Enabled() {
		opts.APIOptions = append(opts.APIOptions, metrics.S3Timing)
	}
	return s3.New(opts)
}

func endpoint(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}
