package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/keyspace"
)

const (
	rainCrowd   = 20_000
	rainPackets = 1_000
	rainBudget  = 500_000 // cents: ¥5,000 in 1,000 packets
)

// A rain end to end through the gateway: 20,000 patient users grab 1,000
// packets at once, settle paused. Exactly 1,000 packets are issued, to
// 1,000 users, and each winner's wallet shows the packet pending at once;
// after settle resumes, the ledger holds exactly the budget, each wallet
// shows it settled, and the money issued counter and both budget alerts
// agree.
func TestRainEndToEnd(t *testing.T) {
	runRain(t, startEngine(t, false), false)
}

// The same with every broker delivery duplicated.
func TestRainWithEveryDeliveryDuplicated(t *testing.T) {
	runRain(t, startEngine(t, true), false)
}

// The same with settle killed (kill -9) with every win queued at it, and
// again whenever it has settled some packets but not all.
func TestRainWithSettleKilledMidRun(t *testing.T) {
	s := startEngine(t, false)
	midRun := runRain(t, s, true)
	if s.Restarts("settle") < 1+midRun {
		t.Fatalf("settle restarted %d times, want at least %d", s.Restarts("settle"), 1+midRun)
	}
	t.Logf("settle killed once with %d packets in flight, then %d times part-way", rainPackets, midRun)
}

// runRain runs the rain; with kill, settle is killed instead of resumed,
// and killed part-way again up to 5 times, which runRain returns.
func runRain(t *testing.T, s *stack, kill bool) (midRun int) {
	s.api.openRain(t, rain{ID: "cny", Budget: rainBudget, Packets: rainPackets, Limit: 1})
	if err := s.Pause("settle"); err != nil {
		t.Fatal(err)
	}
	clicked := s.api.crowd(t, "cny", "", rainCrowd)
	decided := s.api.await(t, clicked.claims, func(st claimStatus) bool {
		return st.State == "rejected" || (st.State == "reserved" && st.OrderNo != "")
	})
	winners := winnersOf(t, decided, len(clicked.soldOut), rainPackets, rainCrowd)
	var pendingSum int64
	for user := range winners {
		w := s.api.wallet(t, user)
		if len(w.Entries) != 1 || w.Entries[0].State != "pending" || w.Pending != w.Entries[0].Amount || w.Balance != w.Pending || w.Settled != 0 {
			t.Fatalf("wallet of %s before settlement = %+v, want its one packet pending", user, w)
		}
		pendingSum += w.Pending
	}
	if pendingSum != rainBudget {
		t.Fatalf("pending wallets sum to %d, want the budget %d", pendingSum, rainBudget)
	}
	if kill {
		if err := s.Kill("settle"); err != nil {
			t.Fatal(err)
		}
		midRun = killWhileSettling(t, s, "cny", rainPackets, 5)
	} else if err := s.Resume("settle"); err != nil {
		t.Fatal(err)
	}
	s.api.await(t, pick(clicked.claims, winners), func(st claimStatus) bool { return st.State == "settled" })
	var settledSum int64
	for user := range winners {
		w := s.api.wallet(t, user)
		if len(w.Entries) != 1 || w.Entries[0].State != "settled" || w.Pending != 0 || w.Balance != w.Settled {
			t.Fatalf("wallet of %s after settlement = %+v, want its one packet settled", user, w)
		}
		settledSum += w.Settled
	}
	rows, units, users := s.ordersInDB(t, "cny")
	if rows != rainPackets || units != rainPackets || users != rainPackets || settledSum != rainBudget {
		t.Fatalf("PostgreSQL holds %d orders, %d packets, %d users, wallets %d; want %d, %d, %d and %d",
			rows, units, users, settledSum, rainPackets, rainPackets, rainPackets, rainBudget)
	}
	if sum := s.sumInDB(t, `SELECT coalesce(sum(amount), 0) FROM orders WHERE campaign_id = 'cny'`); sum != rainBudget {
		t.Fatalf("ledger sum %d, want the budget %d", sum, rainBudget)
	}
	if left := s.remaining(t, "cny", "packet"); left != 0 {
		t.Fatalf("Redis has %d packets left, want 0", left)
	}
	assertBudgetIssued(t, s, "cny", rainBudget)
	assertReconciled(t, s)
	return midRun
}

