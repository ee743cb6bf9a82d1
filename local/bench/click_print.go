package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printClick writes the click phase: one row per window, then each win
// run's drain and where the server CPU of each run went.
func printClick(w io.Writer, ph *ClickPhase) {
	fmt.Fprintf(w, "\nCLICK PHASE: closed loop, %d keep-alive connections, %g s per window, a different pre-signed user per click, no polling (%.0f s in all)\n",
		ph.Connections, ph.WindowSeconds, ph.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  run\tclicks/s\tp50 ms\tp99 ms\tratio to bare\tserver CPU µs/click\tclient CPU\tstatuses\t")
	for _, c := range append([]ClickRun{ph.Bare}, ph.Runs...) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t\n", c.Name, count(c.AnsweredPerSecond), millis(c.Latency.P50),
			millis(c.Latency.P99), c.RatioToBare, micros(c), clientShare(c), statuses(c.Statuses))
	}
	_ = tw.Flush()
	for _, c := range ph.Runs {
		if c.Drain != nil {
			fmt.Fprintf(w, "  drain after %s: %s\n", c.Name, drainLine(*c.Drain))
		}
	}
	for _, c := range ph.Runs {
		if len(c.ProcessCPU) == 0 {
			continue
		}
		fmt.Fprintf(w, "  server CPU of %s: %s\n", c.Name, byProcess(c.ProcessCPU, 8))
	}
}

// drainLine is one win run's drain in words.
func drainLine(d Drain) string {
	s := fmt.Sprintf("%s accepted; at the last click %s decided, %s settled; then %s decided/s over %.1f s",
		count(float64(d.Accepted)), count(float64(d.DecidedAtEnd)), count(float64(d.SettledAtEnd)),
		count(d.DecidedPerSecond), d.DecidedSeconds)
	if d.SettledSkipped == "" {
		s += fmt.Sprintf(", %s settled/s over %.1f s", count(d.SettledPerSecond), d.SettledSeconds)
	}
	if !d.Complete {
		return s + fmt.Sprintf("; NOT DRAINED in %v: %s decided, %s settled", drainTimeout, count(float64(d.Decided)), count(float64(d.Settled)))
	}
	s += fmt.Sprintf("; backlog empty %.1f s after the last click", d.Seconds)
	if d.ServerCPUPerWinMicros > 0 {
		s += fmt.Sprintf(" (server CPU %s µs per win, window and drain)", count(d.ServerCPUPerWinMicros))
	}
	return s
}

// statuses is "202 1,234, 409 5", by status; 0 is "no answer".
func statuses(m map[int]int) string {
	parts := make([]string, 0, len(m))
	for _, s := range slices.Sorted(maps.Keys(m)) {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no answer"
		}
		parts = append(parts, name+" "+count(float64(m[s])))
	}
	return strings.Join(parts, ", ")
}

func millis(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func micros(c ClickRun) string {
	if c.ProcessCPU == nil {
		return "-"
	}
	return count(c.ServerCPUPerClickMicros)
}

// clientShare is the bench process's share of the machine in the window,
// naming what else ran in it.
func clientShare(c ClickRun) string {
	s := fmt.Sprintf("%.0f%%", 100*c.ClientCPUShare)
	if c.InProcess != "" {
		s += " with " + c.InProcess
	}
	return s
}
