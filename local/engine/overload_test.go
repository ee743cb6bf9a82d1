package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/click"
	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/claim"
)

// 5,000 clicks/s offered for 10 s, open loop, through the gateway: each
// click a user of its own, from 64 client IPs, on a sale of 5,000 units
// (wins first, sold out at the end). Whatever the machine manages, no
// answer is a 500, every refusal is a 429 or 503 with Retry-After and
// Retry-After-Ms, and Redis keeps no record of a refused claim: once the
// chain is drained it holds exactly one final record per 202, and the
// tombstones of the refused.
func TestOfferedFiveThousandPerSecond(t *testing.T) {
	const (
		rate   = 5000
		window = 10 * time.Second
	)
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "flood", SKU: "cup", Stock: 5000, Limit: 1})
	reqs, err := click.Build(s.URL(), "/v1/campaigns/flood/claims", signUsers(t, s.api.secret, rate*int(window/time.Second)), []byte(`{"sku":"cup","qty":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := click.Run(context.Background(), click.Config{URL: s.URL(), Conns: 768, Window: window, Requests: reqs,
		Rate: rate, Sources: click.Loopback("127.3.0.1", 64), Answer: []int{http.StatusAccepted}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offered %d clicks/s for %v: %s; client CPU %v", rate, window, offered(res), res.ClientCPU)
	for status, n := range res.Statuses {
		switch status {
		case http.StatusAccepted, http.StatusConflict, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Errorf("%d clicks answered %d; want only 202, 409 (sold out), 429 and 503", n, status)
		}
	}
	if res.Unhinted != 0 {
		t.Errorf("%d refusals without Retry-After and Retry-After-Ms; want none", res.Unhinted)
	}
	records := s.awaitClaimsFinal(t, "flood", 2*time.Minute)
	n := byState(records)
	if accepted := res.Statuses[http.StatusAccepted]; len(records)-n[claim.Refused] != accepted {
		t.Errorf("Redis holds %v claim records for %d claims accepted; want one per 202 besides the tombstones", n, accepted)
	}
	t.Logf("claim records in Redis: %v", n)
}

// signUsers signs n users' JWTs (u0, u1, …).
func signUsers(t *testing.T, secret []byte, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tok, err := auth.SignUser(secret, "u"+strconv.Itoa(i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok
	}
	return tokens
}

// With the broker process stopped (SIGSTOP), captcha answers every claim
// 503 within its publish deadline instead of hanging, and leaves no
// pending claim that has no event (the refused are tombstones). The broker
// may still store what it had read when it runs again (SIGCONT), and that
// changes nothing: every claim accepted, before or after, ends final, and
// exactly those hold a unit.
func TestBrokerPausedSheds(t *testing.T) {
	const publishTimeout = 300 * time.Millisecond
	e, env, secrets := suite.Start(t, engine.Config{Env: []string{
		"SURGE_PUBLISH_TIMEOUT=" + publishTimeout.String(), "SURGE_TIMEOUT=5s"}}) // a hang would show as 5 s
	s := &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
	s.api.openSale(t, sale{ID: "paused", SKU: "cup", Stock: 100, Limit: 1})
	before := s.clickAll(t, "paused", "early", 20)
	if err := s.Pause("broker"); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = s.Resume("broker")
		}
	}()
	during := s.clickAll(t, "paused", "late", 40)
	for user, a := range during {
		if a.status != http.StatusServiceUnavailable || a.retryAfter <= 0 || a.took > publishTimeout+2*time.Second {
			t.Errorf("%s with the broker stopped: %d, Retry-After-Ms %v, in %v; want 503 with a hint within %v + 2 s", user, a.status, a.retryAfter, a.took, publishTimeout)
		}
	}
	for id, r := range s.claimRecords(t, "paused") {
		if r.state == claim.Pending && before[r.user].claimID != id {
			t.Errorf("claim %s of %s pending while the broker is stopped, not one accepted before; want none", id, r.user)
		}
	}
	if err := s.Resume("broker"); err != nil {
		t.Fatal(err)
	}
	resumed = true
	time.Sleep(time.Second)                        // what the broker had read is stored and delivered now
	retried := s.clickAll(t, "paused", "late", 20) // half the refused click again, the same claim (Idempotency-Key)
	winners := map[string]string{}
	for user, a := range mergeClicks(before, retried) {
		if a.status != http.StatusAccepted {
			t.Fatalf("%s with the broker running: %d; want 202", user, a.status)
		}
		winners[user] = a.claimID
	}
	s.api.await(t, winners, func(st claimStatus) bool { return st.State == "settled" })
	records := s.awaitClaimsFinal(t, "paused", time.Minute)
	held := s.assertWithinLimit(t, "paused", 1)
	for user := range held {
		if _, ok := winners[user]; !ok {
			t.Errorf("%s holds a unit; it was only ever answered 503", user)
		}
	}
	if len(held) != len(winners) {
		t.Errorf("%d users hold a unit; want the %d accepted", len(held), len(winners))
	}
	t.Logf("claim records after: %v; the broker delivered %d claim.requested events for %d claims accepted: the rest are refused attempts it stored anyway",
		byState(records), s.delivered(t, "prededuct"), len(winners))
}

// delivered is how many events the broker has delivered to a trigger
// (GET /debug/triggers), redeliveries included.
func (s *stack) delivered(t *testing.T, trigger string) uint64 {
	t.Helper()
	var stats []struct {
		Trigger   string `json:"trigger"`
		Delivered uint64 `json:"delivered"`
	}
	resp, err := http.Get(s.BrokerURL() + "/debug/triggers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	for _, st := range stats {
		if st.Trigger == trigger {
			return st.Delivered
		}
	}
	t.Fatalf("no trigger %s at the broker", trigger)
	return 0
}

// answer is one click's outcome.
type answer struct {
	status     int
	claimID    string
	retryAfter time.Duration
	took       time.Duration
}

// clickAll makes users <prefix>-0..n-1 click once each at once, with an
// Idempotency-Key of their own and no retry.
func (s *stack) clickAll(t *testing.T, campaignID, prefix string, n int) map[string]answer {
	t.Helper()
	return s.clickPatiently(t, campaignID, prefix, n, 0)
}

// clickPatiently is clickAll of patient clients: on 503, 429 or a broken
// connection each clicks again with the same Idempotency-Key (the same
// claim), no sooner than Retry-After, for up to patience. It returns each
// user's last answer.
func (s *stack) clickPatiently(t *testing.T, campaignID, prefix string, n int, patience time.Duration) map[string]answer {
	t.Helper()
	body := []byte(`{"sku":"cup","qty":1}`)
	var mu sync.Mutex
	got := make(map[string]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		user := fmt.Sprintf("%s-%d", prefix, i)
		tok := s.api.token(t, user)
		wg.Go(func() {
			t0 := time.Now()
			var a answer
			for {
				acc, status, err := s.api.post(campaignID, user, tok, body)
				a = answer{status: status, claimID: acc.ClaimID, retryAfter: acc.retryAfter, took: time.Since(t0)}
				retry := err != nil || status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests
				if !retry || time.Since(t0) >= patience {
					if err != nil && patience == 0 {
						t.Errorf("click of %s: %v", user, err)
					}
					break
				}
				time.Sleep(max(100*time.Millisecond, a.retryAfter))
			}
			mu.Lock()
			got[user] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

func mergeClicks(ms ...map[string]answer) map[string]answer {
	out := map[string]answer{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