// assertBudgetIssued waits for the money issued counter (flushed once a
// second per enqueue instance) to reach the budget and both budget alerts
// to be marked raised.
func assertBudgetIssued(t *testing.T, s *stack, campaignID string, budget int64) {
	t.Helper()
	keys := keyspace.New(s.env.KeyPrefix).Campaign(campaignID)
	rdb := s.redis(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		issued, _ := rdb.Get(context.Background(), keys.Issued()).Int64()
		alerts, _ := rdb.HKeys(context.Background(), keys.BudgetAlerts()).Result()
		if issued == budget && len(alerts) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("money issued %d with alerts %v; want %d with low and exhausted", issued, alerts, budget)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Withdrawals. Settle gets no order.queued (no settle Trigger), so every
// packet stays pending until a withdrawal forces it through settle's own
// address. alice withdraws her whole balance while it is all pending;
// bob's balance is raced by 50 withdrawals at once and never overdrawn;
// a replay gets its first answer; bad amounts change nothing.
func TestWithdrawals(t *testing.T) {
	s := startEngineWith(t, engine.Config{TriggersDir: withoutTrigger(t, "settle"), Env: []string{"SURGE_REPAIR_GRACE=10m"}})
	s.api.openRain(t, rain{ID: "payday", Budget: 5_000, Packets: 20, Limit: 10})
	for _, user := range []string{"alice", "bob"} {
		s.api.grabN(t, "payday", user, 10)
	}
	alice := s.api.wallet(t, "alice")
	if alice.Pending == 0 || alice.Settled != 0 || len(alice.Entries) != 10 {
		t.Fatalf("alice's wallet %+v: want 10 packets pending", alice)
	}
	var wd withdrawal
	s.api.withdraw(t, "alice", "all-of-it", alice.Balance, http.StatusCreated, &wd)
	if wd.Amount != alice.Balance || wd.Balance != 0 {
		t.Fatalf("alice withdrew %+v, want all %d", wd, alice.Balance)
	}
	after := s.api.wallet(t, "alice")
	if after.Settled != alice.Pending || after.Pending != 0 || after.Withdrawn != alice.Balance || after.Balance != 0 {
		t.Fatalf("alice's wallet after = %+v; want %d settled and withdrawn", after, alice.Pending)
	}
	var again withdrawal
	s.api.withdraw(t, "alice", "all-of-it", alice.Balance, http.StatusCreated, &again)
	if again != wd {
		t.Fatalf("replay answered %+v, want the first answer %+v", again, wd)
	}
	s.api.withdraw(t, "alice", "more", 1, http.StatusConflict, nil)

	bob := s.api.wallet(t, "bob")
	each := max(bob.Balance/7, 1)
	var mu sync.Mutex
	var won int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			status := s.api.withdrawRaw(t, "bob", fmt.Sprintf("w-%d", i), each)
			if status == http.StatusCreated {
				mu.Lock()
				won += each
				mu.Unlock()
			} else if status != http.StatusConflict {
				t.Errorf("withdrawal %d answered %d", i, status)
			}
		})
	}
	wg.Wait()
	if won > bob.Balance || won != bob.Balance/each*each {
		t.Fatalf("bob withdrew %d of %d in %d-cent withdrawals; want %d", won, bob.Balance, each, bob.Balance/each*each)
	}
	if w := s.api.wallet(t, "bob"); w.Withdrawn != won || w.Balance != bob.Balance-won {
		t.Fatalf("bob's wallet %+v after withdrawing %d of %d", w, won, bob.Balance)
	}
	if sum := s.sumInDB(t, `SELECT coalesce(sum(amount), 0) FROM withdrawals WHERE user_id = 'bob'`); sum != won {
		t.Fatalf("PostgreSQL holds %d withdrawn by bob, want %d", sum, won)
	}
	for _, body := range []string{`{"amount": 0}`, `{"amount": -5}`, `{"amount": 1.5}`, `{"amount": "10"}`, `{}`} {
		if st := s.api.withdrawBody(t, "bob", "bad", body); st != http.StatusBadRequest {
			t.Errorf("withdrawal %s answered %d, want 400", body, st)
		}
	}
	if st := s.api.withdrawBody(t, "bob", "", `{"amount": 1}`); st != http.StatusBadRequest {
		t.Errorf("withdrawal without an Idempotency-Key answered %d, want 400", st)
	}
}

