package bench

import (
	"slices"

	"github.com/surgekit/surge/local/baseline"
)

// Ratio is one figure against the baseline of the limit it passes through,
// both measured in the same run.
type Ratio struct {
	Figure        string  `json:"figure"`
	Unit          string  `json:"unit"`
	PerSecond     float64 `json:"per_second"`
	Baseline      string  `json:"baseline"`
	BaselineUnit  string  `json:"baseline_unit"`
	BaselineValue float64 `json:"baseline_per_second"`
	Ratio         float64 `json:"ratio"`
	Below         bool    `json:"below_half"` // Ratio < 0.5: the report says where the time goes
	Limit         string  `json:"limit"`      // what the baseline stands for
}

// pairing is a figure, its baseline, and the limit the baseline stands for.
type pairing struct{ figure, baseline, limit string }

// pairs names each figure's baseline: the physical limit here of what the
// figure's work passes through.
var pairs = slices.Concat([]pairing{
	{baseline.NameRedisDeductPipelined, baseline.NameRedisDeduct, "pipelining's gain over one script call per round trip"},
	{baseline.NameCloudEvents, baseline.NameHTTP, "the CloudEvents binding's cost over bare HTTP"},
	{StagePrededuct, baseline.NameRedisDeduct, "one pre-deduct script call per event, unpipelined"},
	{StageEnqueue, baseline.NameCloudEvents, "a CloudEvent received and answered"},
	{StageSettle, baseline.NamePostgresInsert, "batched idempotent insert of order rows"},
}, crowdPairs(chainPrefix), []pairing{
	{ClickWinGateway, ClickBare, "an HTTP request answered, same lean client"},
	{ClickWinCaptcha, ClickBare, "an HTTP request answered, same lean client"},
	{ClickSoldOutGateway, ClickBare, "an HTTP request answered, same lean client"},
	{ClickSoldOutCaptcha, ClickBare, "an HTTP request answered, same lean client"},
	{ClickLimitedGateway, ClickBare, "an HTTP request answered, same lean client"},
	{ClickLimitedCaptcha, ClickBare, "an HTTP request answered, same lean client"},
}, crowdPairs(rainPrefix), []pairing{
	{WalletRead, ClickBare, "an HTTP request answered, same lean client"},
})

// crowdPairs are the pairings of a crowd's figures named with prefix.
func crowdPairs(prefix string) []pairing {
	out := make([]pairing, len(crowdThroughputs))
	for i, c := range crowdThroughputs {
		out[i] = pairing{prefix + c.suffix, c.baseline, c.limit}
	}
	return out
}

// figure is a measured rate under its name.
type figure struct {
	name, unit string
	perSecond  float64
}

// pair puts every measured figure beside its measured baseline.
func pair(rep Report) []Ratio {
	got := make(map[string]figure)
	for _, f := range append(rep.Baselines, rep.Stages...) {
		got[f.Name] = figure{f.Name, f.Unit, f.PerSecond}
	}
	for _, f := range slices.Concat(crowdFigures(chainPrefix, rep.Crowd), clickFigures(rep.Click), rainFigures(rep.Rain)) {
		got[f.name] = f
	}
	var out []Ratio
	for _, p := range pairs {
		f, okF := got[p.figure]
		b, okB := got[p.baseline]
		if !okF || !okB || b.perSecond <= 0 {
			continue
		}
		ratio := f.perSecond / b.perSecond
		out = append(out, Ratio{Figure: f.name, Unit: f.unit, PerSecond: f.perSecond, Baseline: b.name, BaselineUnit: b.unit,
			BaselineValue: b.perSecond, Ratio: ratio, Below: ratio < 0.5, Limit: p.limit})
	}
	return out
}

// clickFigures are the click phase's answered clicks per second, and the
// bare handler's requests, as figures to pair.
func clickFigures(ph *ClickPhase) []figure {
	if ph == nil {
		return nil
	}
	out := []figure{{ClickBare, "request", ph.Bare.AnsweredPerSecond}}
	for _, c := range ph.Runs {
		out = append(out, figure{c.Name, "click", c.AnsweredPerSecond})
	}
	return out
}
