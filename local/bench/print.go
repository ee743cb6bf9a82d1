package bench

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/profiling"
)

// Print writes the report as make bench shows it: the baselines, every
// figure beside its baseline with the ratio, the crowd's latencies and
// invariants, and where the time goes for figures below half.
func Print(w io.Writer, rep Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	m, s := rep.Machine, rep.Size
	fmt.Fprintf(tw, "Surge bench, %s profile: %d users for %d units, %d workers. %d cores (%s), %.0f GiB, %s, commit %s\n\n",
		s.Name, s.Users, s.Stock, s.Concurrency, m.Cores, m.CPU, m.MemoryGiB, m.Go, m.Commit)
	fmt.Fprintln(tw, "BASELINES: this machine without Surge\tper second\tp50\tp99\t")
	for _, f := range rep.Baselines {
		fmt.Fprintf(tw, "  %s\t%s %s/s\t%v\t%v\t\n", f.Name, count(f.PerSecond), f.Unit, f.Latency.P50.Round(10e3), f.Latency.P99.Round(10e3))
	}
	fmt.Fprintln(tw, "\nFIGURES against their baselines\tper second\tbaseline\tper second\tratio\t")
	for _, q := range rep.Ratios {
		mark := ""
		if q.Below {
			mark = "  below half"
		}
		fmt.Fprintf(tw, "  %s\t%s %s/s\t%s\t%s %s/s\t%.2f%s\t\n", q.Figure, count(q.PerSecond), q.Unit, q.Baseline,
			count(q.BaselineValue), q.BaselineUnit, q.Ratio, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Click != nil {
		printClick(w, rep.Click)
	}
	if rep.Crowd != nil {
		printCrowd(w, rep)
	}
	if rep.OpenCrowd != nil {
		printOpenCrowd(w, rep.OpenCrowd)
	}
	if rep.Bots != nil {
		printBots(w, rep.Bots)
	}
	if rep.Rain != nil {
		printRain(w, rep.Rain)
	}
	if rep.Observability != nil {
		printObservability(w, rep.Observability)
	}
	printHotspots(w, rep.Hotspots)
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "not measured: %s\n", s)
	}
	return nil
}

func printCrowd(w io.Writer, rep Report) {
	printCrowdRun(w, "CROWD", "units", rep.Crowd, rep.CrowdCPU)
	printBroker(w, rep)
	printInvariants(w, rep.Crowd)
}

// printRain writes the rain's crowd as the sale's, then the wallet reads.
func printRain(w io.Writer, ph *RainPhase) {
	c := ph.Crowd
	printCrowdRun(w, fmt.Sprintf("RAIN of %d cents", c.Campaign.Budget), "packets", c, ph.CPU)
	printInvariants(w, c)
	if r := ph.Wallet; r != nil {
		fmt.Fprintf(w, "  %s by the %d winners, round and round: %s reads/s, p50 %s ms, p99 %s ms, %.2f of %s, server CPU %s µs/read; %s\n",
			r.Name, c.Counts.Winners, count(r.AnsweredPerSecond), millis(r.Latency.P50), millis(r.Latency.P99),
			r.RatioToBare, ClickBare, micros(*r), statuses(r.Statuses))
	}
}

// printObservability writes each round's CPU per claim and the cost.
func printObservability(w io.Writer, o *ObservabilityCost) {
	fmt.Fprintf(w, "\nOBSERVABILITY (metrics, traces to a collector, event logs): server CPU per claim\n")
	for i := range o.Off {
		fmt.Fprintf(w, "  round %d: off %.0f µs, on with %.0f%% traced %.0f µs, on with every claim traced %.0f µs\n", i+1,
			o.Off[i].ServerCPUPerClaimMicros, SampledTraces*100, o.Sampled[i].ServerCPUPerClaimMicros, o.On[i].ServerCPUPerClaimMicros)
	}
	fmt.Fprintf(w, "  mean: off %.0f µs; on with %.0f%% of claims traced %.0f µs, %.2f× off (the goal: within 1.10); on with every claim traced %.0f µs, %.2f× off\n",
		o.CPUPerClaimOff, SampledTraces*100, o.CPUPerClaimSampled, o.SampledRatio, o.CPUPerClaimOn, o.Ratio)
	fmt.Fprintf(w, "  the collector took %d exports, %s bytes\n", o.TraceExports, count(float64(o.TraceBytes)))
	crowds := append(append(append([]*crowd.Result{}, o.Off...), o.Sampled...), o.On...)
	held := 0
	for _, c := range crowds {
		if len(c.Failed()) > 0 {
			printInvariants(w, c)
			continue
		}
		held++
	}
	fmt.Fprintf(w, "  invariants: all held in %d of the %d crowds\n", held, len(crowds))
}

// printCrowdRun writes one crowd's counts, latencies and server CPU.
func printCrowdRun(w io.Writer, title, units string, c *crowd.Result, cpu map[string]float64) {
	n := c.Counts
	fmt.Fprintf(w, "\n%s: %d clicks (%d users, %d %s, %s loop) in %.1f s; %d winners, %d settled, %d rejected %v\n",
		title, n.Clicks, c.Users, c.Campaign.Stock, units, c.Mode, c.Seconds, n.Winners, n.Settled, n.Rejected, n.Reasons)
	printLatencies(w, "latency ms", []latencyRow{{"accept", c.Latency.Accept}, {"decide", c.Latency.Decide}, {"settle", c.Latency.Settle}})
	fmt.Fprintf(w, "  server CPU %.2f ms per claim on %d cores (%s); errors %v\n",
		c.ServerCPUPerClaimMicros/1000, c.Cores, byProcess(cpu, 6), c.Errors)
}

