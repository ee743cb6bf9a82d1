package ledger_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// newPool opens a migrated fresh database holding campaign "sale" with
// SKU "phone" of stock units and a per-user limit.
func newPool(t testing.TB, stock, limit int) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := servertest.Fresh(t, deps)
	pool := servertest.Postgres(t, env, 8)
	if err := schema.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	c := &campaign.Campaign{ID: "sale", Kind: campaign.KindSale, PerUserLimit: limit,
		Items:    []campaign.Item{{SKU: "phone", Stock: stock, Price: 100}},
		StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour)}
	if err := campaign.NewStore(pool).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	return pool
}

func newCommitter(t testing.TB, pool *pgxpool.Pool) *ledger.Committer {
	t.Helper()
	c, err := ledger.NewCommitter(pool, ledger.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// order is user's seq-th win of qty units starting at slot first.
func order(user string, seq, first, qty int) ledger.Order {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return ledger.Order{
		OrderNo: fmt.Sprintf("sale:phone:%s:%d", user, seq), TokenID: fmt.Sprintf("sale.%s-%d", user, seq),
		CampaignID: "sale", SKU: "phone", UserID: user, Seq: seq, Qty: qty, FirstSlot: first,
		Amount: int64(100 * qty), ReservedAt: at, PayBy: at.Add(10 * time.Minute),
	}
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
