package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/bench"
	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/servers/servertest"
)

// tiny are flags for a run of a few seconds.
var tiny = []string{"-users", "400", "-stock", "40", "-concurrency", "16", "-baseline-ops", "400", "-stage-claims", "300",
	"-rain-users", "400", "-rain-packets", "40"}

// buildBench compiles this command once per test.
func buildBench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bench")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestBenchStartsItsOwnEngine runs the command as make bench does, on a
// tiny profile: it starts its own servers and engine, prints the table,
// writes latest.json and latest.png and exits 0.
func TestBenchStartsItsOwnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and an engine")
	}
	bin, out := buildBench(t), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(tiny, "-out", out, "-click-window", "500ms")...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"BASELINES", "FIGURES", "stage.settle", "chain.decided", "broker backlog peaks", "invariants: all",
		"CLICK PHASE", "  " + bench.ClickBare + " ", "  " + bench.ClickWinGateway + " ", "  " + bench.ClickWinCaptcha + " ",
		"  " + bench.ClickSoldOutGateway + " ", "  " + bench.ClickSoldOutCaptcha + " ", "  " + bench.ClickLimitedGateway + " ",
		"  " + bench.ClickLimitedCaptcha + " ", "drain after " + bench.ClickWinCaptcha, "BOT FLOOD", "users behind one IP",
		"RAIN of 4000 cents", "  " + bench.RainSettled + " ", bench.WalletRead + " by the 40 winners",
		"OBSERVABILITY", "round 2: off"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	rep := readReport(t, filepath.Join(out, "latest.json"))
	if len(rep.Baselines) != 6 || len(rep.Stages) != 3 || rep.Crowd == nil || len(rep.Ratios) != 22 {
		t.Errorf("report has %d baselines, %d stages, crowd %v, %d ratios; want 6, 3, a crowd and 22 (6 of the click phase, 6 of the rain)",
			len(rep.Baselines), len(rep.Stages), rep.Crowd != nil, len(rep.Ratios))
	}
	checkRain(t, rep.Rain)
	checkObservability(t, rep.Observability)
	checkClick(t, rep.Click)
	checkBots(t, rep.Bots)
	if len(rep.Broker) == 0 || len(rep.Broker[0].Triggers) == 0 {
		t.Errorf("report has no broker samples: %+v", rep.Broker)
	}
	f, err := os.Open(filepath.Join(out, "latest.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("latest.png: %v", err)
	}
	t.Logf("table:\n%s", stdout.String())
}

// checkClick wants the six click runs, each with clicks answered and its
// server CPU, every win of a win run settled by the end of its drain, and
// every click of a limited run but the first turned away (429).
func checkClick(t *testing.T, ph *bench.ClickPhase) {
	t.Helper()
	if ph == nil || ph.Bare.Requests == 0 || len(ph.Runs) != 6 {
		t.Fatalf("click phase = %+v; want the bare handler measured and 6 runs", ph)
	}
	for i, want := range []string{bench.ClickWinGateway, bench.ClickWinCaptcha, bench.ClickSoldOutGateway, bench.ClickSoldOutCaptcha,
		bench.ClickLimitedGateway, bench.ClickLimitedCaptcha} {
		c := ph.Runs[i]
		if c.Name != want || c.Requests == 0 || c.Answered == 0 || c.ServerCPUPerClickMicros <= 0 || c.RatioToBare <= 0 {
			t.Errorf("click run %d = %s: %d requests, %d answered, %.0f µs/click, ratio %.2f; want %s with all of them > 0",
				i, c.Name, c.Requests, c.Answered, c.ServerCPUPerClickMicros, c.RatioToBare, want)
		}
		switch d := c.Drain; {
		case c.Phase == bench.PhaseWin && (d == nil || !d.Complete || d.Accepted != c.Statuses[202] || d.Settled != d.Accepted || d.Decided != d.Accepted):
			t.Errorf("%s drain = %+v; want every one of the %d accepted wins decided and settled", c.Name, d, c.Statuses[202])
		case c.Phase != bench.PhaseWin && d != nil:
			t.Errorf("%s has a drain %+v; want none after a %s run", c.Name, d, c.Phase)
		case c.Phase == bench.PhaseLimited && (c.Statuses[202] > 1 || c.Statuses[429] != c.Requests-c.Statuses[202]):
			t.Errorf("%s statuses %v; want every click 429 but the first", c.Name, c.Statuses)
		}
	}
	if g := ph.Runs[0]; g.ProcessCPU["gateway"] <= 0 || g.ProcessCPU["captcha"] <= 0 {
		t.Errorf("%s process CPU = %v; want the gateway's and captcha's", g.Name, g.ProcessCPU)
	}
}

