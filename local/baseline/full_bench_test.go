//go:build bench

package baseline_test

import (
	"context"
	"testing"
	"time"

	"github.com/surgekit/surge/local/baseline"
	"github.com/surgekit/surge/local/servers/servertest"
)

// TestFullBaselines runs every baseline at make bench's size and logs the
// figures: go test -tags bench -run Full -v ./local/baseline
func TestFullBaselines(t *testing.T) {
	for _, b := range baseline.All() {
		t.Run(b.Name, func(t *testing.T) {
			env := servertest.Fresh(t, deps)
			tg := baseline.Target{Ops: 50_000, Concurrency: 64, Stock: 5_000,
				RedisURL: env.RedisURL, KeyPrefix: env.KeyPrefix, DatabaseURL: env.DatabaseURL, Dir: t.TempDir()}
			if b.Name == baseline.NamePostgresInsert {
				tg.Ops, tg.Concurrency = 200_000, 8
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			f, err := b.Run(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-24s %9.0f %s/s  c=%d  p50 %v  p90 %v  p99 %v  max %v  errors %d",
				f.Name, f.PerSecond, f.Unit, f.Concurrency, f.Latency.P50, f.Latency.P90, f.Latency.P99, f.Latency.Max, f.Errors)
		})
	}
}
