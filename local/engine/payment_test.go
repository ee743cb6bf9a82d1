package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/plane"
)

// pay posts a payment of orderNo as user under key and returns the status
// and the answer's state or error code.
func (s *stack) pay(t testing.TB, user, orderNo, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/v1/orders/"+orderNo+"/payment", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.api.token(t, user))
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.api.http.Do(req)
	if err != nil {
		t.Errorf("payment of %s: %v", orderNo, err)
		return 0, ""
	}
	defer resp.Body.Close()
	var body struct {
		State string `json:"state"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if body.Error.Code != "" {
		return resp.StatusCode, body.Error.Code
	}
	return resp.StatusCode, body.State
}

func (s *stack) pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// orderStates maps each order of a campaign to its state in PostgreSQL.
func orderStates(t testing.TB, db *pgxpool.Pool, campaignID string) map[string]string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT order_no, state FROM orders WHERE campaign_id = $1`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var no, state string
	if _, err := pgx.ForEachRow(rows, []any{&no, &state}, func() error { out[no] = state; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// oversellSampler checks invariant 1 while it runs: at every sample, the
// units of live orders in PostgreSQL plus those reserved in Redis and not
// in PostgreSQL yet are at most the stock. Redis's inflight claims are
// read first: a claim settling in between is then seen in both and
// counted once (by claim id), never in neither.
type oversellSampler struct {
	samples, worst atomic.Int64
	stop           chan struct{}
	done           sync.WaitGroup
}

func (s *stack) sampleOversell(t *testing.T, campaignID string, stock int) *oversellSampler {
	t.Helper()
	rdb, db := s.redis(t), s.pool(t)
	inflightKey := s.env.KeyPrefix + ":{c:" + campaignID + "}:inflight"
	o := &oversellSampler{stop: make(chan struct{})}
	o.done.Go(func() {
		ctx := context.Background()
		for {
			select {
			case <-o.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			inflight, err := rdb.HGetAll(ctx, inflightKey).Result()
			if err != nil {
				continue
			}
			live := map[string]int{}
			for id, units := range inflight {
				live[id], _ = strconv.Atoi(units)
			}
			rows, err := db.Query(ctx, `SELECT token_id, qty FROM orders WHERE campaign_id = $1 AND state <> 'released'`, campaignID)
			if err != nil {
				continue
			}
			var id string
			var qty int
			if _, err := pgx.ForEachRow(rows, []any{&id, &qty}, func() error { live[id] = qty; return nil }); err != nil {
				continue
			}
			units := 0
			for _, q := range live {
				units += q
			}
			o.samples.Add(1)
			if int64(units) > o.worst.Load() {
				o.worst.Store(int64(units))
			}
			if units > stock {
				t.Errorf("oversold: %d units live (settled + reserved) for a stock of %d", units, stock)
			}
		}
	})
	return o
}

func (o *oversellSampler) finish(t *testing.T) {
	t.Helper()
	close(o.stop)
	o.done.Wait()
	if o.samples.Load() < 10 {
		t.Errorf("only %d oversell samples", o.samples.Load())
	}
	t.Logf("%d samples, at most %d units live", o.samples.Load(), o.worst.Load())
}

// A sale with a short payment window: half the winners pay, half do not.
// Exactly the unpaid units come back, once, within seconds of pay_by (the
// release driver); a payment after the deadline is refused and changes
// nothing; a second wave of buyers buys exactly those units, on exactly
// the released slots; nothing is oversold at any sampled instant.
func TestUnpaidUnitsGoBackOnSale(t *testing.T) {
	const stock, wave = 100, 300
	s := startEngine(t, false)
	db := s.pool(t)
	s.api.openSale(t, sale{ID: "window", SKU: "tv", Stock: stock, Limit: 1, PayWithin: 8 * time.Second})
	sampler := s.sampleOversell(t, "window", stock)

	first := s.api.crowdFrom(t, "window", "tv", 0, wave)
	decided := s.api.await(t, first.claims, func(st claimStatus) bool {
		return st.State == "rejected" || st.State == "settled"
	})
	winners := splitWinnersOf(t, decided, "settled", stock)
	payers, unpaid := map[string]claimStatus{}, map[string]claimStatus{}
	for user, st := range winners {
		if len(payers) < stock/2 {
			payers[user] = st
		} else {
			unpaid[user] = st
		}
	}
	for user, st := range payers {
		if status, state := s.pay(t, user, st.OrderNo, "pay-"+user); status != http.StatusOK || state != "paid" {
			t.Fatalf("payment of %s by %s: %d %s; want 200 paid", st.OrderNo, user, status, state)
		}
	}
	releasedSlots := slotsOf(t, db, unpaid)

	released := s.api.await(t, pick(first.claims, unpaid), func(st claimStatus) bool { return st.State == "released" })
	for user, st := range released {
		if status, code := s.pay(t, user, st.OrderNo, "late-"+user); status != http.StatusConflict || code != "payment_expired" {
			t.Errorf("payment after the deadline of %s: %d %s; want 409 payment_expired", st.OrderNo, status, code)
		}
	}
	states := orderStates(t, db, "window")
	for user, st := range payers {
		if states[st.OrderNo] != "paid" || fmt.Sprint(s.api.orders(t, user)[st.OrderNo]) != "[paid]" {
			t.Errorf("%s of %s: %s in PostgreSQL, %v in GET /v1/orders; want paid", st.OrderNo, user, states[st.OrderNo], s.api.orders(t, user))
		}
	}
	for user, st := range unpaid {
		if states[st.OrderNo] != "released" || fmt.Sprint(s.api.orders(t, user)[st.OrderNo]) != "[released]" {
			t.Errorf("%s of %s: %s in PostgreSQL, %v in GET /v1/orders; want released", st.OrderNo, user, states[st.OrderNo], s.api.orders(t, user))
		}
	}
	if left := s.remaining(t, "window", "tv"); left != stock/2 {
		t.Fatalf("Redis remaining %d after the releases, want %d", left, stock/2)
	}
	var lag time.Duration
	if err := db.QueryRow(context.Background(), `SELECT coalesce(max(released_at - pay_by), '0') FROM orders WHERE campaign_id = 'window'`).Scan(&lag); err != nil {
		t.Fatal(err)
	}
	t.Logf("released at most %v after pay_by (the driver ticks every second)", lag)

	second := s.api.crowdFrom(t, "window", "tv", wave, wave)
	decided = s.api.await(t, second.claims, func(st claimStatus) bool {
		return st.State == "rejected" || st.State == "settled"
	})
	again := splitWinnersOf(t, decided, "settled", stock/2)
	sampler.finish(t)

	if got := slotsOf(t, db, again); fmt.Sprint(got) != fmt.Sprint(releasedSlots) {
		t.Errorf("the second wave holds slots %v; want exactly the released ones %v", got, releasedSlots)
	}
	var live, distinct, highest int
	if err := db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT slot), coalesce(max(slot), 0) FROM stock_slots WHERE campaign_id = 'window'`).
		Scan(&live, &distinct, &highest); err != nil {
		t.Fatal(err)
	}
	if live != stock || distinct != stock || highest != stock {
		t.Errorf("stock_slots: %d rows, %d distinct, highest %d; want %d each", live, distinct, highest, stock)
	}
	if left := s.remaining(t, "window", "tv"); left != 0 {
		t.Errorf("Redis remaining %d at the end, want 0", left)
	}
	assertReconciled(t, s)
}

// splitWinnersOf returns the users whose claim reached state won, failing
// unless there are exactly want of them and every other was rejected
// sold out.
func splitWinnersOf(t *testing.T, decided map[string]claimStatus, won string, want int) map[string]claimStatus {
	t.Helper()
	winners := map[string]claimStatus{}
	for user, st := range decided {
		switch {
		case st.State == won:
			winners[user] = st
		case st.Reason != "sold_out":
			t.Errorf("%s: %+v; want %s or rejected sold_out", user, st, won)
		}
	}
	if len(winners) != want {
		t.Fatalf("%d claims %s, want %d", len(winners), won, want)
	}
	return winners
}

// slotsOf lists the stock slots the orders of these claims hold (or held,
// for released ones: the order's own record), sorted.
func slotsOf(t *testing.T, db *pgxpool.Pool, claims map[string]claimStatus) []int {
	t.Helper()
	nos := make([]string, 0, len(claims))
	for _, st := range claims {
		nos = append(nos, st.OrderNo)
	}
	rows, err := db.Query(context.Background(), `
		SELECT s FROM orders, unnest(CASE WHEN cardinality(slots) > 0 THEN slots
			ELSE ARRAY(SELECT generate_series(first_slot, first_slot + qty - 1)) END) AS s
		WHERE order_no = ANY($1) ORDER BY s`, nos)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// 1,000 settled orders, each paid through the API in the very millisecond
// of its deadline while the release driver fires at it: each ends paid or
// released, never both, never neither, and the payment's answer says
// which (200 paid, or 409 payment_expired for a release that won).
func TestPayAtTheDeadline(t *testing.T) {
	const n = 1000
	s := startEngine(t, false)
	db := s.pool(t)
	s.api.openSale(t, sale{ID: "photo", SKU: "cam", Stock: n, Limit: 1, PayWithin: 15 * time.Second})
	clicked := s.api.crowd(t, "photo", "cam", n)
	won := s.api.await(t, clicked.claims, func(st claimStatus) bool { return st.State == "settled" })
	payBy := map[string]time.Time{}
	rows, err := db.Query(context.Background(), `SELECT order_no, pay_by FROM orders WHERE campaign_id = 'photo'`)
	if err != nil {
		t.Fatal(err)
	}
	var no string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&no, &at}, func() error { payBy[no] = at; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(payBy) != n {
		t.Fatalf("%d orders settled, want %d", len(payBy), n)
	}
	var mu sync.Mutex
	answers := map[string]string{}
	var wg sync.WaitGroup
	i := 0
	for user, st := range won {
		deadline, ok := payBy[st.OrderNo]
		if !ok {
			t.Fatalf("claim of %s settled as %s, which PostgreSQL does not hold", user, st.OrderNo)
		}
		early := time.Duration(i%4) * time.Millisecond // sent 0-3 ms before pay_by: it arrives about then
		i++
		wg.Go(func() {
			time.Sleep(time.Until(deadline.Add(-early)))
			status, got := s.pay(t, user, st.OrderNo, "at-the-deadline")
			mu.Lock()
			answers[st.OrderNo] = strconv.Itoa(status) + " " + got
			mu.Unlock()
		})
	}
	// Reconcile passes while payments and releases race: a unit on its way
	// back (released in PostgreSQL, not given back in Redis yet) is no
	// mismatch.
	paying := make(chan struct{})
	go func() { wg.Wait(); close(paying) }()
	passes := 0
	for done := false; !done; passes++ {
		select {
		case <-paying:
			done = true
		case <-time.After(100 * time.Millisecond):
		}
		if got := s.ping(t, plane.Real); got.Mismatches != 0 {
			t.Errorf("a pass during the releases found %d mismatches (report %s)", got.Mismatches, got.ReportKey)
		}
	}
	final := s.api.await(t, clicked.claims, func(st claimStatus) bool { return st.State == "paid" || st.State == "released" })
	states := orderStates(t, db, "photo")
	paid := 0
	for user, st := range final {
		answer := answers[st.OrderNo]
		switch {
		case st.State == "paid" && states[st.OrderNo] == "paid" && answer == "200 paid":
			paid++
		case st.State == "released" && states[st.OrderNo] == "released" && answer == "409 payment_expired":
		default:
			t.Errorf("%s of %s: claim %s, PostgreSQL %s, payment answered %q", st.OrderNo, user, st.State, states[st.OrderNo], answer)
		}
	}
	var live int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM stock_slots WHERE campaign_id = 'photo'`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != paid {
		t.Errorf("%d live slots, want the %d paid", live, paid)
	}
	if left := s.remaining(t, "photo", "cam"); left != n-paid {
		t.Errorf("Redis remaining %d, want the %d released", left, n-paid)
	}
	t.Logf("%d paid in their last millisecond, %d released; %d reconcile passes during the race", paid, n-paid, passes)
	assertReconciled(t, s)
}
