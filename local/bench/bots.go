package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/surgekit/surge/local/click"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/shared/campaign"
)

// BotFlood is the bot step: a legitimate crowd on a fresh campaign alone,
// then the same crowd on another beside a flood of bots clicking its claim
// call. The bots send challenge fields that answer nothing: what a bucket
// lets through is refused at the captcha (410), the rest is 429.
type BotFlood struct {
	Limits   campaign.Limits `json:"limits"`
	Alone    *crowd.Result   `json:"alone"`
	WithBots *crowd.Result   `json:"with_bots"`
	Bots     []BotRun        `json:"bots"`
}

// BotRun is one flood of bots, open loop.
type BotRun struct {
	Name     string      `json:"name"`
	Users    int         `json:"users"`      // bot users, their clicks in turn
	IPs      int         `json:"client_ips"` // the client IPs they click from (1: all behind one)
	Offered  float64     `json:"offered_per_second"`
	Sent     float64     `json:"sent_per_second"`
	Missed   int         `json:"missed"` // arrivals not sent: every connection busy
	Statuses map[int]int `json:"statuses"`
	// Admitted are the clicks the limits let through (refused at the
	// captcha: every answer but 429, 503 and no answer), and Bound the most
	// the buckets allow in the window.
	Admitted int `json:"admitted"`
	Bound    int `json:"bound"`
}

// Sizes of the bot step: the crowd is a tenth of the profile's (20 to
// 2,000 users) arriving at botCrowdRate; the bots flood for the crowd's
// arrivals and a second either side.
const (
	botCrowdRate = 200
	botUsers     = 5    // each from a client IP of its own
	botUserRate  = 400  // clicks/s of each bot user
	natUsers     = 500  // behind one client IP
	natRate      = 1000 // clicks/s of all of them together
	crowdIPs     = 250  // the crowd's client IPs, on loopback
)

// botLimits are the bot step's campaign limits: the deployment's default
// per user (10/s, 20 at once) and a per-IP limit, which make bench leaves
// off elsewhere (every simulated user is on loopback).
var botLimits = campaign.Limits{UserPerSec: 10, UserBurst: 20, IPPerSec: 100, IPBurst: 200}

// bots runs the bot step.
func (r *runner) bots(ctx context.Context) error {
	users := min(max(r.cfg.Size.Users/10, 20), 2000)
	loopback := r.onLoopback()
	limits := botLimits
	if !loopback { // one client IP for everything: no per-IP limit to show
		limits.IPPerSec, limits.IPBurst = campaign.MaxRate, int(campaign.MaxRate)
		r.skip("bots behind one IP", "the deployment is not on this host's loopback: every client is one IP")
	}
	out := &BotFlood{Limits: limits}
	r.logf("bots     a crowd of %d users at %d arrivals/s, alone", users, botCrowdRate)
	id, err := campaignID("bots-")
	if err != nil {
		return err
	}
	alone, err := r.botCrowd(ctx, botCampaign(id, users, limits, r.cfg.Shadow), users, loopback, false)
	if err != nil {
		return err
	}
	out.Alone = &alone
	r.logf("bots     the same beside %d bot users at %d clicks/s each and %d users behind one IP at %d clicks/s", botUsers, botUserRate, natUsers, natRate)
	if out.WithBots, out.Bots, err = r.besideBots(ctx, users, limits, loopback); err != nil {
		return err
	}
	r.rep.Bots = out
	for _, c := range []*crowd.Result{out.Alone, out.WithBots} {
		r.logf("bots     crowd accepted %d of %d clicks, accept p99 %.0f ms, decide p99 %.0f ms", c.Counts.Accepted, c.Counts.Clicks,
			c.Latency.Accept.P99, c.Latency.Decide.P99)
	}
	return nil
}

// besideBots starts the floods, lets them run a second, sends the crowd,
// and waits for both.
func (r *runner) besideBots(ctx context.Context, users int, limits campaign.Limits, loopback bool) (*crowd.Result, []BotRun, error) {
	id, err := campaignID("bots-")
	if err != nil {
		return nil, nil, err
	}
	c := botCampaign(id, users, limits, r.cfg.Shadow)
	if err := crowd.OpenSale(ctx, r.cfg.Gateway, r.cfg.AdminToken, c); err != nil {
		return nil, nil, err
	}
	window := time.Duration(users)*time.Second/botCrowdRate + 2*time.Second
	floods := []botFlood{{name: "bot users", users: botUsers, ips: botUsers, rate: botUsers * botUserRate, limits: limits}}
	if loopback {
		floods = append(floods, botFlood{name: "users behind one IP", users: natUsers, ips: 1, rate: natRate, limits: limits})
	}
	runs := make([]BotRun, len(floods))
	errs := make([]error, len(floods))
	var wg sync.WaitGroup
	for i, f := range floods {
		wg.Go(func() { runs[i], errs[i] = r.flood(ctx, c, f, window, i) })
	}
	sleep(ctx, time.Second)
	res, err := r.botCrowd(ctx, c, users, loopback, true)
	wg.Wait()
	return &res, runs, firstErr(append(errs, err)...)
}