// A token the client kept, presented after Redis lost the user's pending
// list (and the claim's record), settles once; presented twice, once; a
// tampered, forged or foreign token gets a 4xx and changes nothing.
func TestClientHeldToken(t *testing.T) {
	s := startEngineWith(t, engine.Config{TriggersDir: withoutTrigger(t, "settle"), Env: []string{"SURGE_REPAIR_GRACE=10m"}})
	s.api.openRain(t, rain{ID: "keep", Budget: 1_000, Packets: 10, Limit: 1})
	st := s.api.grabN(t, "keep", "carol", 1)[0]
	if st.Token == "" {
		t.Fatal("the claim answered no receipt token")
	}
	keys := keyspace.New(s.env.KeyPrefix)
	rdb := s.redis(t)
	if err := rdb.Del(context.Background(), keys.User("carol").Pending(), keys.Campaign("keep").Claim(st.ClaimID)).Err(); err != nil {
		t.Fatal(err)
	}
	if w := s.api.wallet(t, "carol"); w.Balance != 0 {
		t.Fatalf("carol's wallet %+v once Redis lost her win; want empty", w)
	}
	for _, tok := range []string{"nonsense", st.Token[:len(st.Token)-4] + "AAAA", tamper(st.Token)} {
		if code := s.api.present(t, "carol", tok, nil); code < 400 || code > 499 {
			t.Errorf("bad token answered %d, want a 4xx", code)
		}
	}
	if code := s.api.present(t, "dave", st.Token, nil); code != http.StatusForbidden {
		t.Errorf("carol's token presented by dave answered %d, want 403", code)
	}
	if rows, _, _ := s.ordersInDB(t, "keep"); rows != 0 {
		t.Fatalf("bad tokens wrote %d orders", rows)
	}
	for range 2 {
		var p struct {
			OrderNo string `json:"order_no"`
			State   string `json:"state"`
			Amount  int64  `json:"amount"`
		}
		if code := s.api.present(t, "carol", st.Token, &p); code != http.StatusOK || p.OrderNo != st.OrderNo || p.State != "settled" {
			t.Fatalf("presenting carol's token answered %d %+v, want 200 settled %s", code, p, st.OrderNo)
		}
	}
	if rows, _, _ := s.ordersInDB(t, "keep"); rows != 1 {
		t.Fatalf("PostgreSQL holds %d orders for the token presented twice, want 1", rows)
	}
	if w := s.api.wallet(t, "carol"); len(w.Entries) != 1 || w.Settled == 0 || w.Balance != w.Settled {
		t.Fatalf("carol's wallet %+v, want her packet settled once", w)
	}
}

// tamper flips one character of a token's payload.
func tamper(tok string) string {
	b := []byte(tok)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

// Bad rains and bad grabs change nothing.
func TestBadRainInput(t *testing.T) {
	s := startEngine(t, false)
	now := time.Now().UTC()
	for _, c := range []map[string]any{
		{"budget": 10, "packets": 20}, {"budget": 100, "packets": 0}, {"budget": -100, "packets": 10},
	} {
		body := map[string]any{"id": "bad", "kind": "rain", "title": "bad", "per_user_limit": 1,
			"starts_at": now, "ends_at": now.Add(time.Hour), "captcha": false}
		for k, v := range c {
			body[k] = v
		}
		s.api.must(t, http.StatusBadRequest, http.MethodPost, "/v1/campaigns", s.api.admin, body, nil)
	}
	s.api.openRain(t, rain{ID: "ok", Budget: 100, Packets: 10, Limit: 1})
	body, _ := json.Marshal(map[string]any{"sku": "phone-x", "qty": 1})
	if _, status, err := s.api.post("ok", "eve", s.api.token(t, "eve"), body); err != nil || status != http.StatusBadRequest {
		t.Fatalf("a grab naming a sku answered %d (%v), want 400", status, err)
	}
	if left := s.remaining(t, "ok", "packet"); left != 10 {
		t.Fatalf("%d packets left after bad input, want 10", left)
	}
}

// rain is a rain campaign to open.
type rain struct {
	ID      string
	Budget  int64
	Packets int
	Limit   int
}

// openRain creates a rain that is open now, without captcha, and warms it
// up (the split is made then).
func (c *client) openRain(t testing.TB, r rain) {
	t.Helper()
	now := time.Now().UTC()
	body := map[string]any{
		"id": r.ID, "kind": "rain", "title": "e2e " + r.ID, "budget": r.Budget, "packets": r.Packets,
		"per_user_limit": r.Limit, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour), "captcha": false,
	}
	c.must(t, http.StatusCreated, http.MethodPost, "/v1/campaigns", c.admin, body, nil)
	c.must(t, http.StatusOK, http.MethodPost, "/v1/campaigns/"+r.ID+"/warmup", c.admin, nil, nil)
}

