package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/click"
	"github.com/surgekit/surge/shared/campaign"
)

// The funnel's limits under a bot flood, through the gateway: one bot user
// firing 2,000 clicks/s for 5 s from its own IP is held to its user bucket,
// 500 bot users behind one IP are held to the IP's bucket, and 1,000 users
// each on an IP of their own, clicking at once in the middle of the flood,
// still get at least 99% of their claims accepted and decided. No user
// holds more than the per-user limit, in Redis or in PostgreSQL.
func TestBotFloodThroughGateway(t *testing.T) {
	const (
		flood  = 5 * time.Second
		legit  = 1000
		limit  = 1
		botIPs = 500
	)
	limits := campaign.Limits{UserPerSec: 2, UserBurst: 4, IPPerSec: 100, IPBurst: 200}
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "bots", SKU: "cup", Stock: 5000, Limit: limit, Limits: &limits})

	var bots sync.WaitGroup
	var bot, shared click.Result
	bots.Go(func() { bot = s.flood(t, "bots", []string{"bot"}, 2000, flood, "127.0.1.1") })
	users := make([]string, botIPs)
	for i := range users {
		users[i] = fmt.Sprintf("nat-%d", i)
	}
	bots.Go(func() { shared = s.flood(t, "bots", users, 1000, flood, "127.0.1.2") })

	time.Sleep(flood / 5) // the flood in full swing
	claims := s.legitCrowd(t, "bots", legit, click.Loopback("127.2.0.1", legit))
	bots.Wait()

	t.Logf("bot user: %s; 500 users behind one IP: %s; legitimate users accepted: %d of %d", offered(bot), offered(shared), len(claims), legit)
	assertHeld(t, "the bot user", bot, limits.UserPerSec, limits.UserBurst)
	assertHeld(t, "500 users behind one IP", shared, limits.IPPerSec, limits.IPBurst)
	if len(claims) < legit*99/100 {
		t.Errorf("%d of %d legitimate users accepted; want at least 99%%", len(claims), legit)
	}
	decided := s.api.await(t, claims, func(st claimStatus) bool { return st.State == "settled" || st.State == "rejected" })
	for user, st := range decided {
		if st.State != "settled" {
			t.Errorf("legitimate user %s: claim %s, %s; want settled (units were left)", user, st.State, st.Reason)
		}
	}
	s.awaitClaimsFinal(t, "bots", time.Minute)
	held := s.assertWithinLimit(t, "bots", limit)
	if held["bot"] != limit {
		t.Errorf("the bot user holds %d units; want the limit, %d", held["bot"], limit)
	}
}

// flood sends the users' clicks round and round, open loop at rate for d,
// from the client IP src.
func (s *stack) flood(t *testing.T, campaignID string, users []string, rate float64, d time.Duration, src string) click.Result {
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i] = s.api.token(t, u)
	}
	reqs, err := click.Build(s.URL(), "/v1/campaigns/"+campaignID+"/claims", tokens, []byte(`{"sku":"cup","qty":1}`))
	if err != nil {
		t.Error(err)
		return click.Result{}
	}
	res, err := click.Run(context.Background(), click.Config{URL: s.URL(), Conns: 256, Window: d, Requests: reqs, Cycle: true,
		Rate: rate, Sources: click.Loopback(src, 1), Answer: []int{http.StatusAccepted, http.StatusTooManyRequests, http.StatusServiceUnavailable}})
	if err != nil {
		t.Error(err)
	}
	return res
}

// legitCrowd makes n users click once each, all at once, user i from
// sources[i], retrying a 429 or 503 as a client does; it returns the claim
// of each user accepted.
func (s *stack) legitCrowd(t *testing.T, campaignID string, n int, sources []netip.Addr) map[string]string {
	t.Helper()
	var mu sync.Mutex
	claims := make(map[string]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		user := fmt.Sprintf("user-%d", i)
		c, tok := s.api.from(sources[i]), s.api.token(t, user)
		wg.Go(func() {
			<-start
			a, status, err := c.claim(campaignID, "cup", user, tok)
			if err != nil || status != http.StatusAccepted {
				t.Logf("legitimate user %s: %d %+v %v", user, status, a, err)
				return
			}
			mu.Lock()
			claims[user] = a.ClaimID
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return claims
}

// assertHeld checks that a flood got no more 202s than its bucket lets
// through in its time, and every other answer was a refusal with its
// hints: 429, or 503 when captcha shed the click before its limits.
func assertHeld(t *testing.T, who string, res click.Result, rate float64, burst int) {
	t.Helper()
	most := burst + int(rate*res.Elapsed.Seconds()) + 1
	if got := res.Statuses[http.StatusAccepted]; got > most {
		t.Errorf("%s: %d clicks accepted in %v; want at most %d (burst %d + %g/s)", who, got, res.Elapsed, most, burst, rate)
	}
	if other := res.Sent() - res.Answered; other != 0 || res.Unhinted != 0 {
		t.Errorf("%s: %d answers not 202, 429 or 503 (%v), %d refusals without Retry-After and Retry-After-Ms; want none", who, other, res.Statuses, res.Unhinted)
	}
}

// offered says what a flood sent, at what rate, and how it was answered.
func offered(res click.Result) string {
	return fmt.Sprintf("%d sent (%.0f/s, %d arrivals missed: every connection busy), answers %v, p50 %v of those counted answered",
		res.Sent(), float64(res.Sent())/res.Elapsed.Seconds(), res.Missed, res.Statuses, res.Latency.P50)
}
