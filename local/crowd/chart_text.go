package crowd

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// align places a label's x: its start, middle or end.
type align int

const (
	left align = iota
	center
	right
)

// label draws s in the 7×13 fixed font with its baseline at y.
func label(img *image.RGBA, x, y int, s string, a align, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13}
	w := d.MeasureString(s).Round()
	d.Dot = fixed.P(x-w*int(a)/2, y)
	d.DrawString(s)
}

// textWidth is the width of s in pixels.
func textWidth(s string) int {
	return font.MeasureString(basicfont.Face7x13, s).Round()
}

// title names the run on the first line of the chart.
func title(img *image.RGBA, r Result) {
	mode := cmp.Or(r.Mode, "unknown") + " loop"
	if r.Mode == "open" && r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %s clicks/s", thousands(int(r.Rate)))
	}
	s := fmt.Sprintf("Surge crowd: %s users, %s units, %s, %s clicks in %.1f s",
		thousands(r.Users), thousands(r.Campaign.Stock), mode, thousands(r.Counts.Clicks), r.Seconds)
	label(img, ChartWidth/2, 20, s, center, ink)
}

// throughputCaptions names the axes of p and the colors of its lines.
func throughputCaptions(img *image.RGBA, p panel) {
	label(img, p.x0, p.y0-12, "claims per second", left, ink)
	label(img, (p.x0+p.x1)/2, p.y1+40, "seconds since the first click", center, ink)
	x := p.x1
	ss := traces()
	for i := len(ss) - 1; i >= 0; i-- {
		x -= textWidth(ss[i].name)
		label(img, x, p.y0-12, ss[i].name, left, ink)
		x -= 26
		hline(img, x, x+19, p.y0-16, ss[i].c)
		hline(img, x, x+19, p.y0-17, ss[i].c)
		x -= 18
	}
}

// thousands formats n with a comma every three digits: 21,000.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// durationLabel names a log-scale tick: 0.1 ms … 100 ms, 1 s, 10 s, ….
func durationLabel(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
}

// msLabel is a bar's value in ms: two decimals below 10 ms, one below
// 100 ms, whole milliseconds above.
func msLabel(ms float64) string {
	switch {
	case ms >= 100:
		return strconv.FormatFloat(ms, 'f', 0, 64)
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 2, 64)
}
