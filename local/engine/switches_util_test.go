package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/claim"
)

// flip sets a degrade switch through the gateway, as the operator does.
func (c *client) flip(t *testing.T, name string, body map[string]any) {
	t.Helper()
	body["by"], body["reason"] = "test", t.Name()
	c.must(t, http.StatusOK, http.MethodPut, "/v1/switches/"+name, c.admin, body, nil)
}

// clickAnswer is what one attempt of a click was answered: the status and, for
// an error, its code.
type clickAnswer struct {
	status int
	code   string
}

func (a clickAnswer) String() string { return fmt.Sprintf("%d %s", a.status, a.code) }

// traffic is a stream of patient buyers: a new user clicks every interval
// until stop (at most maxUsers), each clicking again with the same
// Idempotency-Key on 503 or 429 (after Retry-After) until another answer,
// for up to a minute. It records every answer.
type traffic struct {
	c        *client
	campaign string
	body     []byte

	mu     sync.Mutex
	seen   map[clickAnswer]int    // every attempt's answer, counted
	final  map[string]clickAnswer // user → last answer
	claims map[string]string      // user → claim id of a 202
	errs   []error
	users  int

	stop chan struct{}
	done chan struct{}
}

const (
	trafficEvery    = 5 * time.Millisecond
	trafficMaxUsers = 3000
)

