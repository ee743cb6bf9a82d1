package crowd

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
)

// Chart size; the throughput panel is on top, the latency panel below
// (see topPanel and bottomPanel).
const (
	ChartWidth  = 1000
	ChartHeight = 720
)

// ChartLegend says in words what the chart shows; the PNG labels the same
// things itself (title, axes, legend, bar values).
const ChartLegend = "top: events per second over the run (x: seconds since the first click, long tick every 10 s; y: ticks at a 1-2-5 step) — " +
	"grey sent, green accepted, blue decided, orange settled. " +
	"bottom: latency in ms on a log scale (ticks at 0.1, 1, 10, 100, … ms) for accept (green), decide (blue), settle (orange), " +
	"four bars each: p50, p90, p99, max (darker is higher), each with its value in ms."

var (
	white  = color.RGBA{255, 255, 255, 255}
	ink    = color.RGBA{30, 30, 30, 255}
	axis   = color.RGBA{60, 60, 60, 255}
	grid   = color.RGBA{225, 225, 225, 255}
	grey   = color.RGBA{150, 150, 150, 255}
	green  = color.RGBA{46, 160, 67, 255}
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
)

type panel struct{ x0, y0, x1, y1 int } // plot area; y grows downwards

// topPanel is the throughput plot area: title and legend above it, tick
// labels to its left, tick labels and caption below.
func topPanel() panel { return panel{70, 56, ChartWidth - 20, 380} }

// bottomPanel is the latency plot area: caption and bar values above it,
// percentile and group labels below.
func bottomPanel() panel { return panel{70, 476, ChartWidth - 20, ChartHeight - 44} }

// Chart writes a PNG of r: throughput over time and latency percentiles
// (see ChartLegend).
func Chart(w io.Writer, r Result) error {
	img := image.NewRGBA(image.Rect(0, 0, ChartWidth, ChartHeight))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	title(img, r)
	throughputPanel(img, topPanel(), r.Series)
	latencyPanel(img, bottomPanel(), r.Latency)
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("crowd chart: %w", err)
	}
	return nil
}

// trace is one line of the throughput panel.
type trace struct {
	name string
	c    color.RGBA
	v    func(Second) int
}

func traces() []trace {
	return []trace{
		{"sent", grey, func(x Second) int { return x.Sent }},
		{"accepted", green, func(x Second) int { return x.Accepted }},
		{"decided", blue, func(x Second) int { return x.Decided }},
		{"settled", orange, func(x Second) int { return x.Settled }},
	}
}

func throughputPanel(img *image.RGBA, p panel, s []Second) {
	top := 1
	for _, x := range s {
		top = max(top, x.Sent, x.Accepted, x.Decided, x.Settled)
	}
	step := niceStep(float64(top) / 5)
	ymax := math.Ceil(float64(top)/step) * step
	yOf := func(v float64) int { return p.y1 - int(v/ymax*float64(p.y1-p.y0)) }
	label(img, p.x0-9, yOf(0)+4, "0", right, ink)
	for v := step; v <= ymax; v += step {
		hline(img, p.x0, p.x1, yOf(v), grid)
		hline(img, p.x0-6, p.x0, yOf(v), axis)
		label(img, p.x0-9, yOf(v)+4, thousands(int(v)), right, ink)
	}
	n := max(len(s), 2)
	xOf := func(i int) int { return p.x0 + i*(p.x1-p.x0)/(n-1) }
	secondTicks(img, p, n, xOf)
	frame(img, p)
	for _, l := range traces() {
		for i := 1; i < len(s); i++ {
			line(img, xOf(i-1), yOf(float64(l.v(s[i-1]))), xOf(i), yOf(float64(l.v(s[i]))), l.c)
		}
	}
	throughputCaptions(img, p)
}

// secondTicks marks each second under p with a long tick every 10 s,
// labelled every 10, 20, 50, 100, … s so that labels stay 40 px apart.
func secondTicks(img *image.RGBA, p panel, n int, xOf func(int) int) {
	every := max(10, int(niceStep(40*float64(n-1)/float64(p.x1-p.x0))))
	for i := range n {
		if i%10 != 0 {
			vline(img, xOf(i), p.y1, p.y1+4, axis)
			continue
		}
		vline(img, xOf(i), p.y1, p.y1+9, axis)
		if i%every == 0 {
			label(img, xOf(i), p.y1+22, fmt.Sprint(i), center, ink)
		}
	}
}

// bars is one group of the latency panel.
type bars struct {
	name string
	c    color.RGBA
	v    Percentiles
}

func latencyPanel(img *image.RGBA, p panel, l Latencies) {
	groups := []bars{{"accept", green, l.Accept}, {"decide", blue, l.Decide}, {"settle", orange, l.Settle}}
	top := 1.0
	for _, g := range groups {
		top = max(top, g.v.Max)
	}
	decades := math.Ceil(math.Log10(top)) + 1 // from 0.1 ms
	yOf := func(ms float64) int {
		f := (math.Log10(max(ms, 0.1)) + 1) / decades
		return p.y1 - int(f*float64(p.y1-p.y0))
	}
	for i := range int(decades) + 1 {
		d := math.Pow(10, float64(i-1))
		hline(img, p.x0, p.x1, yOf(d), grid)
		hline(img, p.x0-6, p.x0, yOf(d), axis)
		label(img, p.x0-9, yOf(d)+4, durationLabel(d), right, ink)
	}
	frame(img, p)
	slot := (p.x1 - p.x0) / len(groups)
	for gi, g := range groups {
		barGroup(img, p, p.x0+gi*slot, slot, g, yOf)
	}
	label(img, p.x0, p.y0-24, "latency from a click's first attempt, ms (log scale)", left, ink)
}

// barGroup draws g's four percentile bars in the slot starting at x, each
// labelled below and with its value above.
func barGroup(img *image.RGBA, p panel, x, slot int, g bars, yOf func(float64) int) {
	bar := slot / 6
	names := []string{"p50", "p90", "p99", "max"}
	for bi, v := range []float64{g.v.P50, g.v.P90, g.v.P99, g.v.Max} {
		bx := x + bar + bi*bar
		mid := bx + bar/2
		label(img, mid, p.y1+15, names[bi], center, ink)
		if v <= 0 {
			continue
		}
		draw.Draw(img, image.Rect(bx+2, yOf(v), bx+bar-2, p.y1), &image.Uniform{shade(g.c, bi)}, image.Point{}, draw.Src)
		if s := msLabel(v); textWidth(s) <= bar {
			label(img, mid, yOf(v)-3, s, center, ink)
		}
	}
	name := g.name
	if g.v.N > 0 {
		name = fmt.Sprintf("%s (n = %s)", g.name, thousands(g.v.N))
	}
	label(img, x+3*bar, p.y1+31, name, center, ink)
}

// shade darkens c one step per percentile.
func shade(c color.RGBA, step int) color.RGBA {
	f := 1 - 0.2*float64(step)
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), 255}
}

// niceStep rounds v up to 1, 2 or 5 × a power of ten.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
func frame(img *image.RGBA, p panel) {
	hline(img, p.x0, p.x1, p.y1, axis)
	vline(img, p.x0, p.y0, p.y1, axis)
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws from (x0,y0) to (x1,y1), two pixels thick (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		img.SetRGBA(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
