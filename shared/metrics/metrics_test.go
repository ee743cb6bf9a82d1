package metrics_test

import (
	"os"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/metrics"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func sample(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, err := metrics.Value(name, labels...)
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return v
}

// delta runs do and returns how much the sample moved.
func delta(t *testing.T, do func(), name string, labels ...string) float64 {
	t.Helper()
	before := sample(t, name, labels...)
	do()
	return sample(t, name, labels...) - before
}

// Every label is bounded: a reason outside the rejection reasons, or an
// event type that is not the chain's, is counted as other.
func TestDomainCountersBoundTheirLabels(t *testing.T) {
	tests := []struct {
		name   string
		do     func()
		metric string
		labels []string
		want   float64
	}{
		{"reservation", func() { metrics.Claim("reserved", "") }, "surge_claims_total", []string{"outcome", "reserved", "reason", ""}, 1},
		{"rejection", func() { metrics.Claim("rejected", events.ReasonSoldOut) }, "surge_claims_total", []string{"outcome", "rejected", "reason", "sold_out"}, 1},
		{"odd reason", func() { metrics.Claim("rejected", "user-4711") }, "surge_claims_total", []string{"reason", metrics.Other}, 1},
		{"chain's dead letter", func() { metrics.DeadLetter(events.TypeOrderQueued) }, "surge_dead_letters_total", []string{"type", events.TypeOrderQueued}, 1},
		{"odd dead letter", func() { metrics.DeadLetter("com.example.x.v1") }, "surge_dead_letters_total", []string{"type", metrics.Other}, 1},
		{"settled", func() { metrics.Settled(8, 5) }, "surge_settlements_total", nil, 5},
		{"batch", func() { metrics.Settled(8, 5) }, "surge_settle_batch_size", nil, 1},
		{"released", func() { metrics.Released(metrics.Expired) }, "surge_reservations_released_total", []string{"reason", "expired"}, 1},
		{"queued", metrics.Queued, "surge_orders_queued_total", nil, 1},
		{"click", func() { metrics.Click(metrics.Refused, "sold_out") }, "surge_clicks_total", []string{"outcome", "refused", "reason", "sold_out"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := delta(t, tt.do, tt.metric, tt.labels...); got != tt.want {
				t.Errorf("%s%v moved by %v; want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
	if got := sample(t, "surge_claims_total", "reason", "user-4711"); got != 0 {
		t.Errorf("a reason outside the set became a label value")
	}
}

func TestEnabledBy(t *testing.T) {
	for value, want := range map[string]bool{"": true, "on": true, "off": false, "false": false, "0": false} {
		if got := metrics.EnabledBy(func(string) string { return value }); got != want {
			t.Errorf("SURGE_METRICS=%q: enabled %v; want %v", value, got, want)
		}
	}
}