// grabN makes user grab n packets one after another (a key each) and
// waits until each is reserved with its receipt token.
func (c *client) grabN(t testing.TB, campaignID, user string, n int) []claimStatus {
	t.Helper()
	tok := c.token(t, user)
	claims := map[string]string{}
	for i := range n {
		var a accepted
		c.mustKey(t, http.StatusAccepted, "/v1/campaigns/"+campaignID+"/claims", tok, fmt.Sprintf("grab-%d", i), map[string]any{}, &a)
		claims[fmt.Sprintf("%s#%d", user, i)] = a.ClaimID
	}
	var out []claimStatus
	for _, st := range c.awaitAs(t, tok, claims, func(st claimStatus) bool { return st.State == "reserved" && st.Token != "" }) {
		out = append(out, st)
	}
	return out
}

// awaitAs polls claims of one user until each is done.
func (c *client) awaitAs(t testing.TB, tok string, claims map[string]string, done func(claimStatus) bool) map[string]claimStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]claimStatus{}
	for k, id := range claims {
		st := c.poll(ctx, tok, id, done)
		if !done(st) {
			t.Fatalf("claim %s ended %+v", id, st)
		}
		out[k] = st
	}
	return out
}

// walletView is GET /v1/wallet.
type walletView struct {
	Settled   int64 `json:"settled"`
	Pending   int64 `json:"pending"`
	Withdrawn int64 `json:"withdrawn"`
	Balance   int64 `json:"balance"`
	Entries   []struct {
		OrderNo string `json:"order_no"`
		State   string `json:"state"`
		Amount  int64  `json:"amount"`
	} `json:"entries"`
}

func (c *client) wallet(t testing.TB, user string) walletView {
	t.Helper()
	var w walletView
	c.must(t, http.StatusOK, http.MethodGet, "/v1/wallet", c.token(t, user), nil, &w)
	return w
}

type withdrawal struct {
	Key       string    `json:"idempotency_key"`
	Amount    int64     `json:"amount"`
	Balance   int64     `json:"balance"`
	CreatedAt time.Time `json:"created_at"`
}

func (c *client) withdraw(t testing.TB, user, key string, amount int64, want int, out any) {
	t.Helper()
	c.mustKey(t, want, "/v1/wallet/withdrawals", c.token(t, user), key, map[string]any{"amount": amount}, out)
}

func (c *client) withdrawRaw(t testing.TB, user, key string, amount int64) int {
	t.Helper()
	return c.withdrawBody(t, user, key, fmt.Sprintf(`{"amount": %d}`, amount))
}

func (c *client) withdrawBody(t testing.TB, user, key, body string) int {
	t.Helper()
	code, _ := c.send(t, "/v1/wallet/withdrawals", c.token(t, user), key, []byte(body), nil)
	return code
}

func (c *client) present(t testing.TB, user, token string, out any) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"token": token})
	code, _ := c.send(t, "/v1/wallet/tokens", c.token(t, user), "", b, out)
	return code
}

// mustKey posts body as JSON with an Idempotency-Key and wants status.
func (c *client) mustKey(t testing.TB, want int, path, bearer, key string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	if code, raw := c.send(t, path, bearer, key, b, out); code != want {
		t.Fatalf("POST %s answered %d %s, want %d", path, code, raw, want)
	}
}

// send posts raw JSON and decodes a 2xx answer into out.
func (c *client) send(t testing.TB, path, bearer, key string, body []byte, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, raw.String()
}

// sumInDB runs a query answering one number.
func (s *stack) sumInDB(t *testing.T, sql string) int64 {
	t.Helper()
	var n int64
	conn := s.pool(t)
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
