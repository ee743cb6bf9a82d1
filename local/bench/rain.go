package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/surgekit/surge/local/click"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/shared/campaign"
)

// Names of the rain figures: a crowd grabbing a rain's packets through the
// gateway, as the sale's crowd claims units (chain.*), and the winners
// reading their wallets.
const (
	rainPrefix         = "rain."
	RainAccepted       = "rain.accepted"
	RainDecided        = "rain.decided"
	RainDecidedWin     = "rain.decided.win"
	RainDecidedSoldOut = "rain.decided.sold_out"
	RainSettled        = "rain.settled"
	WalletRead         = "wallet.read"
)

// rainCentsPerPacket is a rain's mean packet: its budget is this many
// cents for every packet.
const rainCentsPerPacket = 100

// RainPhase is the rain step: the crowd that grabbed a rain, the CPU of
// each process while it did, and the winners reading their wallets.
type RainPhase struct {
	Crowd *crowd.Result      `json:"crowd"`
	CPU   map[string]float64 `json:"cpu_seconds,omitempty"`
	// Wallet is one click window of GET /v1/wallet by the rain's winners,
	// each read in turn and round again, by the click phase's lean client.
	Wallet *ClickRun `json:"wallet,omitempty"`
}

// rain sends Size.RainUsers users at a rain of Size.RainPackets packets
// (rainCentsPerPacket each on average) through the gateway, as the sale's
// crowd goes (captcha answered, 5% double clicks, 5xx retried), then reads
// the winners' wallets for a click window.
func (r *runner) rain(ctx context.Context) error {
	s := r.cfg.Size
	if s.RainUsers <= 0 || s.RainPackets <= 0 {
		r.skip(StepRain, "no rain in this profile")
		return nil
	}
	id, err := campaignID("rain-")
	if err != nil {
		return err
	}
	c := crowd.Campaign{ID: id, Kind: campaign.KindRain, Stock: s.RainPackets, Budget: rainCentsPerPacket * int64(s.RainPackets),
		Limit: 1, Shadow: r.cfg.Shadow, Captcha: true, ExpectedCrowd: crowdBank(s.RainUsers)}
	r.logf("rain     %d users for %d packets (%d cents), closed loop, %d workers", s.RainUsers, c.Stock, c.Budget, s.Concurrency)
	w := r.profile(ctx, 5*time.Second, r.profiledNames()...)
	res, err := crowd.Run(ctx, crowd.Config{
		BaseURL: r.cfg.Gateway, AdminToken: r.cfg.AdminToken, JWTSecret: r.cfg.JWTSecret, Campaign: c, UserPrefix: "rain-",
		Users: s.RainUsers, Concurrency: s.Concurrency, DuplicateClickRatio: 0.05, RetryOn5xx: true,
		Timeout: crowdTimeout, ServerCPU: r.cfg.ServerCPU, Progress: r.cfg.Log, AnswerDelay: r.cfg.AnswerDelay,
	})
	r.keepProfiles("rain", w)
	if err != nil {
		return err
	}
	ph := &RainPhase{Crowd: &res, CPU: seconds(r.profiles["rain"].cpu)}
	r.rep.Rain = ph
	t := res.Throughput
	r.logf("rain     accepted %.0f/s, decided %.0f/s, settled %.0f/s; %d invariants failed", t.AcceptedPerSec, t.DecidedPerSec,
		t.SettledPerSec, len(res.Failed()))
	if s.ClickWindow <= 0 || len(res.Winners) == 0 {
		r.skip(WalletRead, "no click window or no winner")
		return nil
	}
	wallet, err := r.walletRead(ctx, id, res.Winners)
	if err != nil {
		return fmt.Errorf("%s: %w", WalletRead, err)
	}
	ph.Wallet = &wallet
	return nil
}

// walletRead sends one click window of GET /v1/wallet through the gateway,
// as users (each in turn, round and round), and measures it as a click run.
func (r *runner) walletRead(ctx context.Context, campaignID string, users []string) (ClickRun, error) {
	tokens, err := signEach(r.cfg.JWTSecret, users, r.cfg.Shadow)
	if err != nil {
		return ClickRun{}, err
	}
	reqs, err := click.BuildGet(r.cfg.Gateway, "/v1/wallet", tokens)
	if err != nil {
		return ClickRun{}, err
	}
	if _, err := r.quiesce(ctx, time.Now()); err != nil {
		return ClickRun{}, err
	}
	window := r.cfg.Size.ClickWindow
	w := r.profile(ctx, profileWindow(window), r.profiledNames()...)
	cpu0, _ := r.serverCPU()
	res, err := click.Run(ctx, click.Config{URL: r.cfg.Gateway, Conns: r.cfg.Size.ClickConns, Window: window, Requests: reqs,
		Cycle: true, Answer: []int{http.StatusOK}})
	cpu1, _ := r.serverCPU()
	r.keepProfiles(WalletRead, w)
	if err != nil {
		return ClickRun{}, err
	}
	run := clickRunOf(WalletRead, res)
	run.Phase, run.Target, run.Campaign = "wallet", "gateway", campaignID
	run.setServerCPU(delta(cpu0, cpu1))
	if r.rep.Click != nil {
		run.RatioToBare = ratioTo(run.AnsweredPerSecond, r.rep.Click.Bare.AnsweredPerSecond)
	}
	r.windowCPU(WalletRead, delta(cpu0, cpu1))
	r.logf("rain     %-24s %10.0f reads/s, p99 %v, statuses %v", run.Name, run.AnsweredPerSecond, run.Latency.P99.Round(10e3), run.Statuses)
	return run, nil
}

// rainFigures are the rain's throughputs and the wallet read as figures to
// pair.
func rainFigures(ph *RainPhase) []figure {
	if ph == nil {
		return nil
	}
	out := crowdFigures(rainPrefix, ph.Crowd)
	if ph.Wallet != nil {
		out = append(out, figure{WalletRead, "read", ph.Wallet.AnsweredPerSecond})
	}
	return out
}
