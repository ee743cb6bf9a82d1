package engine_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/engine/enginetest"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
)

var suite enginetest.Suite

// TestMain builds the broker and the functions once, starts one set of
// dependency servers, and runs the tests; each test gets its own engine on a
// fresh database, key prefix and bucket.
func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, &suite)) }

// stack is one engine on its own slice of the servers.
type stack struct {
	*engine.Engine
	api *client
	env servertest.Env
}

func startEngine(t *testing.T, duplicate bool) *stack {
	t.Helper()
	return startEngineWith(t, engine.Config{DuplicateDelivery: duplicate})
}

// startEngineWith starts an engine with cfg's own settings.
func startEngineWith(t *testing.T, cfg engine.Config) *stack {
	t.Helper()
	e, env, secrets := suite.Start(t, cfg)
	return &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
}

// ordersInDB counts the rows, units and distinct users of a campaign's orders.
func (s *stack) ordersInDB(t *testing.T, campaignID string) (rows, units, users int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(context.Background(),
		`SELECT count(*), coalesce(sum(qty), 0), count(DISTINCT user_id) FROM orders WHERE campaign_id = $1`,
		campaignID).Scan(&rows, &units, &users)
	if err != nil {
		t.Fatal(err)
	}
	return rows, units, users
}

// redis opens a client on the engine's Redis, closed when t ends.
func (s *stack) redis(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(s.env.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// remaining reads a SKU's stock left in Redis.
func (s *stack) remaining(t *testing.T, campaignID, sku string) int {
	t.Helper()
	n, err := s.redis(t).Get(context.Background(), keyspace.New(s.env.KeyPrefix).Campaign(campaignID).Stock(sku)).Int()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
