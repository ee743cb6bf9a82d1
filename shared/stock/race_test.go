package stock_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/stock"
)

const (
	raceClaims = 10_000
	raceUsers  = 2_500 // each user claims 4 times
	// raceWorkers bounds live goroutines: the race detector allows 8128.
	raceWorkers = 4_000
)

// outcome is one claim of the race and its decision.
type outcome struct {
	r   stock.Request
	d   stock.Decision
	err error
}

// TestDeductRace fires 10,000 claims at once from 2,500 users and proves the
// script never oversells, never lets a user past the limit and never hands
// one stock unit to two wins.
func TestDeductRace(t *testing.T) {
	for _, stockN := range []int{1, 100, 1_000} {
		for _, limit := range []int{1, 2} {
			for _, maxQty := range []int{1, 2} {
				if maxQty > limit {
					continue
				}
				name := fmt.Sprintf("stock=%d/limit=%d/qty<=%d", stockN, limit, maxQty)
				t.Run(name, func(t *testing.T) { runRace(t, stockN, limit, maxQty) })
			}
		}
	}
}

func runRace(t *testing.T, stockN, limit, maxQty int) {
	f := newFixture(t)
	c := sale("race", limit, campaign.Item{SKU: "phone", Stock: stockN})
	f.warm(t, c, nil)
	out := fire(t, f, c.ID, maxQty)
	reserved, perUser := tally(t, out, limit)
	left := f.remaining(t, c.ID, "phone")
	if reserved > stockN || left != stockN-reserved || left < 0 {
		t.Fatalf("oversold: stock %d, reserved %d units, %d left", stockN, reserved, left)
	}
	if maxQty == 1 && reserved != stockN {
		t.Errorf("undersold: reserved %d of %d units though demand exceeded stock", reserved, stockN)
	}
	checkSlots(t, out, stockN)
	checkRedisTotals(t, f, c.ID, perUser, reserved)
}

// fire runs raceClaims Deduct calls released together.
func fire(t *testing.T, f *fixture, campaignID string, maxQty int) []outcome {
	out := make([]outcome, raceClaims)
	for i := range out {
		user := "u" + strconv.Itoa(i%raceUsers)
		out[i].r = req(campaignID, strconv.Itoa(i), user, "phone", 1+i%maxQty, start.Add(time.Minute))
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range raceWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i].d, out[i].err = f.d.Deduct(context.Background(), out[i].r)
			}
		}()
	}
	for i := range out {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, o := range out {
		if o.err != nil {
			t.Fatalf("deduct %s: %v", o.r.ClaimID, o.err)
		}
	}
	return out
}

// held is what one user won in the race.
type held struct{ units, wins int }

// tally sums the reserved units and checks each user's wins: within the
// limit, numbered 1..n without a gap or a repeat.
func tally(t *testing.T, out []outcome, limit int) (int, map[string]held) {
	t.Helper()
	total, perUser := 0, map[string]held{}
	seqs := map[string]map[int]bool{}
	for _, o := range out {
		if o.d.State != claim.Reserved {
			continue
		}
		u := o.r.UserID
		total += o.r.Qty
		perUser[u] = held{units: perUser[u].units + o.r.Qty, wins: perUser[u].wins + 1}
		if seqs[u] == nil {
			seqs[u] = map[int]bool{}
		}
		if seqs[u][o.d.Seq] {
			t.Errorf("user %s got seq %d twice", u, o.d.Seq)
		}
		seqs[u][o.d.Seq] = true
	}
	for u, h := range perUser {
		if h.units > limit {
			t.Errorf("user %s holds %d units; limit %d", u, h.units, limit)
		}
		for n := 1; n <= h.wins; n++ {
			if !seqs[u][n] {
				t.Errorf("user %s won %d times but has no seq %d", u, h.wins, n)
			}
		}
	}
	return total, perUser
}

// checkSlots proves every reserved unit has a slot of its own in 1..stock.
func checkSlots(t *testing.T, out []outcome, stockN int) {
	t.Helper()
	owner := make(map[int]string)
	for _, o := range out {
		if o.d.State != claim.Reserved {
			continue
		}
		for s := o.d.FirstSlot; s < o.d.FirstSlot+o.r.Qty; s++ {
			if s < 1 || s > stockN {
				t.Errorf("claim %s got slot %d outside 1..%d", o.r.ClaimID, s, stockN)
			}
			if prev, taken := owner[s]; taken {
				t.Errorf("slot %d given to %s and %s", s, prev, o.r.ClaimID)
			}
			owner[s] = o.r.ClaimID
		}
	}
}

// checkRedisTotals proves Redis agrees with the decisions: held units and
// win counters per user, and one in-flight entry per reservation.
func checkRedisTotals(t *testing.T, f *fixture, campaignID string, perUser map[string]held, reserved int) {
	t.Helper()
	keys := f.keys.Campaign(campaignID)
	gotHeld, gotWins := f.hashInts(t, keys.Held()), f.hashInts(t, keys.Wins())
	wins := 0
	for u, h := range perUser {
		if gotHeld[u] != h.units || gotWins[u] != h.wins {
			t.Errorf("user %s: redis held %d wins %d; decisions say %d, %d", u, gotHeld[u], gotWins[u], h.units, h.wins)
		}
		wins += h.wins
	}
	if len(gotHeld) != len(perUser) || len(gotWins) != len(perUser) {
		t.Errorf("redis holds %d users (wins %d); decisions say %d", len(gotHeld), len(gotWins), len(perUser))
	}
	inflight, units := f.hashInts(t, keys.Inflight()), 0
	for _, n := range inflight {
		units += n
	}
	if len(inflight) != wins || units != reserved {
		t.Errorf("inflight: %d claims, %d units; want %d, %d", len(inflight), units, wins, reserved)
	}
}
