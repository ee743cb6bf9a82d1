package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

const adminToken = "admin-token-for-tests"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	h       http.Handler
	rdb     *redis.Client
	keys    keyspace.Space
	clock   *clock
	exec    func(sql string, args ...any)
	s3      *s3.Client
	bucket  string
	letters *deadletter.Store
	broker  *fntest.Broker
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := servertest.Redis(t, env, 0)
	pool := servertest.Postgres(t, env, 4)
	if err := schema.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Now()}
	keys := keyspace.New(env.KeyPrefix)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s3c := servertest.S3(env)
	bank := captcha.NewBank(rdb, keys, captcha.NewObjects(s3c, env.S3Bucket, 5*time.Second))
	broker := fntest.NewBroker(t)
	letters := deadletter.NewStore(pool)
	f := New(Deps{Log: log, Redis: rdb, Pool: pool, Campaigns: campaign.NewStore(pool), Keys: keys,
		Admin: auth.NewAdmin(adminToken), Bank: bank, Now: c.Now, Letters: letters, Sink: broker.Sink,
		Verdicts: NewVerdicts(s3c, env.S3Bucket, "", 5*time.Second), FrameEvery: 100 * time.Millisecond})
	h := fntest.Handler(t, f)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("exec %s: %v", sql, err)
		}
	}
	return &fixture{h: h, rdb: rdb, keys: keys, clock: c, exec: exec, s3: s3c, bucket: env.S3Bucket,
		letters: letters, broker: broker}
}

func (fx *fixture) call(t *testing.T, method, path, bearer string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return httpapitest.Do(t, fx.h, method, path, bearer, body, header...)
}

// sale is a valid sale campaign body, open from an hour before now.
func sale(id string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"id": id, "kind": "sale", "title": "Sale " + id,
		"items": []map[string]any{
			{"sku": "phone-x", "stock": 10, "price": 99900},
			{"sku": "case", "stock": 3, "price": 1900},
		},
		"per_user_limit": 1, "starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour),
		"payment_window": "10m", "captcha": true,
	}
}

// with returns body with key set to v.
func with(body map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(body))
	for k, x := range body {
		out[k] = x
	}
	out[key] = v
	return out
}

func (fx *fixture) mustCreate(t *testing.T, body map[string]any) {
	t.Helper()
	if w := fx.call(t, http.MethodPost, "/v1/campaigns", adminToken, body); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
}