// printInvariants names every invariant of c that failed, or says all held.
func printInvariants(w io.Writer, c *crowd.Result) {
	if failed := c.Failed(); len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintf(w, "  INVARIANT FAILED %s: %s\n", f.Name, f.Detail)
		}
		return
	}
	fmt.Fprintf(w, "  invariants: all %d held\n", len(c.Invariants))
}

// latencyRow is one line of a latency table.
type latencyRow struct {
	name string
	p    crowd.Percentiles
}

// printLatencies writes rows as a table of percentiles under title.
func printLatencies(w io.Writer, title string, rows []latencyRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  %s\tp50\tp90\tp99\tmax\t\n", title)
	for _, l := range rows {
		fmt.Fprintf(tw, "  %s\t%.1f\t%.1f\t%.1f\t%.1f\t\n", l.name, l.p.P50, l.p.P90, l.p.P99, l.p.Max)
	}
	_ = tw.Flush()
}

// printOpenCrowd gives the decision latency below saturation.
func printOpenCrowd(w io.Writer, c *crowd.Result) {
	n := c.Counts
	fmt.Fprintf(w, "\nOPEN-LOOP CROWD at half the closed loop's win rate: %d users at %.0f arrivals/s for %d units; %d winners, %d rejected\n",
		c.Users, c.Rate, c.Campaign.Stock, n.Winners, n.Rejected)
	printLatencies(w, "decision latency ms",
		[]latencyRow{{"every claim", c.Latency.Decide}, {"winners", c.Latency.WinDecide}, {"sold out", c.Latency.SoldOutDecide}})
	for _, f := range c.Failed() {
		fmt.Fprintf(w, "  INVARIANT FAILED %s: %s\n", f.Name, f.Detail)
	}
}

// printBroker names each trigger's peak backlog and every stall.
func printBroker(w io.Writer, rep Report) {
	if len(rep.Broker) == 0 {
		return
	}
	peak := make(map[string]uint64)
	var names []string
	for _, sm := range rep.Broker {
		for _, tr := range sm.Triggers {
			if _, seen := peak[tr.Trigger]; !seen {
				names = append(names, tr.Trigger)
			}
			peak[tr.Trigger] = max(peak[tr.Trigger], tr.Pending+uint64(tr.AckPending))
		}
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, peak[n]))
	}
	fmt.Fprintf(w, "  broker backlog peaks (events waiting per trigger): %s\n", strings.Join(parts, ", "))
	if len(rep.Stalls) == 0 {
		fmt.Fprintf(w, "  broker stalls (%v or more without a delivery while events waited): none\n", stallMin)
	}
	for _, s := range rep.Stalls {
		fmt.Fprintf(w, "  BROKER STALL: trigger %s delivered nothing from %.0f s to %.0f s with up to %d events waiting (%d deliveries in hand)\n",
			s.Trigger, s.From, s.To, s.Backlog, s.Busy)
	}
}

func printHotspots(w io.Writer, hs []Hotspot) {
	if len(hs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWHERE THE TIME GOES: CPU profiles taken during the runs below half their baseline")
	for i, h := range hs {
		if i == 0 || hs[i-1].Run != h.Run {
			fmt.Fprintf(w, "\n  %s (%s)\n    %.1f s of wall time, %.1f of its %.1f core-seconds busy: %s\n", h.Run, strings.Join(h.Below, ", "),
				h.Seconds, sum(h.CPU), h.Seconds*float64(h.Cores), byProcess(h.CPU, 8))
		}
		fmt.Fprintf(w, "    %s: %.1f s CPU, %.1f s sampled (go tool pprof %s)\n", h.Process, h.CPUSeconds, h.SampledSeconds, h.Profile)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "      flat\twhere the CPU burns\tcum\tSurge's own steps\t")
		for k := range max(len(h.Top), len(h.Own)) {
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t\n", share(h.Top, k, false), name(h.Top, k), share(h.Own, k, true), name(h.Own, k))
		}
		_ = tw.Flush()
	}
}

func share(es []profiling.Entry, k int, cum bool) string {
	switch {
	case k >= len(es):
		return ""
	case cum:
		return fmt.Sprintf("%4.1f%%", 100*es[k].CumShare)
	default:
		return fmt.Sprintf("%4.1f%%", 100*es[k].FlatShare)
	}
}

func name(es []profiling.Entry, k int) string {
	if k >= len(es) {
		return ""
	}
	const width = 60
	if f := strings.TrimPrefix(es[k].Func, "github.com/surgekit/surge/"); len(f) > width {
		return "…" + f[len(f)-width+1:]
	}
	return strings.TrimPrefix(es[k].Func, "github.com/surgekit/surge/")
}

func sum(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}

// byProcess is "broker 12.1 s, captcha 8.0 s, …", the n busiest.
func byProcess(cpu map[string]float64, n int) string {
	names := slices.SortedFunc(maps.Keys(cpu), func(a, b string) int { return cmp.Compare(cpu[b], cpu[a]) })
	parts := make([]string, 0, n)
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f s", name, cpu[name]))
	}
	return strings.Join(parts, ", ")
}

// count is n rounded, with thousands separated: 17,512.
func count(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
