package stock_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// start is the opening instant of every test campaign.
var start = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)

// fixture is one test's Redis, key space and deducter.
type fixture struct {
	rdb  *redis.Client
	keys keyspace.Space
	d    *stock.Deducter
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 256)
	keys := keyspace.New(env.KeyPrefix)
	return &fixture{rdb: rdb, keys: keys, d: stock.NewDeducter(rdb, keys)}
}

// sale is a one-hour sale opening at start with a 10-minute payment window.
func sale(id string, limit int, items ...campaign.Item) *campaign.Campaign {
	return &campaign.Campaign{
		ID: id, Kind: campaign.KindSale, Title: id, Items: items, PerUserLimit: limit,
		StartsAt: start, EndsAt: start.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute},
	}
}

func (f *fixture) warm(t testing.TB, c *campaign.Campaign, settled map[string]int) {
	t.Helper()
	if err := stock.Warm(context.Background(), f.rdb, f.keys.Campaign(c.ID), c, settled); err != nil {
		t.Fatalf("warm %s: %v", c.ID, err)
	}
}

func (f *fixture) deduct(t testing.TB, r stock.Request) stock.Decision {
	t.Helper()
	d, err := f.d.Deduct(context.Background(), r)
	if err != nil {
		t.Fatalf("deduct %s: %v", r.ClaimID, err)
	}
	return d
}

// remaining reads one sku's stock key; -1 means missing.
func (f *fixture) remaining(t testing.TB, campaignID, sku string) int {
	t.Helper()
	n, err := f.rdb.Get(context.Background(), f.keys.Campaign(campaignID).Stock(sku)).Int()
	if err == redis.Nil {
		return -1
	}
	if err != nil {
		t.Fatalf("get stock: %v", err)
	}
	return n
}

// hashInts reads a hash of integers.
func (f *fixture) hashInts(t testing.TB, key string) map[string]int {
	t.Helper()
	h, err := f.rdb.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("hgetall %s: %v", key, err)
	}
	out := make(map[string]int, len(h))
	for k, v := range h {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s[%s] = %q: %v", key, k, v, err)
		}
		out[k] = n
	}
	return out
}

func req(campaignID, unique, user, sku string, qty int, now time.Time) stock.Request {
	return stock.Request{
		ClaimID: keyspace.ClaimID(campaignID, unique), CampaignID: campaignID,
		UserID: user, SKU: sku, Qty: qty, Now: now,
	}
}
