package crowd

import (
	"bytes"
	"image/png"
	"testing"
)

func TestChartDecodes(t *testing.T) {
	cases := []struct {
		name string
		r    Result
	}{
		{"empty", Result{}},
		{"one second", Result{Series: []Second{{Sent: 5}}}},
		{"run", Result{
			Series: []Second{{T: 0, Sent: 900, Accepted: 850, Decided: 400}, {T: 1, Sent: 100, Accepted: 150, Decided: 500, Settled: 40}, {T: 2, Decided: 100, Settled: 10}},
			Latency: Latencies{
				Accept: Percentiles{N: 1000, P50: 3, P90: 12, P99: 40, Max: 95},
				Decide: Percentiles{N: 1000, P50: 60, P90: 180, P99: 420, Max: 900},
				Settle: Percentiles{N: 50, P50: 800, P90: 1500, P99: 2100, Max: 2200},
			},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Chart(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got := img.Bounds().Size(); got.X != ChartWidth || got.Y != ChartHeight {
				t.Fatalf("size %v, want %dx%d", got, ChartWidth, ChartHeight)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(100 - i) // 100..1, unsorted
	}
	got := percentiles(v)
	want := Percentiles{N: 100, P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := percentiles(nil); got != (Percentiles{}) {
		t.Fatalf("empty: got %+v, want zero", got)
	}
}

func TestDoubleClickSpread(t *testing.T) {
	for _, ratio := range []float64{0, 0.1, 0.25, 1} {
		r := &runner{cfg: Config{DuplicateClickRatio: ratio}}
		n := 0
		for u := range 1000 {
			if r.doubleClicks(u) {
				n++
			}
		}
		if want := int(1000 * ratio); n != want {
			t.Errorf("ratio %v: %d double clickers of 1000, want %d", ratio, n, want)
		}
	}
}