// botCampaign is a sale with more units than the crowd's users, so that
// no bot is ever answered sold out (a sold-out click is answered before
// the limits, at no cost): every click of the flood meets them.
func botCampaign(id string, users int, limits campaign.Limits, shadow bool) crowd.Campaign {
	return crowd.Campaign{ID: id, SKU: clickSKU, Stock: 2 * users, Limit: 1, Shadow: shadow, Captcha: true, Limits: &limits, ExpectedCrowd: crowdBank(users)}
}

// botCrowd is the legitimate crowd of users, open loop, answering the
// captcha, from crowdIPs client IPs when the deployment is on loopback, on
// campaign c (opened says it exists already).
func (r *runner) botCrowd(ctx context.Context, c crowd.Campaign, users int, loopback, opened bool) (crowd.Result, error) {
	cfg := crowd.Config{BaseURL: r.cfg.Gateway, AdminToken: r.cfg.AdminToken, Opened: opened, JWTSecret: r.cfg.JWTSecret,
		Campaign: c, Users: users, UserPrefix: "legit-", Rate: botCrowdRate, Concurrency: r.cfg.Size.Concurrency,
		DuplicateClickRatio: 0.05, RetryOn5xx: true, Timeout: crowdTimeout, ServerCPU: r.cfg.ServerCPU, Progress: r.cfg.Log, AnswerDelay: r.cfg.AnswerDelay}
	if loopback {
		cfg.Sources = click.Loopback("127.4.0.1", crowdIPs)
	}
	return crowd.Run(ctx, cfg)
}

// botFlood is one kind of bot: users clicking in turn, from ips client IPs.
type botFlood struct {
	name       string
	users, ips int
	rate       float64
	limits     campaign.Limits
}

// flood sends f at campaign c for window, open loop, and reports it.
func (r *runner) flood(ctx context.Context, c crowd.Campaign, f botFlood, window time.Duration, n int) (BotRun, error) {
	tokens, err := signUsersAs(r.cfg.JWTSecret, "bot-"+strconv.Itoa(n)+"-", f.users, c.Shadow)
	if err != nil {
		return BotRun{}, err
	}
	body := `{"sku":"` + clickSKU + `","qty":1,"challenge_id":"bot","answer":"000000"}`
	reqs, err := click.Build(r.cfg.Gateway, claimsPath(c.ID), tokens, []byte(body))
	if err != nil {
		return BotRun{}, err
	}
	cc := click.Config{URL: r.cfg.Gateway, Conns: 128, Window: window, Requests: reqs, Cycle: true, Rate: f.rate,
		Answer: []int{http.StatusTooManyRequests}}
	if r.onLoopback() {
		cc.Sources = click.Loopback("127.5."+strconv.Itoa(n)+".1", f.ips)
	}
	res, err := click.Run(ctx, cc)
	if err != nil {
		return BotRun{}, fmt.Errorf("bots %s: %w", f.name, err)
	}
	return botRunOf(f, res), nil
}

func botRunOf(f botFlood, res click.Result) BotRun {
	b := BotRun{Name: f.name, Users: f.users, IPs: f.ips, Offered: f.rate, Sent: float64(res.Sent()) / res.Elapsed.Seconds(),
		Missed: res.Missed, Statuses: res.Statuses}
	b.Admitted = res.Sent() - res.Statuses[http.StatusTooManyRequests] - res.Statuses[http.StatusServiceUnavailable] - res.Statuses[0]
	secs := res.Elapsed.Seconds()
	users := int(float64(f.users)*(float64(f.limits.UserBurst)+f.limits.UserPerSec*secs)) + f.users
	ips := int(float64(f.ips)*(float64(f.limits.IPBurst)+f.limits.IPPerSec*secs)) + f.ips
	b.Bound = min(users, ips)
	return b
}

// onLoopback reports whether the gateway is on this host's loopback, so
// that a client can dial from a client IP of its own (click.Loopback).
func (r *runner) onLoopback() bool {
	u, err := url.Parse(r.cfg.Gateway)
	if err != nil {
		return false
	}
	host, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		host = u.Host
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
