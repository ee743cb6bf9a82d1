package stock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// Warm a sale once, then let the pre-deduct script decide each claim.
// (Compiled, not run: it needs a Redis server; the tests run the same calls.)
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	keys := keyspace.New("surge")
	c := &campaign.Campaign{
		ID: "double11", Kind: campaign.KindSale, PerUserLimit: 1,
		Items:    []campaign.Item{{SKU: "phone-x", Stock: 1000}},
		StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour),
	}
	if err := stock.Warm(ctx, rdb, keys.Campaign(c.ID), c, nil); err != nil {
		fmt.Println(err)
		return
	}
	d, err := stock.NewDeducter(rdb, keys).Deduct(ctx, stock.Request{
		ClaimID: keyspace.ClaimID(c.ID, "7f3a"), CampaignID: c.ID,
		UserID: "alice", SKU: "phone-x", Qty: 1, Now: time.Now(),
	})
	fmt.Println(d.State, d.Seq, d.FirstSlot, err)
}
