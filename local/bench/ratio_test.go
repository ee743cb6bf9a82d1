package bench

import (
	"testing"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/crowd"
)

func TestPairPutsEachFigureBesideItsBaseline(t *testing.T) {
	res := &crowd.Result{}
	res.Throughput.AcceptedPerSec, res.Throughput.DecidedPerSec, res.Throughput.SettledPerSec = 8000, 1000, 300
	rep := Report{
		Baselines: []baseline.Figure{
			{Name: baseline.NameRedisDeduct, Unit: "claim", PerSecond: 20000},
			{Name: baseline.NameHTTP, Unit: "request", PerSecond: 10000},
			{Name: baseline.NameBroker, Unit: "event", PerSecond: 4000},
		},
		Stages: []baseline.Figure{{Name: StagePrededuct, Unit: "event", PerSecond: 15000}},
		Crowd:  res,
	}
	want := map[string]struct {
		baseline string
		ratio    float64
		below    bool
	}{
		StagePrededuct:      {baseline.NameRedisDeduct, 0.75, false},
		ChainAccepted:       {baseline.NameHTTP, 0.8, false},
		ChainDecided:        {baseline.NameBroker, 0.25, true},
		ChainDecidedWin:     {baseline.NameBroker, 0, true},
		ChainDecidedSoldOut: {baseline.NameBroker, 0, true},
		ChainSettled:        {baseline.NameBroker, 0.075, true},
	}
	got := pair(rep)
	if len(got) != len(want) {
		t.Fatalf("pair gave %d ratios %+v; want %d (figures without a measured baseline are left out)", len(got), got, len(want))
	}
	for _, q := range got {
		w, ok := want[q.Figure]
		if !ok || q.Baseline != w.baseline || q.Ratio != w.ratio || q.Below != w.below {
			t.Errorf("%s: against %s ratio %v below %v; want %+v", q.Figure, q.Baseline, q.Ratio, q.Below, w)
		}
	}
}

func TestRunOf(t *testing.T) {
	for figure, want := range map[string]string{
		ChainSettled: "chain", ChainDecidedWin: "chain", StageSettle: StageSettle, "chainsaw": "chainsaw",
	} {
		if got := runOf(figure); got != want {
			t.Errorf("runOf(%q) = %q; want %q", figure, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 17512.4: "17,512", 1234567: "1,234,567"} {
		if got := count(n); got != want {
			t.Errorf("count(%v) = %q; want %q", n, got, want)
		}
	}
}

func TestPairPutsClicksBesideTheBareHandlerOfTheirClient(t *testing.T) {
	rep := Report{
		Baselines: []baseline.Figure{{Name: baseline.NameHTTP, Unit: "request", PerSecond: 10000}},
		Click: &ClickPhase{Bare: ClickRun{Name: ClickBare, AnsweredPerSecond: 20000}, Runs: []ClickRun{
			{Name: ClickWinGateway, AnsweredPerSecond: 1000}, {Name: ClickWinCaptcha, AnsweredPerSecond: 2000},
			{Name: ClickSoldOutGateway, AnsweredPerSecond: 10000}, {Name: ClickSoldOutCaptcha, AnsweredPerSecond: 15000},
		}},
	}
	want := map[string]float64{ClickWinGateway: 0.05, ClickWinCaptcha: 0.1, ClickSoldOutGateway: 0.5, ClickSoldOutCaptcha: 0.75}
	got := pair(rep)
	if len(got) != len(want) {
		t.Fatalf("pair gave %+v; want the %d click ratios", got, len(want))
	}
	for _, q := range got {
		if q.Baseline != ClickBare || q.Ratio != want[q.Figure] || q.Below != (want[q.Figure] < 0.5) {
			t.Errorf("%s: against %s ratio %v below %v; want %s and %v", q.Figure, q.Baseline, q.Ratio, q.Below, ClickBare, want[q.Figure])
		}
	}
}
