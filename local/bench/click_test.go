package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/local/click"
)

func TestDrainOf(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms, decided, settled int) sample {
		return sample{at: t0.Add(time.Duration(ms) * time.Millisecond), decided: decided, settled: settled}
	}
	cases := []struct {
		name     string
		end      sample
		after    []sample
		accepted int
		settles  bool
		want     Drain
	}{
		{"nothing left at the last click", at(0, 10, 10), []sample{at(100, 10, 10)}, 10, true,
			Drain{Accepted: 10, DecidedAtEnd: 10, SettledAtEnd: 10, Decided: 10, Settled: 10, Complete: true}},
		{"decided first, settled later", at(0, 60, 20), []sample{at(500, 80, 40), at(1000, 100, 70), at(2000, 100, 100), at(2100, 100, 100)}, 100, true,
			Drain{Accepted: 100, DecidedAtEnd: 60, SettledAtEnd: 20, Decided: 100, Settled: 100, DecidedSeconds: 1, SettledSeconds: 2,
				DecidedPerSecond: 40, SettledPerSecond: 40, Seconds: 2, Complete: true}},
		{"timed out short of the accepted", at(0, 5, 0), []sample{at(4000, 8, 2), at(8000, 8, 2)}, 10, true,
			Drain{Accepted: 10, DecidedAtEnd: 5, Decided: 8, Settled: 2, DecidedSeconds: 4, SettledSeconds: 4,
				DecidedPerSecond: 0.75, SettledPerSecond: 0.5, Seconds: 4}},
		{"settled not measured", at(0, 2, 0), []sample{at(250, 4, 0)}, 4, false,
			Drain{Accepted: 4, DecidedAtEnd: 2, Decided: 4, DecidedSeconds: 0.25, DecidedPerSecond: 8, Seconds: 0.25, Complete: true}},
		{"a count read lower later does not go back", at(0, 5, 5), []sample{at(100, 7, 6), at(200, 6, 6)}, 7, false,
			Drain{Accepted: 7, DecidedAtEnd: 5, SettledAtEnd: 5, Decided: 7, Settled: 6, DecidedSeconds: 0.1, SettledSeconds: 0.1,
				DecidedPerSecond: 20, SettledPerSecond: 10, Seconds: 0.1, Complete: true}},
	}
	for _, tc := range cases {
		if got := drainOf(tc.end, tc.after, tc.accepted, tc.settles); got != tc.want {
			t.Errorf("%s: drainOf = %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestStatuses(t *testing.T) {
	cases := []struct {
		in   map[int]int
		want string
	}{
		{nil, ""},
		{map[int]int{202: 1234}, "202 1,234"},
		{map[int]int{503: 2, 409: 15000, 202: 1, 0: 3}, "no answer 3, 202 1, 409 15,000, 503 2"},
	}
	for _, tc := range cases {
		if got := statuses(tc.in); got != tc.want {
			t.Errorf("statuses(%v) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestPrintClick(t *testing.T) {
	ph := &ClickPhase{WindowSeconds: 15, Connections: 100,
		Bare: ClickRun{Name: ClickBare, Target: "http.bare", InProcess: "the bare handler", Answered: 300000, AnsweredPerSecond: 20000,
			Statuses: map[int]int{202: 300000}, RatioToBare: 1, ClientCPUShare: 0.4, Latency: click.Latency{P50: 4100 * time.Microsecond, P99: 12 * time.Millisecond}},
		Runs: []ClickRun{
			{Name: ClickWinGateway, Phase: PhaseWin, Target: "gateway", AnsweredPerSecond: 1204.4, RatioToBare: 0.06,
				Statuses: map[int]int{202: 18060, 503: 3}, ServerCPUPerClickMicros: 1530, ProcessCPU: map[string]float64{"broker": 10.1, "gateway": 2},
				ClientCPUShare: 0.1,
				Drain: &Drain{Accepted: 18060, DecidedAtEnd: 12000, SettledAtEnd: 3000, Decided: 18060, Settled: 18060, DecidedPerSecond: 1200,
					DecidedSeconds: 5, SettledPerSecond: 800, SettledSeconds: 18.8, Seconds: 18.8, Complete: true, ServerCPUPerWinMicros: 2100}},
			{Name: ClickSoldOutCaptcha, Phase: PhaseSoldOut, Target: "captcha", AnsweredPerSecond: 9000, RatioToBare: 0.45,
				Statuses: map[int]int{409: 135000}, ServerCPUPerClickMicros: 90, ProcessCPU: map[string]float64{"captcha": 12}, ClientCPUShare: 0.05},
		},
	}
	var b bytes.Buffer
	printClick(&b, ph)
	out := b.String()
	for _, want := range []string{
		"CLICK PHASE: closed loop, 100 keep-alive connections, 15 s per window",
		"http.bare.click         20,000    4.1     12.0    1.00           -                    40% with the bare handler  202 300,000",
		"click.win.gateway       1,204     0.0     0.0     0.06           1,530                10%                        202 18,060, 503 3",
		"click.sold_out.captcha  9,000     0.0     0.0     0.45           90                   5%                         409 135,000",
		"drain after click.win.gateway: 18,060 accepted; at the last click 12,000 decided, 3,000 settled; then 1,200 decided/s over 5.0 s, " +
			"800 settled/s over 18.8 s; backlog empty 18.8 s after the last click (server CPU 2,100 µs per win, window and drain)",
		"server CPU of click.win.gateway: broker 10.1 s, gateway 2.0 s\n",
		"server CPU of click.sold_out.captcha: captcha 12.0 s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("printClick lacks %q:\n%s", want, out)
		}
	}
}

func TestDrainLineSaysWhatIsMissing(t *testing.T) {
	d := Drain{Accepted: 10, Decided: 8, Settled: 2, SettledSkipped: "no database URL"}
	got := drainLine(d)
	if strings.Contains(got, "settled/s") || !strings.Contains(got, "NOT DRAINED in 2m0s: 8 decided, 2 settled") {
		t.Errorf("drainLine = %q; want no settled rate and the shortfall named", got)
	}
}
