package rain_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/rain"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// The first split of a rain writes exactly its packets, summing to its
// budget, and records the seed; eight splits at once, and any later one,
// read that same split back.
func TestSplitOnce(t *testing.T) {
	ctx := context.Background()
	env := servertest.Fresh(t, deps)
	pool := servertest.Postgres(t, env, 10)
	if err := schema.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &campaign.Campaign{ID: "cny", Kind: campaign.KindRain, Title: "rain", Budget: 1_000_000, Packets: 1000,
		PerUserLimit: 1, StartsAt: now, EndsAt: now.Add(time.Hour)}
	if err := campaign.NewStore(pool).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	splits := make([][]int64, 8)
	var wg sync.WaitGroup
	for i := range splits {
		wg.Go(func() {
			var err error
			if splits[i], err = rain.Split(ctx, pool, c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, s := range splits[1:] {
		if !slices.Equal(s, splits[0]) {
			t.Fatal("concurrent first splits differ")
		}
	}
	var rows int
	var sum int64
	if err := pool.QueryRow(ctx, `SELECT count(*), sum(amount) FROM packets WHERE campaign_id = 'cny'`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if rows != c.Packets || sum != c.Budget {
		t.Fatalf("%d packets summing to %d; want %d summing to %d", rows, sum, c.Packets, c.Budget)
	}
	if again, err := rain.Split(ctx, pool, c); err != nil || !slices.Equal(again, splits[0]) {
		t.Fatalf("a later split = %v; want the first one back", err)
	}
	sale := &campaign.Campaign{ID: "s", Kind: campaign.KindSale}
	if _, err := rain.Split(ctx, pool, sale); err == nil {
		t.Error("a sale was split")
	}
}