// checkRain wants every packet of the rain won and settled, every
// invariant held, and the wallet reads answered 200.
func checkRain(t *testing.T, ph *bench.RainPhase) {
	t.Helper()
	if ph == nil || ph.Crowd == nil || ph.Wallet == nil {
		t.Fatalf("rain step = %+v; want its crowd and the wallet reads", ph)
	}
	if n := ph.Crowd.Counts; n.Winners != 40 || n.Settled != 40 || len(ph.Crowd.Failed()) > 0 || len(ph.Crowd.Invariants) != 7 {
		t.Errorf("rain crowd %+v, invariants %v; want 40 winners settled and all 7 invariants held", n, ph.Crowd.Invariants)
	}
	if w := ph.Wallet; w.Answered == 0 || w.Answered != w.Requests || w.RatioToBare <= 0 || w.ServerCPUPerClickMicros <= 0 {
		t.Errorf("wallet reads %d answered of %d (statuses %v), ratio %.2f, %.0f µs/read; want every one answered 200",
			w.Answered, w.Requests, w.Statuses, w.RatioToBare, w.ServerCPUPerClickMicros)
	}
}

// checkBots wants the crowd measured alone and beside both floods, every
// flood held to its buckets.
func checkBots(t *testing.T, b *bench.BotFlood) {
	t.Helper()
	if b == nil || b.Alone == nil || b.WithBots == nil || len(b.Bots) != 2 {
		t.Fatalf("bot step = %+v; want a crowd alone, one beside the bots, and two floods", b)
	}
	for _, c := range []*crowd.Result{b.Alone, b.WithBots} {
		if c.Counts.Accepted == 0 || c.Counts.Decided != c.Counts.Accepted || len(c.Failed()) > 0 {
			t.Errorf("bot step crowd: %+v, failed %v; want claims accepted and decided, every invariant held", c.Counts, c.Failed())
		}
	}
	for _, f := range b.Bots {
		if f.Statuses[429] == 0 || f.Admitted > f.Bound {
			t.Errorf("flood %s: %v, %d admitted (bound %d); want 429s and no more admitted than the buckets allow", f.Name, f.Statuses, f.Admitted, f.Bound)
		}
	}
}

