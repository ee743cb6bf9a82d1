package servertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
)

// Env is what one test may use, isolated from every other test.
type Env struct {
	RedisURL    string
	KeyPrefix   string // prefix every Redis key with it, e.g. "t-1a2b3c4d5e6f:"
	DatabaseURL string // a database of its own, dropped at cleanup
	S3Endpoint  string
	S3Region    string
	S3AccessKey string
	S3SecretKey string
	S3Bucket    string // a bucket of its own
}

// Fresh creates a database, a key prefix and a bucket for t, all named
// after one random id. The database is dropped WITH (FORCE) at cleanup.
func Fresh(t testing.TB, deps *servers.Set) Env {
	t.Helper()
	if deps == nil {
		t.Fatal("servertest.Fresh: deps is nil; call servertest.Main from TestMain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := newID(t)
	db := "t_" + id
	url, err := deps.Postgres.CreateDatabase(ctx, db)
	if err != nil {
		t.Fatalf("servertest.Fresh: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, deps.Postgres, db) })
	bucket := "t-" + id
	if err := deps.MinIO.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("servertest.Fresh: %v", err)
	}
	return Env{
		RedisURL:    deps.Redis.URL(),
		KeyPrefix:   "t-" + id + ":",
		DatabaseURL: url,
		S3Endpoint:  deps.MinIO.Endpoint(),
		S3Region:    deps.MinIO.Region,
		S3AccessKey: deps.MinIO.AccessKey,
		S3SecretKey: deps.MinIO.SecretKey,
		S3Bucket:    bucket,
	}
}

func dropDatabase(t testing.TB, pg *servers.Postgres, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pg.DropDatabase(ctx, name); err != nil {
		t.Errorf("servertest cleanup: %v", err)
	}
}

// newID returns 12 random lower-case hex digits: valid in a database
// name, a bucket name and a key prefix.
func newID(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("servertest.Fresh: random id: %v", err)
	}
	return hex.EncodeToString(b)
}
