// Package bench is `make bench`: what this machine can do without Surge
// (the baselines), each function driven directly at its own port (the
// stages), and a crowd of users through the gateway (the whole chain), all
// measured in one run so every figure can be read as a ratio to the
// physical limit it passes through. Absolute numbers drift on a shared
// machine; ratios from the same run do not.
//
// Where a figure is below half its baseline, the report names where the
// time goes: the CPU each process used and the top functions of a CPU
// profile taken during that very run.
package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/heartbeat"
)

// Size is how much load a run puts on.
type Size struct {
	Name        string  `json:"name"`        // "default" or "large"
	Users       int     `json:"users"`       // distinct users in the crowd
	Stock       int     `json:"stock"`       // units on sale to the crowd
	Concurrency int     `json:"concurrency"` // closed-loop workers of the crowd and of every stage and baseline
	Rate        float64 `json:"rate"`        // crowd arrivals/s; 0 = closed loop
	BaselineOps int     `json:"baseline_ops"`
	StageClaims int     `json:"stage_claims"` // claim.requested events driven into prededuct
	// ClickWindow is each window of the click phase (0 skips the phase);
	// ClickConns its workers, one keep-alive connection each.
	ClickWindow time.Duration `json:"click_window_ns"`
	ClickConns  int           `json:"click_connections"`
	// RainUsers grab RainPackets packets of a rain (0 skips the step).
	RainUsers   int `json:"rain_users"`
	RainPackets int `json:"rain_packets"`
}

// Default finishes in under 5 minutes on 2 cores, setup included.
var Default = Size{Name: "default", Users: 20_000, Stock: 2_000, Concurrency: 128, BaselineOps: 30_000, StageClaims: 15_000,
	ClickWindow: 15 * time.Second, ClickConns: 100, RainUsers: 100_000, RainPackets: 10_000}

// Large is a sale of 10,000 units to 100,000 users.
var Large = Size{Name: "large", Users: 100_000, Stock: 10_000, Concurrency: 128, BaselineOps: 50_000, StageClaims: 30_000,
	ClickWindow: 15 * time.Second, ClickConns: 100, RainUsers: 100_000, RainPackets: 10_000}

// Config is one run against a deployment.
type Config struct {
	Size       Size
	Gateway    string // the public API's base URL
	AdminToken string // creates and warms the campaigns
	JWTSecret  string // signs the crowd's user tokens
	// AnswerDelay is how long the crowd waits before it answers a captcha:
	// at least the deployment's SURGE_CAPTCHA_MIN_AGE (the local engine
	// of make bench takes answers at once).
	AnswerDelay time.Duration
	// Functions maps a function's name to its own base URL, for the stage
	// runs; nil skips the stages (a remote deployment, reached only
	// through its gateway).
	Functions map[string]string
	// EventKey (SURGE_EVENT_KEY) signs the claim.requested events the
	// stage runs post to prededuct, as captcha does.
	EventKey string
	// Profiled maps a process name (a function or "broker") to a base URL
	// serving /debug/pprof; nil takes no profile.
	Profiled map[string]string
	// BrokerStats is the local broker's GET /debug/triggers, sampled every
	// second of the crowd run; "" samples nothing.
	BrokerStats string
	// RedisURL, KeyPrefix and DatabaseURL are what the Redis and PostgreSQL
	// baselines use; empty skips them.
	RedisURL, KeyPrefix, DatabaseURL string
	// ServerCPU is the servers' CPU time so far (crowd.ChildrenCPU when this
	// process started them); CPUByCommand splits it per process.
	ServerCPU    func() (time.Duration, error)
	CPUByCommand func() (map[string]time.Duration, error)
	Dir          string    // scratch space and the profiles (<Dir>/profiles)
	Only         []string  // the steps to run (Step…); empty runs them all
	Log          io.Writer // progress: a line per run and a heartbeat per step; nil discards. Written from several goroutines, one line per Write

	// Deploy starts a further engine on the same servers with env added to
	// every function's environment, for a step that compares two settings
	// (the observability step); nil skips such steps (-url).
	Deploy func(ctx context.Context, env []string) (d Deployment, stop func(), err error)

	// Shadow runs every campaign of the click phase and the crowds on the
	// shadow plane, with shadow users (-shadow): a live deployment's real
	// traffic, stock, orders and statistics are not touched.
	Shadow bool

	// DashboardShot, when set, is where the crowd step saves a screenshot
	// of the operator's dashboard (admin's GET /dashboard) showing the
	// crowd's campaign while the crowd runs (-dashboard-shot). It starts
	// a headless Chromium beside the engine, which takes CPU from it: the
	// figures of such a run are not the machine's best.
	DashboardShot string
}

