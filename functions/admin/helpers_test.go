package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/fn"
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
	h     http.Handler
	rdb   *redis.Client
	keys  keyspace.Space
	clock *clock
	exec  func(sql string, args ...any)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb, err := connect.Redis(ctx, env.RedisURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	pool, err := connect.Postgres(ctx, env.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := schema.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Now()}
	keys := keyspace.New(env.KeyPrefix)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := New(Deps{Log: log, Redis: rdb, Pool: pool, Campaigns: campaign.NewStore(pool), Keys: keys,
		Admin: auth.NewAdmin(adminToken), Now: c.Now})
	h, err := fn.Handler(log, f)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("exec %s: %v", sql, err)
		}
	}
	return &fixture{h: h, rdb: rdb, keys: keys, clock: c, exec: exec}
}

func (fx *fixture) call(t *testing.T, method, path, bearer string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok && body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	r := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	fx.h.ServeHTTP(w, r)
	return w
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

func errorCode(w *httptest.ResponseRecorder) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error.Code
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body.String(), err)
	}
	return v
}

func (fx *fixture) mustCreate(t *testing.T, body map[string]any) {
	t.Helper()
	if w := fx.call(t, http.MethodPost, "/v1/campaigns", adminToken, body); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
}
