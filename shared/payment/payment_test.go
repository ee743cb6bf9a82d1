package payment_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/payment"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/schema"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var start = time.Now().Truncate(time.Millisecond).Add(-time.Minute)

// fixture is one sale warm in Redis and created in PostgreSQL.
type fixture struct {
	rdb    *redis.Client
	pool   *pgxpool.Pool
	keys   keyspace.Space
	c      *campaign.Campaign
	ledger *ledger.Committer
	closer *payment.Closer
}

func newFixture(t *testing.T, units, limit int) *fixture {
	t.Helper()
	ctx := context.Background()
	env := servertest.Fresh(t, deps)
	f := &fixture{rdb: servertest.Redis(t, env, 64), pool: servertest.Postgres(t, env, 8), keys: keyspace.New(env.KeyPrefix)}
	if err := schema.Migrate(ctx, f.pool); err != nil {
		t.Fatal(err)
	}
	f.c = &campaign.Campaign{ID: "sale", Kind: campaign.KindSale, Title: "sale", PerUserLimit: limit,
		Items: []campaign.Item{{SKU: "phone", Stock: units, Price: 100}}, StartsAt: start, EndsAt: start.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute}}
	if err := campaign.NewStore(f.pool).Create(ctx, f.c); err != nil {
		t.Fatal(err)
	}
	if err := stock.Warm(ctx, f.rdb, f.keys.Campaign(f.c.ID), f.c, nil); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.ledger, err = ledger.NewCommitter(f.pool, ledger.Config{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.ledger.Close() })
	f.closer = payment.New(payment.Config{Redis: f.rdb, Keys: f.keys, Orders: ledger.NewPayments(f.pool)})
	return f
}

// win reserves one unit for user at now and settles it as the chain does:
// the order in PostgreSQL, then the claim settled with its order number.
func (f *fixture) win(t *testing.T, user string, now time.Time) (string, stock.Decision) {
	t.Helper()
	ctx := context.Background()
	id := keyspace.ClaimID(f.c.ID, user+now.Format("150405.000"))
	d, err := stock.NewDeducter(f.rdb, f.keys).Deduct(ctx, stock.Request{ClaimID: id, CampaignID: f.c.ID, UserID: user, SKU: "phone", Qty: 1, Now: now})
	if err != nil || d.State != claim.Reserved {
		t.Fatalf("deduct %s: %+v, %v; want reserved", user, d, err)
	}
	no := receipt.OrderNo(f.c.ID, "phone", user, d.Seq)
	if _, err := f.ledger.Submit(ctx, ledger.Order{OrderNo: no, TokenID: id, CampaignID: f.c.ID, SKU: "phone", UserID: user,
		Seq: d.Seq, Qty: 1, FirstSlot: d.FirstSlot, Slots: d.Slots, Amount: 100, ReservedAt: d.ReservedAt, PayBy: d.PayBy}); err != nil {
		t.Fatalf("settle %s: %v", no, err)
	}
	if err := f.rdb.HSet(ctx, f.keys.Campaign(f.c.ID).Claim(id), claim.FieldState, claim.Settled, claim.FieldOrderNo, no).Err(); err != nil {
		t.Fatal(err)
	}
	return id, d
}

func (f *fixture) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestReleaseAndSellAgain: a sold-out sale of 2; one reservation is not
// paid by its deadline and is released; a later buyer gets exactly its
// slot, settled in PostgreSQL, and nothing is ever oversold. The
// release is counted once, a second Release giving nothing back.
func TestReleaseAndSellAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2, 1)
	a, da := f.win(t, "alice", start)
	b, _ := f.win(t, "bob", start)
	if got, err := f.closer.Pay(ctx, b, "k", da.PayBy.Add(-time.Second)); err != nil || got.Outcome != stock.Paid {
		t.Fatalf("Pay bob = %+v, %v; want paid", got, err)
	}
	if got, err := f.closer.Release(ctx, b, da.PayBy); err != nil || got.State != claim.Paid {
		t.Errorf("Release of a paid claim = %+v, %v; want it left paid", got, err)
	}
	before, _ := metrics.Value("surge_reservations_released_total", "reason", metrics.Expired)
	if got, err := f.closer.Release(ctx, a, da.PayBy); err != nil || got.Outcome != stock.Released {
		t.Fatalf("Release alice = %+v, %v; want released", got, err)
	}
	if got, err := f.closer.Release(ctx, a, da.PayBy); err != nil || got.Outcome == stock.Released {
		t.Fatalf("Release alice again = %+v, %v; want nothing given back twice", got, err)
	}
	if after, _ := metrics.Value("surge_reservations_released_total", "reason", metrics.Expired); after-before != 1 {
		t.Errorf("surge_reservations_released_total{reason=expired} moved by %v; want 1 (released once)", after-before)
	}
	if got := f.count(t, `SELECT count(*) FROM orders WHERE state = 'released'`); got != 1 {
		t.Errorf("released orders = %d; want 1", got)
	}
	_, dc := f.win(t, "carol", start.Add(time.Second))
	if dc.FirstSlot != da.FirstSlot {
		t.Errorf("carol's slot = %d; want alice's %d", dc.FirstSlot, da.FirstSlot)
	}
	if got := f.count(t, `SELECT count(*) FROM stock_slots`); got != 2 {
		t.Errorf("live slots = %d; want 2 (stock)", got)
	}
	if got := f.count(t, `SELECT count(*) FROM orders WHERE state = 'paid'`); got != 1 {
		t.Errorf("paid orders = %d; want 1", got)
	}
}

