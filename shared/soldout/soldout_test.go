package soldout_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/soldout"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var start = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)

type fixture struct {
	rdb   *redis.Client
	keys  keyspace.Space
	board *soldout.Board
	d     *stock.Deducter
}

// newFixture warms a sale "s" of sku "cup" with units in stock and runs a
// board (rereading every 50ms) until the test ends.
func newFixture(t *testing.T, units int) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 128)
	keys := keyspace.New(env.KeyPrefix)
	c := &campaign.Campaign{ID: "s", Kind: campaign.KindSale, Title: "s",
		Items: []campaign.Item{{SKU: "cup", Stock: units, Price: 100}}, PerUserLimit: 1,
		StartsAt: start, EndsAt: start.Add(time.Hour), PaymentWindow: campaign.Duration{Duration: time.Minute}}
	if err := stock.Warm(context.Background(), rdb, keys.Campaign("s"), c, nil); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{rdb: rdb, keys: keys, board: soldout.New(rdb, keys, 50*time.Millisecond), d: stock.NewDeducter(rdb, keys)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fx.board.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	fx.waitSubscribed(t)
	return fx
}

// waitSubscribed waits until the board listens, so no announcement of
// the test is published before anyone hears it.
func (fx *fixture) waitSubscribed(t *testing.T) {
	t.Helper()
	eventually(t, "board listening", fx.board.Listening)
}

func (fx *fixture) claim(t *testing.T, i int) stock.Decision {
	t.Helper()
	u := fmt.Sprint(i)
	d, err := fx.d.Deduct(context.Background(), stock.Request{ClaimID: keyspace.ClaimID("s", u), CampaignID: "s",
		UserID: "user-" + u, SKU: "cup", Qty: 1, Now: start.Add(time.Second)})
	if err != nil {
		t.Error(err) // called from the race's goroutines too: no Fatal
	}
	return d
}

func (fx *fixture) left(t *testing.T) int {
	t.Helper()
	n, err := fx.rdb.Get(context.Background(), fx.keys.Campaign("s").Stock("cup")).Int()
	if err != nil {
		t.Error(err)
	}
	return n
}

// eventually waits up to 2s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLastUnitFlagsSoldOut(t *testing.T) {
	fx := newFixture(t, 2)
	fx.claim(t, 1)
	time.Sleep(100 * time.Millisecond)
	if fx.board.SoldOut("s", "cup") {
		t.Fatal("flagged sold out with a unit left")
	}
	began := time.Now()
	fx.claim(t, 2)
	eventually(t, "flag after the last unit", func() bool { return fx.board.SoldOut("s", "cup") })
	t.Logf("flagged %v after the last unit was taken", time.Since(began))
	if fx.board.SoldOut("s", "mug") || fx.board.SoldOut("other", "cup") {
		t.Fatal("another sku or campaign flagged")
	}
}

// A board that missed the announcement learns from the next rejection.
func TestSoldOutRejectionFlags(t *testing.T) {
	fx := newFixture(t, 0)
	if d := fx.claim(t, 1); d.Reason != "sold_out" {
		t.Fatalf("decision %+v; want sold_out", d)
	}
	eventually(t, "flag after a sold-out rejection", func() bool { return fx.board.SoldOut("s", "cup") })
}

// Units that come back clear the flag: by announcement, or, when that
// message is lost, by the board's periodic read of the stock.
func TestUnitsBackClearFlag(t *testing.T) {
	fx := newFixture(t, 1)
	fx.claim(t, 1)
	eventually(t, "flag", func() bool { return fx.board.SoldOut("s", "cup") })
	if err := soldout.Announce(context.Background(), fx.rdb, fx.keys, "s", "cup", 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cleared by announcement", func() bool { return !fx.board.SoldOut("s", "cup") })

	fx.claim(t, 2) // stock is still 0: rejected, flagged again
	eventually(t, "flag again", func() bool { return fx.board.SoldOut("s", "cup") })
	if err := fx.rdb.Set(context.Background(), fx.keys.Campaign("s").Stock("cup"), 3, 0).Err(); err != nil {
		t.Fatal(err) // a release whose announcement was lost
	}
	eventually(t, "cleared by the reread", func() bool { return !fx.board.SoldOut("s", "cup") })
}

// A missing stock key keeps the flag (fail closed); garbage is ignored.
func TestMissingStockKeepsFlag(t *testing.T) {
	fx := newFixture(t, 1)
	fx.claim(t, 1)
	eventually(t, "flag", func() bool { return fx.board.SoldOut("s", "cup") })
	ctx := context.Background()
	if err := fx.rdb.Del(ctx, fx.keys.Campaign("s").Stock("cup")).Err(); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"", "s cup", "s cup many", "s cup 1 extra"} {
		if err := fx.rdb.Publish(ctx, fx.keys.SoldOut(), junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // four rereads
	if !fx.board.SoldOut("s", "cup") {
		t.Fatal("flag cleared without units back")
	}
}

// Never a false sold-out: 8 goroutines take 100 units with 600 claims
// while 4 others read the flag; each time the flag says sold out, the
// stock must already be 0 (it never comes back in this test).
func TestNeverFalseSoldOut(t *testing.T) {
	const units, claims = 100, 600
	fx := newFixture(t, units)
	var next, reserved, seen atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= claims; i = next.Add(1) {
				if fx.claim(t, int(i)).State == "reserved" {
					reserved.Add(1)
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if fx.board.SoldOut("s", "cup") {
					seen.Add(1)
					if left := fx.left(t); left != 0 {
						t.Errorf("flagged sold out with %d units left", left)
						return
					}
				}
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	eventually(t, "flag at the end", func() bool { return fx.board.SoldOut("s", "cup") })
	close(stop)
	readers.Wait()
	if reserved.Load() != units {
		t.Fatalf("%d reserved; want %d", reserved.Load(), units)
	}
	t.Logf("%d reads saw the flag", seen.Load())
}

// The same, one claim at a time with time for an announcement to arrive
// after each: the flag is down while any unit is left, up once none is.
func TestFlagOnlyAtZero(t *testing.T) {
	const units = 40
	fx := newFixture(t, units)
	for i := 1; i <= units; i++ {
		fx.claim(t, i)
		time.Sleep(3 * time.Millisecond)
		if left := fx.left(t); left > 0 && fx.board.SoldOut("s", "cup") {
			t.Fatalf("flagged sold out with %d units left", left)
		}
	}
	eventually(t, "flag at zero", func() bool { return fx.board.SoldOut("s", "cup") })
}
