package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/click"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
)

// Names of the click figures: one window of clicks by distinct users at one
// target, against the bare handler measured by the same client.
const (
	ClickBare           = "http.bare.click"
	ClickWinGateway     = "click.win.gateway"
	ClickWinCaptcha     = "click.win.captcha"
	ClickSoldOutGateway = "click.sold_out.gateway"
	ClickSoldOutCaptcha = "click.sold_out.captcha"
	ClickLimitedGateway = "click.limited.gateway"
	ClickLimitedCaptcha = "click.limited.captcha"
)

// Phases of the click phase: every click a win, every click after the
// stock is gone, or every click by one user past its rate limit (429).
const (
	PhaseWin     = "win"
	PhaseSoldOut = "sold_out"
	PhaseLimited = "limited"
)

// limitedRate is the per-user limit of a limited run's campaign: one
// click (the burst) and then a token every 100 s, so every click of the
// window but the first is turned away by the limit.
var limitedRate = campaign.Limits{UserPerSec: 0.01, UserBurst: 1}

// ClickPhase is the click phase: the bare handler, then each phase at each
// target, one window each, measured by one lean client.
type ClickPhase struct {
	WindowSeconds float64    `json:"window_seconds"`
	Connections   int        `json:"connections"`
	Users         int        `json:"users"` // pre-signed JWTs: no run can send more clicks
	Cores         int        `json:"cores"`
	Seconds       float64    `json:"seconds"` // the whole phase: signing, campaigns, windows, drains
	Bare          ClickRun   `json:"http_bare"`
	Runs          []ClickRun `json:"runs"`
}

// ClickRun is one window of clicks at one target.
type ClickRun struct {
	Name     string `json:"name"`   // click.<phase>.<target>, or http.bare.click
	Phase    string `json:"phase"`  // win, sold_out; "" for the bare handler
	Target   string `json:"target"` // gateway, captcha or http.bare
	Campaign string `json:"campaign,omitempty"`
	Stock    int    `json:"stock,omitempty"`
	// Requests are the answers of any status; Answered those 202 or 409;
	// Errors every other status and every request with no answer (status 0).
	Requests          int           `json:"requests"`
	Answered          int           `json:"answered"`
	Errors            int           `json:"errors"`
	Statuses          map[int]int   `json:"statuses"`
	Seconds           float64       `json:"seconds"`
	PerSecond         float64       `json:"per_second"`
	AnsweredPerSecond float64       `json:"answered_per_second"`
	Latency           click.Latency `json:"latency"` // of the answered clicks
	RatioToBare       float64       `json:"ratio_to_bare"`
	Exhausted         bool          `json:"exhausted,omitempty"` // the pre-signed users ran out before the window closed
	// ClientCPUSeconds is this bench process's own CPU in the window, and
	// ClientCPUShare that over wall time × cores. InProcess names what else
	// ran inside the bench process then, and is counted in both: the bare
	// handler of http.bare.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	ClientCPUShare   float64 `json:"client_cpu_share"`
	InProcess        string  `json:"in_process,omitempty"`
	// ProcessCPU is each server process's CPU in the window (the gateway
	// is one of them); ServerCPUSeconds their sum, and
	// ServerCPUPerClickMicros that per answered click.
	ProcessCPU              map[string]float64 `json:"process_cpu_seconds,omitempty"`
	ServerCPUSeconds        float64            `json:"server_cpu_seconds"`
	ServerCPUPerClickMicros float64            `json:"server_cpu_us_per_click"`
	Drain                   *Drain             `json:"drain,omitempty"`         // win runs
	QuietSeconds            float64            `json:"quiet_seconds,omitempty"` // after the window, until the broker had no event waiting
}

// clickSKU is the one SKU of the click campaigns; clickBody every click.
const (
	clickSKU  = "sku-1"
	clickBody = `{"sku":"` + clickSKU + `","qty":1}`
)

// Bounds on the pre-signed users: as many as the bare handler answered in
// a window and a tenth more (no target answers faster), at most maxUsers.
const (
	bareUsers = 1_000
	maxUsers  = 1_000_000
	winStock  = 1_000_000
)

