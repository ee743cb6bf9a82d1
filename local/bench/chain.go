package bench

import (
	"context"
	"time"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/crowd"
)

// Names of the chain figures: the crowd through the gateway, every function
// and the broker in the path.
const (
	chainPrefix         = "chain."
	ChainAccepted       = "chain.accepted"
	ChainDecided        = "chain.decided"
	ChainDecidedWin     = "chain.decided.win"
	ChainDecidedSoldOut = "chain.decided.sold_out"
	ChainSettled        = "chain.settled"
)

// crowdTimeout bounds the wait for every claim to be final after the last
// click.
const crowdTimeout = 10 * time.Minute

// crowdBank is the challenge bank of a captcha campaign of the bench for
// users (its expected_crowd): twice the users, at most 2,000. A crowd
// holds at most a few hundred challenges at once (it answers each at once:
// two per worker at most), and 2,000 leave room for the leases a click
// shed before its answer keeps until they end; sized by the crowd instead
// (captcha.BankCap, 20,000 entries) its warm-up alone takes most of a
// minute on 2 cores.
func crowdBank(users int) int { return min(2*users, 2000) }

// crowd sends Size.Users users at Size.Stock units through the gateway,
// each answering the captcha (through the operator's access to the bank),
// 5% of them double-clicking and every one retrying a 5xx as real clients
// do, while every profiled process is profiled.
func (r *runner) crowd(ctx context.Context) error {
	id, err := campaignID("crowd-")
	if err != nil {
		return err
	}
	s := r.cfg.Size
	names := make([]string, 0, len(r.cfg.Profiled))
	for name := range r.cfg.Profiled {
		names = append(names, name)
	}
	r.logf("crowd    %d users for %d units, %s loop, %d workers", s.Users, s.Stock, loop(s.Rate), s.Concurrency)
	w := r.profile(ctx, 5*time.Second, names...)
	stopWatch := func() []BrokerSample { return nil }
	if r.cfg.BrokerStats != "" {
		stopWatch = watchBroker(ctx, r.cfg.BrokerStats, time.Second)
	}
	shot := r.shootDashboard(ctx, id)
	res, err := crowd.Run(ctx, r.saleCrowd(id, s.Users, s.Stock, s.Rate))
	shot()
	r.rep.Broker = stopWatch()
	r.rep.Stalls = stalls(r.rep.Broker)
	r.keepProfiles("chain", w)
	if err != nil {
		return err
	}
	r.rep.Crowd = &res
	r.rep.CrowdCPU = seconds(r.profiles["chain"].cpu)
	t := res.Throughput
	r.logf("crowd    accepted %.0f/s, decided %.0f/s, settled %.0f/s; %d invariants failed", t.AcceptedPerSec, t.DecidedPerSec,
		t.SettledPerSec, len(res.Failed()))
	return nil
}

// openCrowd runs a crowd open loop at half the rate the closed loop
// decided wins at (while stock remained every arrival is a win, the
// costlier path), for about 20 s, to measure how long a buyer waits for
// the decision when the engine is not saturated. Skipped when the crowd
// ran open loop already or did not run.
func (r *runner) openCrowd(ctx context.Context) error {
	closed := r.rep.Crowd
	if closed == nil || r.cfg.Size.Rate > 0 {
		r.skip(StepOpenCrowd, "no closed-loop crowd to take half the rate of")
		return nil
	}
	rate := closed.Throughput.Win.DecidedPerSec / 2
	if rate <= 0 {
		rate = closed.Throughput.AcceptedPerSec / 2
	}
	users := min(max(int(rate*20), 1000), r.cfg.Size.Users)
	id, err := campaignID("open-")
	if err != nil {
		return err
	}
	r.logf("crowd    open loop: %d users for %d units at %.0f arrivals/s", users, users/10, rate)
	res, err := crowd.Run(ctx, r.saleCrowd(id, users, users/10, rate))
	if err != nil {
		return err
	}
	r.rep.OpenCrowd = &res
	d := res.Latency.Decide
	r.logf("crowd    open loop: decide p50 %.0f ms, p99 %.0f ms; %d invariants failed", d.P50, d.P99, len(res.Failed()))
	return nil
}

// saleCrowd is a crowd of users through the run's gateway at a sale of
// stock units of one SKU, limit 1, with captcha: 5% double clicks, 5xx
// retried, open loop at rate arrivals/s (0: closed loop), progress on the
// run's log.
func (r *runner) saleCrowd(id string, users, stock int, rate float64) crowd.Config {
	return crowd.Config{
		BaseURL: r.cfg.Gateway, AdminToken: r.cfg.AdminToken, JWTSecret: r.cfg.JWTSecret,
		Campaign: crowd.Campaign{ID: id, SKU: "sku-1", Stock: stock, Limit: 1, Shadow: r.cfg.Shadow, Captcha: true, ExpectedCrowd: crowdBank(users)},
		Users:    users, Rate: rate, Concurrency: r.cfg.Size.Concurrency, DuplicateClickRatio: 0.05, RetryOn5xx: true,
		Timeout: crowdTimeout, ServerCPU: r.cfg.ServerCPU, Progress: r.cfg.Log, AnswerDelay: r.cfg.AnswerDelay,
	}
}

func loop(rate float64) string {
	if rate > 0 {
		return "open"
	}
	return "closed"
}

// crowdThroughputs are the figures of a crowd through the gateway (the
// sale's chain.*, the rain's rain.*): each name's suffix, its unit, the
// baseline it is read against and the limit that baseline stands for.
var crowdThroughputs = []struct {
	suffix, unit, baseline, limit string
	rate                          func(crowd.Throughput) float64
}{
	{"accepted", "claim", baseline.NameHTTP, "an HTTP request answered", func(t crowd.Throughput) float64 { return t.AcceptedPerSec }},
	{"decided", "claim", baseline.NameBroker, "one broker hop (claim.requested to prededuct)",
		func(t crowd.Throughput) float64 { return t.DecidedPerSec }},
	{"decided.win", "claim", baseline.NameBroker, "one broker hop", func(t crowd.Throughput) float64 { return t.Win.DecidedPerSec }},
	{"decided.sold_out", "claim", baseline.NameBroker, "one broker hop", func(t crowd.Throughput) float64 { return t.SoldOut.DecidedPerSec }},
	{"settled", "order", baseline.NameBroker, "three broker hops (requested, reserved, queued)",
		func(t crowd.Throughput) float64 { return t.SettledPerSec }},
}

// crowdFigures are a crowd's throughputs as figures to pair, each named
// prefix + its suffix.
func crowdFigures(prefix string, res *crowd.Result) []figure {
	if res == nil {
		return nil
	}
	out := make([]figure, len(crowdThroughputs))
	for i, c := range crowdThroughputs {
		out[i] = figure{prefix + c.suffix, c.unit, c.rate(res.Throughput)}
	}
	return out
}
