package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/connect"
)

// dialTimeout bounds opening and pinging one client.
const dialTimeout = 30 * time.Second

// Redis opens a client to env's Redis, as connect.Redis does in a function
// (poolSize 0: the go-redis default), and closes it at cleanup. Keys the
// test writes belong under env.KeyPrefix.
func Redis(t testing.TB, env Env, poolSize int) *redis.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	rdb, err := connect.Redis(ctx, env.RedisURL, poolSize)
	if err != nil {
		t.Fatalf("servertest.Redis: %v", err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Postgres opens a pool of maxConns connections (0: the pgx default) to
// env's database, as connect.Postgres does in a function, and closes it at
// cleanup. The database is empty: migrate it if the test needs the schema.
func Postgres(t testing.TB, env Env, maxConns int32) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	pool, err := connect.Postgres(ctx, env.DatabaseURL, maxConns)
	if err != nil {
		t.Fatalf("servertest.Postgres: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// S3 returns a client for env's MinIO, as connect.S3 builds one in a
// function. Objects the test writes belong in env.S3Bucket.
func S3(env Env) *s3.Client {
	return connect.S3(connect.S3Config{Endpoint: env.S3Endpoint, Region: env.S3Region,
		AccessKey: env.S3AccessKey, SecretKey: env.S3SecretKey})
}