// click runs the click phase: the bare handler through the lean client,
// then for each phase a fresh campaign per target, through the gateway and
// at captcha's own port, each win run followed by its drain.
func (r *runner) click(ctx context.Context) error {
	begin, s := time.Now(), r.cfg.Size
	if s.ClickWindow <= 0 {
		r.skip("click", "no click window (-skip-click)")
		return nil
	}
	p, err := openProgress(ctx, r.cfg)
	if err != nil {
		return err
	}
	defer p.close()
	ph := &ClickPhase{WindowSeconds: s.ClickWindow.Seconds(), Connections: s.ClickConns, Cores: runtime.NumCPU()}
	tokens, err := signUsers(r.cfg.JWTSecret, bareUsers, r.cfg.Shadow)
	if err != nil {
		return err
	}
	if ph.Bare, err = r.clickBare(ctx, tokens); err != nil {
		return err
	}
	n := min(ph.Bare.Requests*11/10+s.ClickConns, maxUsers)
	if tokens, err = signUsers(r.cfg.JWTSecret, n, r.cfg.Shadow); err != nil {
		return err
	}
	ph.Users = len(tokens)
	if !p.settles() {
		r.skip("click drain settled", "no database URL: settled orders cannot be read")
	}
	for _, phase := range []string{PhaseWin, PhaseSoldOut, PhaseLimited} {
		for _, target := range r.clickTargets() {
			run, err := r.clickRun(ctx, p, phase, target, tokens)
			if err != nil {
				return fmt.Errorf("click %s at %s: %w", phase, target.name, err)
			}
			run.RatioToBare = ratioTo(run.AnsweredPerSecond, ph.Bare.AnsweredPerSecond)
			ph.Runs = append(ph.Runs, run)
		}
	}
	ph.Seconds = time.Since(begin).Seconds()
	r.logf("click    the phase took %.1f s", ph.Seconds)
	r.rep.Click = ph
	return nil
}

// clickTarget is where clicks go: the gateway, or captcha's own port.
type clickTarget struct{ name, url string }

func (r *runner) clickTargets() []clickTarget {
	out := []clickTarget{{"gateway", r.cfg.Gateway}}
	if url, ok := r.cfg.Functions["captcha"]; ok {
		return append(out, clickTarget{"captcha", url})
	}
	r.skip("click at captcha", "no direct address of captcha (a deployment reached through its gateway)")
	return out
}

// clickBare measures the bare handler for one window, the requests of the
// first users sent round and round.
func (r *runner) clickBare(ctx context.Context, tokens []string) (ClickRun, error) {
	url, stop, err := baseline.ServeBare()
	if err != nil {
		return ClickRun{}, err
	}
	defer stop()
	reqs, err := click.Build(url, claimsPath("click-bare0000"), tokens, []byte(clickBody))
	if err != nil {
		return ClickRun{}, err
	}
	res, err := click.Run(ctx, click.Config{URL: url, Conns: r.cfg.Size.ClickConns, Window: r.cfg.Size.ClickWindow, Requests: reqs, Cycle: true})
	if err != nil {
		return ClickRun{}, fmt.Errorf("%s: %w", ClickBare, err)
	}
	run := clickRunOf(ClickBare, res)
	run.Target, run.InProcess, run.RatioToBare = baseline.NameHTTP, "the bare handler", 1
	r.logf("click    %-24s %10.0f requests/s, p99 %v", run.Name, run.AnsweredPerSecond, run.Latency.P99.Round(10e3))
	return run, nil
}

// clickRun opens a fresh campaign for phase, sells it out first for the
// sold-out phase, and sends one window of clicks of distinct users (of one
// user for the limited phase) at target while the processes are watched;
// a win run then waits out its drain.
func (r *runner) clickRun(ctx context.Context, p *progress, phase string, target clickTarget, tokens []string) (ClickRun, error) {
	name := "click." + phase + "." + target.name
	c, err := r.clickCampaign(ctx, p, phase, len(tokens))
	if err != nil {
		return ClickRun{}, err
	}
	cc := click.Config{URL: target.url, Conns: r.cfg.Size.ClickConns, Window: r.cfg.Size.ClickWindow}
	if phase == PhaseLimited { // one user, again and again
		tokens, cc.Cycle, cc.Answer = tokens[:1], true, []int{http.StatusAccepted, http.StatusConflict, http.StatusTooManyRequests}
	}
	if cc.Requests, err = click.Build(target.url, claimsPath(c.ID), tokens, []byte(clickBody)); err != nil {
		return ClickRun{}, err
	}
	if _, err := r.quiesce(ctx, time.Now()); err != nil {
		return ClickRun{}, err
	}
	w := r.profile(ctx, profileWindow(r.cfg.Size.ClickWindow), r.profiledNames()...)
	cpu0, _ := r.serverCPU()
	res, err := click.Run(ctx, cc)
	cpu1, _ := r.serverCPU()
	end, readErr := p.read(ctx, c.ID, c.SKU, c.Stock)
	var kept sync.WaitGroup
	kept.Go(func() { r.keepProfiles(name, w) }) // waits out the profile window in flight while the drain goes on
	defer kept.Wait()
	if err := firstErr(err, readErr); err != nil {
		return ClickRun{}, err
	}
	run := clickRunOf(name, res)
	run.Phase, run.Target, run.Campaign, run.Stock = phase, target.name, c.ID, c.Stock
	run.setServerCPU(delta(cpu0, cpu1))
	if phase == PhaseWin {
		if run.Drain, err = r.drain(ctx, p, c, res.Statuses[202], end, cpu1); err != nil {
			return ClickRun{}, err
		}
		run.Drain.ServerCPUPerWinMicros = perClick(run.ServerCPUSeconds+run.Drain.ServerCPUSeconds, run.Drain.Accepted)
	}
	if run.QuietSeconds, err = r.quiesce(ctx, end.at); err != nil {
		return ClickRun{}, err
	}
	kept.Wait()
	r.windowCPU(name, delta(cpu0, cpu1))
	r.logClick(run)
	return run, nil
}