// TestBenchFailsOnABrokenInvariant points the command at a running engine
// (-url) and takes 10 units out of Redis behind the engine's back as soon
// as the crowd's campaign is warm: fewer winners than stock, so the
// invariant winners = min(stock, demand) fails and the command exits 1.
func TestBenchFailsOnABrokenInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an engine")
	}
	bin := buildBench(t)
	e, env, secrets := testEngine(t)
	rdb := servertest.Redis(t, env, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stole := make(chan string, 1)
	go func() { stole <- stealUnits(ctx, rdb, env.KeyPrefix+":{c:crowd-*}:stock:*", 10) }() // ends with ctx or the theft
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(tiny, "-out", t.TempDir(), "-url", e.URL(), "-skip-click", "-answer-delay", "0")...)
	cmd.Env = append(os.Environ(), "SURGE_ADMIN_TOKEN="+secrets.AdminToken, "SURGE_JWT_SECRET="+secrets.JWTSecret,
		"SURGE_REDIS_URL=", "SURGE_DATABASE_URL=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if key := <-stole; key == "" {
		t.Fatal("the crowd's stock key never appeared")
	}
	if code := exitCode(err); code != 1 {
		t.Fatalf("bench exit %d (%v); want 1\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "INVARIANT FAILED winners = min(stock, demand)") {
		t.Errorf("stdout does not name the failed invariant:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "not measured: stages") {
		t.Errorf("a run by URL should say the stages were not measured:\n%s", stdout.String())
	}
}

// stealUnits waits for a key matching pattern and takes n units from it;
// it returns the key, or "" when ctx ends first.
func stealUnits(ctx context.Context, rdb *redis.Client, pattern string, n int64) string {
	for ctx.Err() == nil {
		keys, _ := rdb.Keys(ctx, pattern).Result()
		if len(keys) == 1 {
			rdb.DecrBy(ctx, keys[0], n)
			return keys[0]
		}
		time.Sleep(time.Millisecond)
	}
	return ""
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func readReport(t *testing.T, path string) bench.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

func TestParse(t *testing.T) {
	env := func(k string) string { return map[string]string{"SURGE_ADMIN_TOKEN": "a", "SURGE_JWT_SECRET": "j"}[k] }
	none := func(string) string { return "" }
	cases := []struct {
		name    string
		args    []string
		getenv  func(string) string
		want    bench.Size
		wantErr bool
	}{
		{"default", nil, none, bench.Default, false},
		{"large", []string{"-large"}, none, bench.Large, false},
		{"overrides", []string{"-users", "7", "-stock", "3", "-rate", "50", "-rain-users", "9", "-rain-packets", "2"}, none,
			func() bench.Size {
				s := bench.Default
				s.Users, s.Stock, s.Rate, s.RainUsers, s.RainPackets = 7, 3, 50, 9, 2
				return s
			}(), false},
		{"click window", []string{"-click-window", "2s", "-click-conns", "8"}, none,
			func() bench.Size { s := bench.Default; s.ClickWindow, s.ClickConns = 2*time.Second, 8; return s }(), false},
		{"skip click", []string{"-skip-click"}, none, func() bench.Size { s := bench.Default; s.ClickWindow = 0; return s }(), false},
		{"url with secrets", []string{"-url", "http://x"}, env, bench.Default, false},
		{"url without secrets", []string{"-url", "http://x"}, none, bench.Size{}, true},
		{"unknown flag", []string{"-fast"}, none, bench.Size{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.args, tc.getenv)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parse(%v) error = %v; want error %v", tc.args, err, tc.wantErr)
			}
			if err == nil && got.size != tc.want {
				t.Errorf("parse(%v) size = %+v; want %+v", tc.args, got.size, tc.want)
			}
		})
	}
}

// checkObservability wants both rounds each way, a cost figure, and spans
// received while observability was on.
func checkObservability(t *testing.T, o *bench.ObservabilityCost) {
	t.Helper()
	if o == nil || len(o.Off) != 2 || len(o.Sampled) != 2 || len(o.On) != 2 {
		t.Fatalf("observability step: %+v; want 2 crowds off, 2 sampled and 2 on", o)
	}
	if o.CPUPerClaimOff <= 0 || o.CPUPerClaimSampled <= 0 || o.CPUPerClaimOn <= 0 || o.SampledRatio <= 0 || o.Ratio <= 0 {
		t.Errorf("observability cost: off %.0f µs, sampled %.0f µs, on %.0f µs, ratios %.2f and %.2f; want all measured",
			o.CPUPerClaimOff, o.CPUPerClaimSampled, o.CPUPerClaimOn, o.SampledRatio, o.Ratio)
	}
	if o.TraceExports == 0 || o.TraceBytes == 0 {
		t.Errorf("the collector took %d exports (%d bytes) while observability was on; want spans", o.TraceExports, o.TraceBytes)
	}
}