// TestPayRacesRelease: 300 settled orders, each paid in the last
// millisecond before its deadline while its release fires at the
// deadline. Each ends paid or released in Redis and in PostgreSQL, never
// both, never neither; PostgreSQL's live slots are exactly the paid ones
// and Redis has exactly the released units back.
func TestPayRacesRelease(t *testing.T) {
	ctx := context.Background()
	const n = 300
	f := newFixture(t, n, 1)
	ids := make([]string, n)
	var payBy time.Time
	for i := range n {
		var d stock.Decision
		ids[i], d = f.win(t, fmt.Sprintf("u%03d", i), start)
		payBy = d.PayBy
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, id := range ids {
		wg.Go(func() {
			if _, err := f.closer.Pay(ctx, id, "key", payBy.Add(-time.Millisecond)); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := f.closer.Release(ctx, id, payBy); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	paid := 0
	for _, id := range ids {
		state := f.rdb.HGet(ctx, f.keys.Campaign(f.c.ID).Claim(id), claim.FieldState).Val()
		switch state {
		case claim.Paid:
			paid++
		case claim.Released:
		default:
			t.Errorf("claim %s is %q; want paid or released", id, state)
		}
	}
	t.Logf("%d paid, %d released", paid, n-paid)
	if got := f.count(t, `SELECT count(*) FROM orders WHERE state = 'paid'`); got != paid {
		t.Errorf("paid orders = %d; want %d", got, paid)
	}
	if got := f.count(t, `SELECT count(*) FROM orders WHERE state = 'released'`); got != n-paid {
		t.Errorf("released orders = %d; want %d", got, n-paid)
	}
	if got := f.count(t, `SELECT count(*) FROM stock_slots`); got != paid {
		t.Errorf("live slots = %d; want %d", got, paid)
	}
	if left, _ := f.rdb.Get(ctx, f.keys.Campaign(f.c.ID).Stock("phone")).Int(); left != n-paid {
		t.Errorf("Redis stock = %d; want %d", left, n-paid)
	}
}

// TestSweep: one sweep at a deadline releases the settled claims due, and
// only those: not a claim paid before it, not one due later; a due claim
// not settled yet is reported and kept for a later sweep.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10, 1)
	due, d := f.win(t, "due", start)
	paid, _ := f.win(t, "paid", start)
	later, _ := f.win(t, "later", start.Add(time.Minute))
	unsettled := keyspace.ClaimID(f.c.ID, "unsettled")
	if _, err := stock.NewDeducter(f.rdb, f.keys).Deduct(ctx, stock.Request{ClaimID: unsettled, CampaignID: f.c.ID,
		UserID: "slow", SKU: "phone", Qty: 1, Now: start}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.closer.Pay(ctx, paid, "k", start); err != nil {
		t.Fatal(err)
	}
	for round, want := range [][]string{{due}, nil} {
		got, err := f.closer.Sweep(ctx, f.c.ID, d.PayBy, 100)
		if err != nil || len(got.Failed) != 0 {
			t.Fatalf("round %d: Sweep = %+v, %v", round, got, err)
		}
		if fmt.Sprint(got.Released) != fmt.Sprint(want) || fmt.Sprint(got.Unsettled) != fmt.Sprint([]string{unsettled}) {
			t.Errorf("round %d: released %v, unsettled %v; want %v, [%s]", round, got.Released, got.Unsettled, want, unsettled)
		}
	}
	for id, want := range map[string]string{due: claim.Released, paid: claim.Paid, later: claim.Settled, unsettled: claim.Reserved} {
		if got := f.rdb.HGet(ctx, f.keys.Campaign(f.c.ID).Claim(id), claim.FieldState).Val(); got != want {
			t.Errorf("claim %s = %q; want %q", id, got, want)
		}
	}
}