// clickCampaign is a fresh sale for phase: stock beyond what the window
// can send for a win run (and a limited one, with limitedRate), one unit
// sold out by one claim for a sold-out run.
func (r *runner) clickCampaign(ctx context.Context, p *progress, phase string, users int) (crowd.Campaign, error) {
	id, err := campaignID("click-")
	if err != nil {
		return crowd.Campaign{}, err
	}
	c := crowd.Campaign{ID: id, SKU: clickSKU, Stock: max(winStock, users+1), Limit: 1, Shadow: r.cfg.Shadow}
	switch phase {
	case PhaseSoldOut:
		c.Stock = 1
	case PhaseLimited:
		c.Limits = &limitedRate
	}
	if err := crowd.OpenSale(ctx, r.cfg.Gateway, r.cfg.AdminToken, c); err != nil {
		return c, err
	}
	if phase == PhaseSoldOut {
		return c, r.sellOut(ctx, p, c)
	}
	return c, nil
}

// sellOut claims a sale's whole stock of one unit as one user and waits
// until the unit is reserved.
func (r *runner) sellOut(ctx context.Context, p *progress, c crowd.Campaign) error {
	tok, err := auth.Sign([]byte(r.cfg.JWTSecret), auth.Caller{User: "click-first", Shadow: r.cfg.Shadow}, time.Hour)
	if err != nil {
		return err
	}
	reqs, err := click.Build(r.cfg.Gateway, claimsPath(c.ID), []string{tok}, []byte(clickBody))
	if err != nil {
		return err
	}
	res, err := click.Run(ctx, click.Config{URL: r.cfg.Gateway, Conns: 1, Window: time.Minute, Requests: reqs})
	if err != nil || res.Statuses[202] != 1 {
		return fmt.Errorf("sell out %s: statuses %v: %w", c.ID, res.Statuses, firstErr(err, res.FirstErr))
	}
	deadline := time.Now().Add(drainTimeout)
	for {
		s, err := p.read(ctx, c.ID, c.SKU, c.Stock)
		switch {
		case err != nil:
			return fmt.Errorf("sell out %s: %w", c.ID, err)
		case s.decided >= c.Stock:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("sell out %s: the one claim was not decided in %v", c.ID, drainTimeout)
		}
		sleep(ctx, drainEvery)
	}
}

// drain waits out a win run's backlog and reads how it went.
func (r *runner) drain(ctx context.Context, p *progress, c crowd.Campaign, accepted int, end sample, cpuEnd map[string]time.Duration) (*Drain, error) {
	after, err := watchDrain(ctx, p, c.ID, c.SKU, c.Stock, accepted)
	if err != nil {
		return nil, err
	}
	cpu, _ := r.serverCPU()
	d := drainOf(end, after, accepted, p.settles())
	d.ServerCPUSeconds = sum(seconds(delta(cpuEnd, cpu)))
	if !p.settles() {
		d.SettledSkipped = "no database URL: settled orders cannot be read"
	}
	return &d, nil
}

func claimsPath(id string) string { return "/v1/campaigns/" + id + "/claims" }

// signUsers signs n users' JWTs (click-0, click-1, …, shadow users when
// shadow), on every core.
func signUsers(secret string, n int, shadow bool) ([]string, error) {
	return signUsersAs(secret, "click-", n, shadow)
}

// signUsersAs signs the JWTs of users prefix0, prefix1, … (shadow users
// when shadow), on every core.
func signUsersAs(secret, prefix string, n int, shadow bool) ([]string, error) {
	users := make([]string, n)
	for i := range users {
		users[i] = prefix + strconv.Itoa(i)
	}
	return signEach(secret, users, shadow)
}

// signEach signs each user's JWT (shadow users when shadow), on every core.
func signEach(secret string, users []string, shadow bool) ([]string, error) {
	out := make([]string, len(users))
	errs := make([]error, runtime.NumCPU())
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < len(users) && errs[w] == nil; i += len(errs) {
				out[i], errs[w] = auth.Sign([]byte(secret), auth.Caller{User: users[i], Shadow: shadow}, 24*time.Hour)
			}
		})
	}
	wg.Wait()
	return out, firstErr(errs...)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
