package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/clientip"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// click is one claim from bearer, sent by a proxy at remote for client xff
// (no header when empty).
func (fx *fixture) click(campaignID, bearer, remote, xff string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/v1/campaigns/"+campaignID+"/claims", bytes.NewReader([]byte(`{"sku":"cup","qty":1}`)))
	r.RemoteAddr = remote
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+bearer)
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	fx.h.ServeHTTP(w, r)
	return w
}

// tally counts answers by status and keeps one 429.
type tally struct {
	mu       sync.Mutex
	statuses map[int]int
	limited  *httptest.ResponseRecorder
}

func (tl *tally) add(w *httptest.ResponseRecorder) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.statuses == nil {
		tl.statuses = map[int]int{}
	}
	tl.statuses[w.Code]++
	if w.Code == http.StatusTooManyRequests && tl.limited == nil {
		tl.limited = w
	}
}

// flood runs send from workers goroutines for d, or until each has sent
// max (when max > 0); it returns how long it ran.
func flood(workers, max int, d time.Duration, send func(worker, i int)) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; (max == 0 || i < max) && time.Since(start) < d; i++ {
				send(w, i)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// atMost is a bucket's most admissions in elapsed: burst + rate × time
// (+1 for the token refilled while the last request was on its way).
func atMost(r float64, burst int, elapsed time.Duration) int {
	return burst + int(r*elapsed.Seconds()) + 1
}

func limitedFixture(t *testing.T, l campaign.Limits) *fixture {
	res, err := clientip.New("")
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureWith(t, captcha.Config{}, func(d *Deps) { d.Limits, d.ClientIP = l, res })
}

func checkLimited(t *testing.T, tl *tally, code string) {
	t.Helper()
	w := tl.limited
	if w == nil {
		t.Fatalf("no 429 among %v", tl.statuses)
	}
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if httpapitest.ErrorCode(w) != code || err != nil || secs < 1 || w.Header().Get("Retry-After-Ms") == "" {
		t.Fatalf("429 %v %s; want %s with Retry-After ≥ 1 and Retry-After-Ms", w.Header(), w.Body, code)
	}
}

// One user firing far above its bucket is held to it, and nothing over it
// is recorded; another user is not slowed down.
func TestUserFloodHeldToItsBucket(t *testing.T) {
	fx := limitedFixture(t, campaign.Limits{UserPerSec: 5, UserBurst: 5})
	fx.warm(t, "open", false)
	alice, bob := token(t, "alice"), token(t, "bob")
	var tl tally
	var bobOK sync.WaitGroup
	bobOK.Go(func() {
		for i := range 3 {
			if w := fx.click("open", bob, "203.0.113.2:1", ""); w.Code != http.StatusAccepted {
				t.Errorf("bob's click %d during the flood: %d %s; want 202", i, w.Code, w.Body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	before := fx.scriptCalls(t)
	elapsed := flood(8, 0, time.Second, func(int, int) { tl.add(fx.click("open", alice, "203.0.113.1:1", "")) })
	bobOK.Wait()
	total := tl.statuses[http.StatusAccepted] + tl.statuses[http.StatusTooManyRequests]
	// The local pre-filter answers most of the flood: Redis runs a script
	// (rate limit, claim record) only for about what the bucket lets by.
	if calls := fx.scriptCalls(t) - before; calls > 4*atMost(5, 5, elapsed)+10 || total < 100 {
		t.Fatalf("%d script runs in Redis for %d clicks; want the flood answered in process", calls, total)
	}
	got, limit := tl.statuses[http.StatusAccepted], atMost(5, 5, elapsed)
	if got < 5 || got > limit || tl.statuses[http.StatusTooManyRequests] == 0 {
		t.Fatalf("alice: %v in %v; want 5 to %d accepted, the rest 429", tl.statuses, elapsed, limit)
	}
	checkLimited(t, &tl, "rate_limited_user")
	if n := fx.claimKeys(t); n != got+3 {
		t.Fatalf("%d claim records; want %d (alice's accepted and bob's 3): nothing over the limit", n, got+3)
	}
}

// 500 users behind one IP (through a trusted proxy) are held to the IP's
// limit; a user at another address is not.
func TestIPFloodHeldToItsBucket(t *testing.T) {
	fx := limitedFixture(t, campaign.Limits{UserPerSec: 100, UserBurst: 100, IPPerSec: 20, IPBurst: 20})
	fx.warm(t, "open", false)
	tokens := make([]string, 500)
	for i := range tokens {
		tokens[i] = token(t, fmt.Sprintf("bot-%d", i))
	}
	var tl tally
	elapsed := flood(10, 50, 2*time.Second, func(w, i int) {
		tl.add(fx.click("open", tokens[w*50+i], "127.0.0.1:9", "198.51.100.9, 127.0.0.1"))
	})
	if got, limit := tl.statuses[http.StatusAccepted], atMost(20, 20, elapsed); got < 20 || got > limit {
		t.Fatalf("one IP: %v in %v; want 20 to %d accepted", tl.statuses, elapsed, limit)
	}
	checkLimited(t, &tl, "rate_limited_ip")
	if w := fx.click("open", token(t, "carol"), "127.0.0.1:9", "198.51.100.10"); w.Code != http.StatusAccepted {
		t.Fatalf("carol at another IP: %d %s; want 202", w.Code, w.Body)
	}
}

// A campaign's own ceiling (its spec's limits) holds every user together.
func TestCampaignCeiling(t *testing.T) {
	fx := limitedFixture(t, campaign.Limits{})
	fx.warmLimited(t, "open", false, &campaign.Limits{CampaignPerSec: 10})
	fx.warm(t, "other", false)
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = token(t, fmt.Sprintf("u-%d", i))
	}
	var tl tally
	elapsed := flood(4, 25, time.Second, func(w, i int) {
		tl.add(fx.click("open", tokens[w*25+i], fmt.Sprintf("203.0.113.%d:1", i), ""))
	})
	if got, limit := tl.statuses[http.StatusAccepted], atMost(10, 10, elapsed); got < 10 || got > limit {
		t.Fatalf("campaign: %v in %v; want 10 to %d accepted", tl.statuses, elapsed, limit)
	}
	checkLimited(t, &tl, "rate_limited_campaign")
	if w := fx.click("other", tokens[0], "203.0.113.1:1", ""); w.Code != http.StatusAccepted {
		t.Fatalf("another campaign: %d %s; want 202", w.Code, w.Body)
	}
}

// Challenges are limited too, on buckets of their own.
func TestChallengesLimited(t *testing.T) {
	fx := limitedFixture(t, campaign.Limits{UserPerSec: 0.1, UserBurst: 2})
	fx.warm(t, "guarded", true)
	alice := token(t, "alice")
	for i, want := range []int{201, 201, 429} {
		if w := fx.call(t, "/v1/campaigns/guarded/challenges", alice, nil); w.Code != want {
			t.Fatalf("challenge %d: %d %s; want %d", i, w.Code, w.Body, want)
		}
	}
}

// scriptCalls is how many scripts the Redis server has run (EVALSHA, EVAL).
func (fx *fixture) scriptCalls(t *testing.T) int {
	t.Helper()
	info, err := fx.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\n") {
		for _, cmd := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
			if rest, ok := strings.CutPrefix(line, cmd); ok {
				v, _, _ := strings.Cut(rest, ",")
				c, _ := strconv.Atoi(v)
				n += c
			}
		}
	}
	return n
}
