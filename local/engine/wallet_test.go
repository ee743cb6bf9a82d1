package engine_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Invariant 4 while settle writes: every wallet read equals the ledger
// plus the pending tokens not yet in it. 500 users grab three packets each
// (the whole rain) with settle paused, so the wallets start all pending;
// then settle resumes and works through the backlog while 8 readers
// sample random winners' wallets without a pause. Every sample lists
// exactly the packets its user won, each once at the amount won, and adds
// up to what the user won; some samples must catch a wallet part settled,
// part pending, or the test did not sample the drain.
func TestWalletSampledWhileSettling(t *testing.T) {
	const (
		users   = 500
		each    = 3
		packets = users * each
		budget  = 300_000
	)
	s := startEngine(t, false)
	s.api.openRain(t, rain{ID: "drain", Budget: budget, Packets: packets, Limit: each})
	if err := s.Pause("settle"); err != nil {
		t.Fatal(err)
	}
	won := s.grabAll(t, "drain", "drain", users, each)
	var total int64
	for user, packets := range won {
		w := s.api.wallet(t, user)
		if len(w.Entries) != each || w.Pending != w.Balance || w.Settled != 0 {
			t.Fatalf("wallet of %s before settlement = %+v, want its %d packets pending", user, w, each)
		}
		for _, e := range w.Entries {
			if _, ok := packets[e.OrderNo]; !ok || e.State != "pending" {
				t.Fatalf("wallet of %s lists %+v, which it did not win pending", user, e)
			}
			packets[e.OrderNo] = e.Amount
			total += e.Amount
		}
	}
	if total != budget {
		t.Fatalf("the wallets hold %d before settlement, want the budget %d", total, budget)
	}
	names := make([]string, 0, len(won))
	for u := range won {
		names = append(names, u)
	}

	if err := s.Resume("settle"); err != nil {
		t.Fatal(err)
	}
	var samples, mixed, partLedger atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				user := names[rand.IntN(len(names))]
				w := s.api.wallet(t, user)
				if part := checkWallet(t, user, w, won[user]); part {
					mixed.Add(1)
				}
				samples.Add(1)
			}
		})
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		rows, _, _ := s.ordersInDB(t, "drain")
		if rows == packets {
			break
		}
		if rows > 0 {
			partLedger.Add(1)
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("PostgreSQL holds %d of %d packets after 3 minutes", rows, packets)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d wallet samples while settle drained %d packets, %d of them part settled; the ledger was seen part written %d times",
		samples.Load(), packets, mixed.Load(), partLedger.Load())
	if mixed.Load() == 0 {
		t.Fatalf("none of %d samples caught a wallet part settled: the drain was not sampled", samples.Load())
	}
	for _, user := range names {
		w := s.api.wallet(t, user)
		checkWallet(t, user, w, won[user])
		if w.Pending != 0 {
			t.Fatalf("wallet of %s after the drain = %+v, want every packet settled", user, w)
		}
	}
	rows, err := s.pool(t).Query(context.Background(), `SELECT user_id, order_no, amount FROM orders WHERE campaign_id = 'drain'`)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		User, OrderNo string
		Amount        int64
	}])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ledger {
		if amount, ok := won[o.User][o.OrderNo]; !ok || amount != o.Amount {
			t.Fatalf("the ledger holds %d for %s of %s, the wallet showed %d", o.Amount, o.OrderNo, o.User, amount)
		}
	}
	if sum := s.sumInDB(t, `SELECT coalesce(sum(amount), 0) FROM orders WHERE campaign_id = 'drain'`); sum != budget {
		t.Fatalf("ledger sum %d, want the budget %d", sum, budget)
	}
}

// checkWallet fails the test unless w lists exactly the packets the user
// won (order number → amount), each once, and adds them up; it reports
// whether the wallet was part settled, part pending.
func checkWallet(t *testing.T, user string, w walletView, won map[string]int64) (part bool) {
	t.Helper()
	var want, settled, pending int64
	for _, a := range won {
		want += a
	}
	seen := make(map[string]bool, len(w.Entries))
	for _, e := range w.Entries {
		amount, ok := won[e.OrderNo]
		switch {
		case !ok || seen[e.OrderNo] || e.Amount != amount:
			t.Errorf("wallet of %s lists %+v: not won, twice, or not at the amount won (%d); wallet %+v", user, e, amount, w)
			return false
		case e.State == "settled":
			settled += e.Amount
		case e.State == "pending":
			pending += e.Amount
		default:
			t.Errorf("wallet of %s lists %+v in state %q", user, e, e.State)
		}
		seen[e.OrderNo] = true
	}
	if len(seen) != len(won) || w.Settled != settled || w.Pending != pending || settled+pending != want || w.Balance != want {
		t.Errorf("wallet of %s = %+v; want its %d packets, %d in all, settled + pending = balance", user, w, len(won), want)
	}
	return settled > 0 && pending > 0
}

// grabAll makes users <prefix>-0..n-1 grab each packets each, 32 users at
// a time, and returns each user's order numbers (amounts still 0).
func (s *stack) grabAll(t *testing.T, campaignID, prefix string, n, each int) map[string]map[string]int64 {
	t.Helper()
	var mu sync.Mutex
	out := make(map[string]map[string]int64, n)
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for user := range jobs {
				got := make(map[string]int64, each)
				for _, st := range s.api.grabN(t, campaignID, user, each) {
					got[st.OrderNo] = 0
				}
				mu.Lock()
				out[user] = got
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- prefix + "-" + strconv.Itoa(i)
	}
	close(jobs)
	wg.Wait()
	return out
}
