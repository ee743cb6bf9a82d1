package crowd_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/engine/enginetest"
)

var suite enginetest.Suite

// TestMain builds the broker and the functions once and starts one set of
// dependency servers; each test gets its own engine on a fresh slice.
func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, &suite)) }

// startEngine runs one engine and returns it with its secrets.
func startEngine(t *testing.T) (*engine.Engine, engine.Secrets) {
	t.Helper()
	e, _, s := suite.Start(t, engine.Config{})
	return e, s
}

func TestCrowd(t *testing.T) {
	cases := []struct {
		name    string
		users   int
		stock   int
		rate    float64
		captcha bool
		rain    bool // a rain of stock packets sharing 100 cents each on average
	}{
		{name: "closed loop", users: 500, stock: 50},
		{name: "open loop with captcha", users: 300, stock: 30, rate: 200, captcha: true},
		{name: "rain with captcha", users: 500, stock: 50, captcha: true, rain: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, s := startEngine(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := crowd.Campaign{ID: "crowd", SKU: "sku-1", Stock: tc.stock, Limit: 1, Captcha: tc.captcha}
			if tc.rain {
				c.Kind, c.SKU, c.Budget = "rain", "", 100*int64(tc.stock)
			}
			res, err := crowd.Run(ctx, crowd.Config{
				BaseURL: e.URL(), AdminToken: s.AdminToken, JWTSecret: s.JWTSecret,
				Campaign: c,
				Users:    tc.users, Rate: tc.rate, Concurrency: 32, DuplicateClickRatio: 0.1, RetryOn5xx: true,
				Timeout: 30 * time.Second, ServerCPU: crowd.ChildrenCPU,
			})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tc.users, tc.stock)
			if tc.rain && len(res.Invariants) != 7 {
				t.Errorf("a rain checked %d invariants, want 7 (its wallets and its money too)", len(res.Invariants))
			}
		})
	}
}

func checkResult(t *testing.T, res crowd.Result, users, stock int) {
	t.Helper()
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result not JSON: %v", err)
	}
	for _, c := range res.Failed() {
		t.Errorf("invariant %q failed: %s", c.Name, c.Detail)
	}
	n := res.Counts
	clicks := users + users/10
	if n.Clicks != clicks || n.Accepted != clicks || n.Decided != clicks {
		t.Errorf("clicks %d, accepted %d, decided %d; want %d each", n.Clicks, n.Accepted, n.Decided, clicks)
	}
	if n.Winners != stock || n.Settled != stock || n.Rejected != clicks-stock {
		t.Errorf("winners %d, settled %d, rejected %d; want %d, %d, %d", n.Winners, n.Settled, n.Rejected, stock, stock, clicks-stock)
	}
	if res.Latency.Accept.N != clicks || res.Latency.Settle.N != stock || res.Throughput.DecidedPerSec <= 0 {
		t.Errorf("latency counts %d/%d, decided/s %v", res.Latency.Accept.N, res.Latency.Settle.N, res.Throughput.DecidedPerSec)
	}
	t.Logf("%s: %d clicks in %.1fs: accepted %.0f/s, decided %.0f/s, settled %.0f/s; decide p50 %.1fms p99 %.1fms; server CPU %.0fµs/claim; reasons %v; errors %v",
		res.Mode, n.Clicks, res.Seconds, res.Throughput.AcceptedPerSec, res.Throughput.DecidedPerSec, res.Throughput.SettledPerSec,
		res.Latency.Decide.P50, res.Latency.Decide.P99, res.ServerCPUPerClaimMicros, n.Reasons, res.Errors)
}
