//go:build bench

package crowd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/surgekit/surge/local/crowd"
)

// TestLargeCrowd: CROWD_USERS users (100,000) for CROWD_STOCK units
// (10,000), closed loop with CROWD_CONCURRENCY workers (128), or open loop
// at CROWD_RATE; writes crowd.json and crowd.png under CROWD_OUT (a temp
// dir by default).
//
//	go test -tags bench -run TestLargeCrowd -timeout 30m -v ./local/crowd
func TestLargeCrowd(t *testing.T) {
	users, stock := envInt("CROWD_USERS", 100_000), envInt("CROWD_STOCK", 10_000)
	rate, _ := strconv.ParseFloat(os.Getenv("CROWD_RATE"), 64)
	e, s := startEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	res, err := crowd.Run(ctx, crowd.Config{
		BaseURL: e.URL(), AdminToken: s.AdminToken, JWTSecret: s.JWTSecret,
		Campaign: crowd.Campaign{ID: "big", SKU: "sku-1", Stock: stock, Limit: 1},
		Users:    users, Rate: rate, Concurrency: envInt("CROWD_CONCURRENCY", 128),
		DuplicateClickRatio: 0.05, RetryOn5xx: true, Timeout: 10 * time.Minute, ServerCPU: crowd.ChildrenCPU,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("CROWD_OUT")
	if out == "" {
		out = t.TempDir()
	}
	writeOut(t, out, res)
	for _, c := range res.Failed() {
		t.Errorf("invariant %q failed: %s", c.Name, c.Detail)
	}
	t.Logf("%s loop, %d users, %d units: %d clicks in %.1fs; accepted %.0f/s, decided %.0f/s (win %.0f/s, sold out %.0f/s), settled %.0f/s",
		res.Mode, users, stock, res.Counts.Clicks, res.Seconds, res.Throughput.AcceptedPerSec, res.Throughput.DecidedPerSec,
		res.Throughput.Win.DecidedPerSec, res.Throughput.SoldOut.DecidedPerSec, res.Throughput.SettledPerSec)
	t.Logf("latency ms accept %+v decide %+v settle %+v", res.Latency.Accept, res.Latency.Decide, res.Latency.Settle)
	t.Logf("server CPU %.1fs (%.0fµs/claim), client CPU %.1fs, errors %v, reasons %v",
		res.ServerCPUSeconds, res.ServerCPUPerClaimMicros, res.ClientCPUSeconds, res.Errors, res.Counts.Reasons)
}

func writeOut(t *testing.T, dir string, res crowd.Result) {
	t.Helper()
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crowd.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "crowd.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := crowd.Chart(f, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s/crowd.json and crowd.png", dir)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
