package bench

import (
	"context"
	"fmt"

	"github.com/surgekit/surge/local/collector"
	"github.com/surgekit/surge/local/crowd"
)

// Deployment is an engine a step starts for itself beside the run's own:
// its gateway and the secrets that drive it.
type Deployment struct {
	Gateway, AdminToken, JWTSecret string
}

// Observability is what each process reports beyond its answers, as the
// environment of an engine sets it: Prometheus metrics, OpenTelemetry
// traces sent to a collector, and one log line per handled event.
type Observability struct {
	On bool
	// TracesEndpoint is the OTLP/HTTP collector spans go to when On.
	TracesEndpoint string
	// Traced is the fraction of claims traced when On: 1 traces every
	// claim; below 1 the click's span samples by trace id
	// (parentbased_traceidratio) and every later hop follows its choice.
	Traced float64
}

// SampledTraces is the fraction of claims the step's sampled run traces,
// as one would run a sale: every claim's metrics and sampled log lines,
// a tenth of the claims as traces.
const SampledTraces = 0.1

// Env is the environment that turns observability on or off in every
// function. On: metrics (the default), the spans of the traced claims sent
// to TracesEndpoint, per-event log lines (the default, sampled under load).
// Off: no request instrumentation nor store-latency hooks, no tracer, no
// per-event lines.
func (o Observability) Env() []string {
	if !o.On {
		return []string{"SURGE_METRICS=off", "SURGE_LOG_EVENTS=off", "OTEL_TRACES_EXPORTER=none"}
	}
	env := []string{"SURGE_METRICS=on", "SURGE_LOG_EVENTS=on", "OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT=" + o.TracesEndpoint}
	if o.Traced >= 1 {
		return append(env, "OTEL_TRACES_SAMPLER=parentbased_always_on")
	}
	return append(env, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG=%g", o.Traced))
}

// ObservabilityCost is the observability step: the same crowd against
// fresh engines with observability off, on with a tenth of the claims
// traced (Sampled) and on with every claim traced (On), in turns, and what
// the collector received while it was on.
type ObservabilityCost struct {
	Off     []*crowd.Result `json:"off"`
	Sampled []*crowd.Result `json:"sampled"`
	On      []*crowd.Result `json:"on"`
	// CPUPerClaimOff, Sampled and On are the rounds' mean server CPU per
	// claim (µs); SampledRatio and Ratio are Sampled / Off and On / Off:
	// the cost of observability, 1.10 for 10%.
	CPUPerClaimOff     float64 `json:"cpu_per_claim_off_us"`
	CPUPerClaimSampled float64 `json:"cpu_per_claim_sampled_us"`
	CPUPerClaimOn      float64 `json:"cpu_per_claim_on_us"`
	SampledRatio       float64 `json:"sampled_ratio"`
	Ratio              float64 `json:"ratio"`
	// TraceExports and TraceBytes are the OTLP requests the collector
	// took while observability was on.
	TraceExports int64 `json:"trace_exports"`
	TraceBytes   int64 `json:"trace_bytes"`
}

// observabilityRounds is how many crowds run each way, in turns (off,
// sampled, on, off, …): a drift of the machine during the step falls on
// every side.
const observabilityRounds = 2

// observability runs a crowd of a quarter of Size.Users for a tenth of
// them in units against a fresh engine with observability off, then one
// with it on and SampledTraces of the claims traced, then one with every
// claim traced (spans to a collector this step serves),
// observabilityRounds times, and compares the server CPU each claim cost.
func (r *runner) observability(ctx context.Context) error {
	if r.cfg.Deploy == nil {
		r.skip(StepObservability, "no engine of its own can be started here (-url)")
		return nil
	}
	col, err := collector.Start(collector.Config{Discard: true}) // a crowd's spans, counted as a forwarding collector takes them
	if err != nil {
		return err
	}
	defer col.Close()
	users := max(r.cfg.Size.Users/4, 100)
	cost := &ObservabilityCost{}
	for round := 0; round < observabilityRounds; round++ {
		for _, run := range []struct {
			o    Observability
			into *[]*crowd.Result
		}{{Observability{}, &cost.Off}, {Observability{On: true, Traced: SampledTraces}, &cost.Sampled}, {Observability{On: true, Traced: 1}, &cost.On}} {
			run.o.TracesEndpoint = col.URL()
			res, err := r.observedCrowd(ctx, run.o, users)
			if err != nil {
				return err
			}
			*run.into = append(*run.into, res)
		}
	}
	cost.CPUPerClaimOff, cost.CPUPerClaimSampled, cost.CPUPerClaimOn = meanCPUPerClaim(cost.Off), meanCPUPerClaim(cost.Sampled), meanCPUPerClaim(cost.On)
	cost.SampledRatio = ratioTo(cost.CPUPerClaimSampled, cost.CPUPerClaimOff)
	cost.Ratio = ratioTo(cost.CPUPerClaimOn, cost.CPUPerClaimOff)
	cost.TraceExports, cost.TraceBytes = col.Exports(), col.Bytes()
	r.rep.Observability = cost
	r.logf("observe  CPU per claim: %.0f µs off, %.0f µs on with a tenth traced (%.2f×), %.0f µs every claim traced (%.2f×); the collector took %d exports, %d bytes",
		cost.CPUPerClaimOff, cost.CPUPerClaimSampled, cost.SampledRatio, cost.CPUPerClaimOn, cost.Ratio, cost.TraceExports, cost.TraceBytes)
	return nil
}

// observedCrowd starts an engine with o's environment, sends users at it
// as the sale's crowd goes, and stops it.
func (r *runner) observedCrowd(ctx context.Context, o Observability, users int) (*crowd.Result, error) {
	d, stop, err := r.cfg.Deploy(ctx, o.Env())
	if err != nil {
		return nil, fmt.Errorf("%s: start an engine: %w", StepObservability, err)
	}
	defer stop()
	id, err := campaignID("observe-")
	if err != nil {
		return nil, err
	}
	r.logf("observe  observability %s: %d users for %d units", o, users, users/10)
	cfg := r.saleCrowd(id, users, users/10, 0)
	cfg.BaseURL, cfg.AdminToken, cfg.JWTSecret = d.Gateway, d.AdminToken, d.JWTSecret
	cfg.Campaign.Shadow = false // an engine of the step's own: nothing live to keep apart
	res, err := crowd.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r.logf("observe  observability %s: %.0f µs of server CPU per claim; %d invariants failed", o,
		res.ServerCPUPerClaimMicros, len(res.Failed()))
	return &res, nil
}

// String names the mode: off, on (every claim traced), on (10% traced).
func (o Observability) String() string {
	switch {
	case !o.On:
		return "off"
	case o.Traced >= 1:
		return "on (every claim traced)"
	}
	return fmt.Sprintf("on (%g%% of claims traced)", o.Traced*100)
}

func meanCPUPerClaim(rs []*crowd.Result) float64 {
	if len(rs) == 0 {
		return 0
	}
	var sum float64
	for _, r := range rs {
		sum += r.ServerCPUPerClaimMicros
	}
	return sum / float64(len(rs))
}