// Report is one run, JSON-serialisable (.surge/bench/latest.json).
type Report struct {
	Machine   Machine           `json:"machine"`
	Size      Size              `json:"size"`
	Baselines []baseline.Figure `json:"baselines"`
	Stages    []baseline.Figure `json:"stages"`
	Click     *ClickPhase       `json:"click,omitempty"`
	Crowd     *crowd.Result     `json:"crowd,omitempty"`
	// OpenCrowd is an open-loop crowd at half the rate the closed loop
	// decided wins at: the decision latency a crowd sees below saturation.
	OpenCrowd *crowd.Result `json:"open_crowd,omitempty"`
	// Bots is a legitimate crowd alone and beside a bot flood.
	Bots *BotFlood `json:"bots,omitempty"`
	// Rain is a crowd grabbing a rain's packets, and its winners reading
	// their wallets.
	Rain *RainPhase `json:"rain,omitempty"`
	// Observability is the crowd's CPU per claim with metrics, traces and
	// logs off and on.
	Observability *ObservabilityCost `json:"observability,omitempty"`
	CrowdCPU      map[string]float64 `json:"crowd_cpu_seconds,omitempty"` // per process, during the crowd
	Broker        []BrokerSample     `json:"broker,omitempty"`            // each trigger's delivery state, every second of the crowd
	Stalls        []Stall            `json:"stalls,omitempty"`            // triggers that delivered nothing while events waited
	Ratios        []Ratio            `json:"ratios"`
	Hotspots      []Hotspot          `json:"hotspots,omitempty"` // for figures below half their baseline
	Skipped       []string           `json:"skipped,omitempty"`  // what was not measured, and why
	Seconds       float64            `json:"seconds"`
}

// Failed reports whether an invariant of the crowd run did not hold: the
// only thing that fails make bench. Speed never does.
func (r Report) Failed() []crowd.Check {
	var failed []crowd.Check
	crowds := []*crowd.Result{r.Crowd, r.OpenCrowd}
	if r.Bots != nil {
		crowds = append(crowds, r.Bots.Alone, r.Bots.WithBots)
	}
	if r.Rain != nil {
		crowds = append(crowds, r.Rain.Crowd)
	}
	if o := r.Observability; o != nil {
		crowds = append(append(crowds, o.Off...), o.On...)
	}
	for _, c := range crowds {
		if c != nil {
			failed = append(failed, c.Failed()...)
		}
	}
	return failed
}

// The steps of a run, in order, as -only names them.
const (
	StepBaselines = "baselines"
	StepStages    = "stages"
	StepClick     = "click"
	StepCrowd     = "crowd"
	StepOpenCrowd = "open-crowd"
	StepBots      = "bots"
	StepRain      = "rain"
	// StepObservability is the cost of metrics, traces and logs.
	StepObservability = "observability"
)

// Steps are the names of the steps, in order.
func Steps() []string {
	var out []string
	for _, s := range (&runner{}).steps() {
		out = append(out, s.name)
	}
	return out
}

// step is one step of a run.
type step struct {
	name string
	run  func(context.Context) error
}

