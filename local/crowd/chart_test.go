package crowd

import (
	"bytes"
	"image"
	"image/color"
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
		{"run", sampleRun()},
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

func sampleRun() Result {
	return Result{
		Campaign: Campaign{Stock: 100}, Mode: "closed", Users: 1000, Seconds: 2.4, Counts: Counts{Clicks: 1050},
		Series: []Second{{T: 0, Sent: 900, Accepted: 850, Decided: 400}, {T: 1, Sent: 100, Accepted: 150, Decided: 500, Settled: 40}, {T: 2, Decided: 100, Settled: 10}},
		Latency: Latencies{
			Accept: Percentiles{N: 1000, P50: 3, P90: 12, P99: 40, Max: 95},
			Decide: Percentiles{N: 1000, P50: 60, P90: 180, P99: 420, Max: 900},
			Settle: Percentiles{N: 50, P50: 800, P90: 1500, P99: 2100, Max: 2200},
		},
	}
}

// TestChartText checks that each band where the chart puts its labels
// holds text: only labels are drawn in the ink color.
func TestChartText(t *testing.T) {
	var buf bytes.Buffer
	if err := Chart(&buf, sampleRun()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	top, bottom := topPanel(), bottomPanel()
	bands := []struct {
		name string
		r    image.Rectangle
	}{
		{"title", image.Rect(0, 0, ChartWidth, 26)},
		{"y caption", image.Rect(top.x0, top.y0-26, top.x0+200, top.y0-8)},
		{"legend", image.Rect(top.x1-300, top.y0-26, top.x1, top.y0-8)},
		{"throughput ticks", image.Rect(0, top.y0-8, top.x0-8, top.y1+8)},
		{"seconds", image.Rect(0, top.y1+12, ChartWidth, top.y1+44)},
		{"latency caption", image.Rect(0, bottom.y0-36, ChartWidth, bottom.y0-20)},
		{"latency ticks", image.Rect(0, bottom.y0-8, bottom.x0-8, bottom.y1+8)},
		{"bar values", image.Rect(bottom.x0+1, bottom.y0, bottom.x1, bottom.y1)},
		{"bar names", image.Rect(0, bottom.y1+4, ChartWidth, ChartHeight)},
	}
	for _, b := range bands {
		if got := inked(img, b.r); got < 20 {
			t.Errorf("%s %v: %d text pixels, want at least 20", b.name, b.r, got)
		}
	}
}

func inked(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == ink {
				n++
			}
		}
	}
	return n
}

func TestChartLabels(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(21000), "21,000"},
		{thousands(-1234567), "-1,234,567"},
		{durationLabel(0.1), "0.1 ms"},
		{durationLabel(100), "100 ms"},
		{durationLabel(1000), "1 s"},
		{durationLabel(10000), "10 s"},
		{msLabel(0.8), "0.80"},
		{msLabel(12.34), "12.3"},
		{msLabel(2023.063), "2023"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
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
