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

// Chart size and the two panels: throughput over time on top, latency
// percentiles below.
const (
	ChartWidth  = 1000
	ChartHeight = 640
)

// ChartLegend says what the chart shows; the PNG has no text.
const ChartLegend = "top: events per second over the run (x: 1 tick = 1 s, long tick every 10 s; y: ticks at a 1-2-5 step) — " +
	"grey sent, green accepted, blue decided, orange settled. " +
	"bottom: latency in ms on a log scale (ticks at 1, 10, 100, … ms) for accept (green), decide (blue), settle (orange), " +
	"four bars each: p50, p90, p99, max (darker is higher)."

var (
	white  = color.RGBA{255, 255, 255, 255}
	axis   = color.RGBA{60, 60, 60, 255}
	grid   = color.RGBA{225, 225, 225, 255}
	grey   = color.RGBA{150, 150, 150, 255}
	green  = color.RGBA{46, 160, 67, 255}
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
)

type panel struct{ x0, y0, x1, y1 int } // plot area; y grows downwards

// Chart writes a PNG of r: throughput over time and latency percentiles
// (see ChartLegend).
func Chart(w io.Writer, r Result) error {
	img := image.NewRGBA(image.Rect(0, 0, ChartWidth, ChartHeight))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	throughputPanel(img, panel{60, 20, ChartWidth - 20, 370}, r.Series)
	latencyPanel(img, panel{60, 410, ChartWidth - 20, ChartHeight - 20}, r.Latency)
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("crowd chart: %w", err)
	}
	return nil
}

func throughputPanel(img *image.RGBA, p panel, s []Second) {
	top := 1
	for _, x := range s {
		top = max(top, x.Sent, x.Accepted, x.Decided, x.Settled)
	}
	step := niceStep(float64(top) / 5)
	ymax := math.Ceil(float64(top)/step) * step
	yOf := func(v float64) int { return p.y1 - int(v/ymax*float64(p.y1-p.y0)) }
	for v := step; v <= ymax; v += step {
		hline(img, p.x0, p.x1, yOf(v), grid)
		hline(img, p.x0-6, p.x0, yOf(v), axis)
	}
	n := max(len(s), 2)
	xOf := func(i int) int { return p.x0 + i*(p.x1-p.x0)/(n-1) }
	for i := range n {
		h := 4
		if i%10 == 0 {
			h = 9
		}
		vline(img, xOf(i), p.y1, p.y1+h, axis)
	}
	frame(img, p)
	series := []struct {
		c color.RGBA
		v func(Second) int
	}{
		{grey, func(x Second) int { return x.Sent }},
		{green, func(x Second) int { return x.Accepted }},
		{blue, func(x Second) int { return x.Decided }},
		{orange, func(x Second) int { return x.Settled }},
	}
	for _, l := range series {
		for i := 1; i < len(s); i++ {
			line(img, xOf(i-1), yOf(float64(l.v(s[i-1]))), xOf(i), yOf(float64(l.v(s[i]))), l.c)
		}
	}
}

func latencyPanel(img *image.RGBA, p panel, l Latencies) {
	groups := []struct {
		c color.RGBA
		v Percentiles
	}{{green, l.Accept}, {blue, l.Decide}, {orange, l.Settle}}
	top := 1.0
	for _, g := range groups {
		top = max(top, g.v.Max)
	}
	decades := math.Ceil(math.Log10(top)) + 1 // from 0.1 ms
	yOf := func(ms float64) int {
		f := (math.Log10(max(ms, 0.1)) + 1) / decades
		return p.y1 - int(f*float64(p.y1-p.y0))
	}
	for d := 0.1; d <= math.Pow(10, decades-1); d *= 10 {
		hline(img, p.x0, p.x1, yOf(d), grid)
		hline(img, p.x0-6, p.x0, yOf(d), axis)
	}
	frame(img, p)
	slot := (p.x1 - p.x0) / len(groups)
	bar := slot / 6
	for gi, g := range groups {
		for bi, v := range []float64{g.v.P50, g.v.P90, g.v.P99, g.v.Max} {
			if v <= 0 {
				continue
			}
			x := p.x0 + gi*slot + bar + bi*bar
			c := shade(g.c, bi)
			draw.Draw(img, image.Rect(x+2, yOf(v), x+bar-2, p.y1), &image.Uniform{c}, image.Point{}, draw.Src)
		}
	}
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