// startTraffic starts buyers clicking body on campaign; finish ends it.
func (c *client) startTraffic(t *testing.T, campaign string, body string) *traffic {
	t.Helper()
	tr := &traffic{c: c, campaign: campaign, body: []byte(body), seen: map[clickAnswer]int{}, final: map[string]clickAnswer{},
		claims: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go tr.feed()
	t.Cleanup(tr.end)
	return tr
}

func (tr *traffic) feed() {
	defer close(tr.done)
	var buyers sync.WaitGroup
	defer buyers.Wait()
	tick := time.NewTicker(trafficEvery)
	defer tick.Stop()
	for i := range trafficMaxUsers {
		select {
		case <-tr.stop:
			return
		case <-tick.C:
		}
		user := fmt.Sprintf("buyer-%d", i)
		tr.mu.Lock()
		tr.users++
		tr.mu.Unlock()
		buyers.Go(func() { tr.buy(user) })
	}
}

func (tr *traffic) buy(user string) {
	tok, err := auth.SignUser(tr.c.secret, user, time.Hour)
	if err != nil {
		tr.fail(err)
		return
	}
	for attempt, t0 := 1, time.Now(); time.Since(t0) < time.Minute; attempt++ {
		a, id, wait, err := tr.click(user, tok)
		tr.mu.Lock()
		if err == nil {
			tr.seen[a]++
			tr.final[user] = a
			if a.status == http.StatusAccepted {
				tr.claims[user] = id
			}
		}
		tr.mu.Unlock()
		if err == nil && a.status != http.StatusServiceUnavailable && a.status != http.StatusTooManyRequests {
			return
		}
		time.Sleep(max(min(time.Duration(attempt)*100*time.Millisecond, time.Second), wait))
	}
	tr.fail(fmt.Errorf("%s: no final answer within a minute (last %v)", user, tr.final[user]))
}

func (tr *traffic) fail(err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.errs = append(tr.errs, err)
}

// click sends one attempt and reads its answer.
func (tr *traffic) click(user, tok string) (a clickAnswer, claimID string, retryAfter time.Duration, err error) {
	req, err := http.NewRequest(http.MethodPost, tr.c.base+"/v1/campaigns/"+tr.campaign+"/claims", bytes.NewReader(tr.body))
	if err != nil {
		return a, "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", "click-"+user)
	resp, err := tr.c.http.Do(req)
	if err != nil {
		return a, "", 0, err
	}
	defer resp.Body.Close()
	var body struct {
		ClaimID string `json:"claim_id"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return a, "", 0, fmt.Errorf("%s: status %d: %w", user, resp.StatusCode, err)
	}
	if ms, convErr := strconv.Atoi(resp.Header.Get("Retry-After-Ms")); convErr == nil {
		retryAfter = time.Duration(ms) * time.Millisecond
	}
	return clickAnswer{resp.StatusCode, body.Error.Code}, body.ClaimID, retryAfter, nil
}

// count is how many attempts were answered a.
func (tr *traffic) count(a clickAnswer) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.seen[a]
}

// await waits until at least n more attempts than now were answered a.
func (tr *traffic) await(t *testing.T, a clickAnswer, n int) {
	t.Helper()
	want := tr.count(a) + n
	for deadline := time.Now().Add(time.Minute); tr.count(a) < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("traffic: %d answers %v within a minute; want %d (all answers: %v)", tr.count(a), a, want, tr.answers())
		}
	}
}

func (tr *traffic) answers() map[clickAnswer]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[clickAnswer]int, len(tr.seen))
	for a, n := range tr.seen {
		out[a] = n
	}
	return out
}

func (tr *traffic) end() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	<-tr.done
}

// finish stops new buyers, waits for every buyer's final answer, and
// checks each is one of final.
func (tr *traffic) finish(t *testing.T, final ...clickAnswer) {
	t.Helper()
	tr.end()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, err := range tr.errs {
		t.Error(err)
	}
	ok := map[clickAnswer]bool{}
	for _, a := range final {
		ok[a] = true
	}
	for user, a := range tr.final {
		if !ok[a] {
			t.Errorf("%s was answered %v at last; want one of %v", user, a, final)
		}
	}
	t.Logf("%d buyers, answers %v", tr.users, tr.seen)
}

var (
	answeredAccepted = clickAnswer{http.StatusAccepted, ""}
	answeredSoldOut  = clickAnswer{http.StatusConflict, "sold_out"}
)

// assertNothingLost: every claim accepted during the traffic reaches a
// final state, each settled one is an order in PostgreSQL, the stock left
// in Redis and the units sold add up to the stock, and reconcile agrees.
func assertNothingLost(t *testing.T, s *stack, tr *traffic, campaign, sku string, stock int) {
	t.Helper()
	records := s.awaitClaimsFinal(t, campaign, 3*time.Minute)
	settled := 0
	for user, id := range tr.claims {
		r, ok := records[id]
		switch {
		case !ok:
			t.Errorf("claim %s of %s accepted but not recorded", id, user)
		case r.state == claim.Settled:
			settled++
		case r.state != claim.Rejected:
			t.Errorf("claim %s of %s is %s; want settled or rejected", id, user, r.state)
		}
	}
	rows, units, _ := s.ordersInDB(t, campaign)
	if rows != settled || units != settled {
		t.Errorf("PostgreSQL holds %d orders of %d units; %d claims settled", rows, units, settled)
	}
	if left := s.remaining(t, campaign, sku); left+units != stock {
		t.Errorf("Redis has %d left and %d units were sold; want %d in all", left, units, stock)
	}
	assertReconciled(t, s)
}

// awaitClaimsDecided waits until no claim of campaignID is pending: every
// reservation taken from the stock is taken.
func (s *stack) awaitClaimsDecided(t *testing.T, campaignID string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); byState(s.claimRecords(t, campaignID))[claim.Pending] > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("claims of %s still pending after a minute", campaignID)
		}
	}
}

// anyClaim is one buyer accepted so far and their claim.
func (tr *traffic) anyClaim(t *testing.T) (user, claimID string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for u, id := range tr.claims {
		return u, id
	}
	t.Fatal("no claim accepted yet")
	return "", ""
}

// ordersWithHeader lists user's orders (order number → states) and the
// answer's Surge-Degraded header.
func (c *client) ordersWithHeader(t *testing.T, user string) (map[string][]string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+"/v1/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token(t, user))
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l orderList
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/orders: %d, %v", resp.StatusCode, err)
	}
	got := map[string][]string{}
	for _, o := range l.Orders {
		got[o.OrderNo] = append(got[o.OrderNo], o.State)
	}
	return got, resp.Header.Get("Surge-Degraded")
}

// ordersSettle waits until the number of campaignID's orders in
// PostgreSQL has not changed for a second, and returns it.
func (s *stack) ordersSettle(t *testing.T, campaignID string) int {
	t.Helper()
	last, _, _ := s.ordersInDB(t, campaignID)
	for deadline, still := time.Now().Add(time.Minute), 0; still < 5; time.Sleep(200 * time.Millisecond) {
		n, _, _ := s.ordersInDB(t, campaignID)
		if n != last {
			last, still = n, 0
		} else {
			still++
		}
		if time.Now().After(deadline) {
			t.Fatalf("orders of %s still written a minute after settlement was paused", campaignID)
		}
	}
	return last
}