func (r *runner) steps() []step {
	return []step{{StepBaselines, r.baselines}, {StepStages, r.stages}, {StepClick, r.click}, {StepCrowd, r.crowd},
		{StepOpenCrowd, r.openCrowd}, {StepBots, r.bots}, {StepRain, r.rain},
		{StepObservability, r.observability}}
}

// Run measures the baselines, the stages, the click phase, the crowds, the
// bot flood, the rain and the cost of observability, in that order (the click phase leaves a drained engine to
// the crowd), then pairs each figure with its baseline. An error means the
// run could not be made; a failed invariant is in Report.Failed.
func Run(ctx context.Context, cfg Config) (Report, error) {
	begin := time.Now()
	if cfg.Log != nil {
		cfg.Log = &lockedWriter{w: cfg.Log}
	}
	r := &runner{cfg: cfg, rep: Report{Machine: ReadMachine(), Size: cfg.Size}}
	for _, step := range r.steps() {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, step.name) {
			r.skip(step.name, "not asked for (-only)")
			continue
		}
		if err := r.runStep(ctx, step); err != nil {
			return r.rep, err
		}
	}
	r.rep.Ratios = pair(r.rep)
	r.rep.Hotspots = r.hotspots()
	r.rep.Seconds = time.Since(begin).Seconds()
	return r.rep, nil
}

// runner carries one run's config and what it measured so far.
type runner struct {
	cfg      Config
	rep      Report
	profiles map[string]observed // per run: what was seen of the processes during it
}

// lockedWriter serializes the writes of the steps, their heartbeats and
// the crowds' progress to one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stepBeat is how often a step says it still runs: a click window, a
// drain or a baseline is silent for longer than that otherwise.
const stepBeat = 15 * time.Second

// runStep runs one step, saying on the log every stepBeat that it runs.
func (r *runner) runStep(ctx context.Context, s step) error {
	if r.cfg.Log == nil {
		return s.run(ctx)
	}
	stop := heartbeat.Start(stepBeat, func(elapsed time.Duration) {
		r.logf("%-8s still running, %v so far", s.name, elapsed)
	})
	defer stop()
	return s.run(ctx)
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, format+"\n", args...)
	}
}

func (r *runner) skip(what, why string) {
	r.rep.Skipped = append(r.rep.Skipped, what+": "+why)
	r.logf("skip %s: %s", what, why)
}

// baselines runs every baseline this config can reach.
func (r *runner) baselines(ctx context.Context) error {
	t := baseline.Target{Ops: r.cfg.Size.BaselineOps, Concurrency: r.cfg.Size.Concurrency, Stock: r.cfg.Size.BaselineOps / 10,
		RedisURL: r.cfg.RedisURL, KeyPrefix: r.cfg.KeyPrefix + ":bench", DatabaseURL: r.cfg.DatabaseURL, Dir: r.cfg.Dir}
	for _, b := range baseline.All() {
		if why := unreachable(b.Name, t); why != "" {
			r.skip(b.Name, why)
			continue
		}
		bt := t
		if b.Name == baseline.NamePostgresInsert { // rows come in batches: more of them, from as many connections as settle opens
			bt.Ops, bt.Concurrency = 8*t.Ops, settlePool
		}
		f, err := b.Run(ctx, bt)
		if err != nil {
			return err
		}
		r.logf("baseline %-24s %10.0f %s/s", f.Name, f.PerSecond, f.Unit)
		r.rep.Baselines = append(r.rep.Baselines, f)
	}
	return nil
}

// unreachable says why baseline name cannot run against t ("" if it can).
func unreachable(name string, t baseline.Target) string {
	switch {
	case (name == baseline.NameRedisDeduct || name == baseline.NameRedisDeductPipelined) && t.RedisURL == "":
		return "no Redis URL"
	case name == baseline.NamePostgresInsert && t.DatabaseURL == "":
		return "no database URL"
	}
	return ""
}

// settlePool is settle's default PostgreSQL pool (SURGE_SETTLE_POOL_SIZE).
const settlePool = 4
