package bench

import (
	"cmp"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/surgekit/surge/local/profiling"
)

// watch is what is observed of the processes while one run goes on: the
// CPU each process used and CPU profiles of the named ones.
type watch struct {
	session *profiling.Session
	cpu0    map[string]time.Duration
	begin   time.Time
}

// observed is a finished watch.
type observed struct {
	profiles map[string]*profile.Profile // per profiled process
	paths    map[string]string           // where each was written
	cpu      map[string]time.Duration    // per command, during the run
	elapsed  time.Duration
}

// profile starts watching: CPU by command, and profiles of those of names
// that serve /debug/pprof, in windows of window.
func (r *runner) profile(ctx context.Context, window time.Duration, names ...string) *watch {
	w := &watch{begin: time.Now()}
	w.cpu0, _ = r.cpuByCommand()
	targets := make(map[string]string)
	for _, n := range names {
		if url, ok := r.cfg.Profiled[n]; ok {
			targets[n] = url
		}
	}
	if len(targets) > 0 {
		w.session = profiling.Start(ctx, &http.Client{}, targets, window)
	}
	return w
}

// keepProfiles stops w and keeps what it saw under run (a stage's figure
// or "chain"), writing each profile to <Dir>/profiles/<run>.<process>.pb.gz.
func (r *runner) keepProfiles(run string, w *watch) {
	o := observed{paths: make(map[string]string), elapsed: time.Since(w.begin)}
	if cpu1, err := r.cpuByCommand(); err == nil && w.cpu0 != nil {
		o.cpu = make(map[string]time.Duration)
		for cmd, d := range cpu1 {
			if used := d - w.cpu0[cmd]; used > 0 {
				o.cpu[cmd] = used
			}
		}
	}
	if w.session != nil {
		var err error
		if o.profiles, err = w.session.Stop(); err != nil {
			r.logf("profiles of %s: %v", run, err)
		}
	}
	for name, p := range o.profiles {
		path := filepath.Join(r.cfg.Dir, "profiles", run+"."+name+".pb.gz")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			if err := profiling.Write(path, p); err == nil {
				o.paths[name] = path
			}
		}
	}
	if r.profiles == nil {
		r.profiles = make(map[string]observed)
	}
	r.profiles[run] = o
}

func (r *runner) cpuByCommand() (map[string]time.Duration, error) {
	if r.cfg.CPUByCommand == nil {
		return nil, nil
	}
	return r.cfg.CPUByCommand()
}

// Hotspot is where the time went in one run with figures below half their
// baseline: a process's CPU and the top of its profile.
type Hotspot struct {
	Run            string             `json:"run"`   // a stage's figure, or "chain" for the crowd
	Below          []string           `json:"below"` // the figures below half their baseline
	Process        string             `json:"process"`
	CPUSeconds     float64            `json:"cpu_seconds"`            // the process's CPU during the run
	SampledSeconds float64            `json:"sampled_seconds"`        // CPU the profile sampled
	Profile        string             `json:"profile"`                // go tool pprof <this>
	Top            []profiling.Entry  `json:"top"`                    // by flat share: where the CPU burns
	Own            []profiling.Entry  `json:"own"`                    // Surge's own functions by cumulative share: which of its steps pays
	CPU            map[string]float64 `json:"cpu_by_process_seconds"` // every process during the run
	Seconds        float64            `json:"seconds"`                // the run's wall time
	Cores          int                `json:"cores"`
}

// hotspotTop is how many functions a hotspot names in each list;
// hotspotProcesses how many of the busiest profiled processes of a run it
// looks into.
const (
	hotspotTop       = 10
	hotspotProcesses = 2
)

// hotspots looks into every run with a figure below half its baseline.
func (r *runner) hotspots() []Hotspot {
	below := make(map[string][]string)
	var runs []string
	for _, q := range r.rep.Ratios {
		if !q.Below {
			continue
		}
		run := runOf(q.Figure)
		if _, seen := below[run]; !seen {
			runs = append(runs, run)
		}
		below[run] = append(below[run], q.Figure)
	}
	var out []Hotspot
	for _, run := range runs {
		o := r.profiles[run]
		for _, name := range busiest(o, hotspotProcesses) {
			p := o.profiles[name]
			all := profiling.Top(p, 0)
			out = append(out, Hotspot{Run: run, Below: below[run], Process: name, CPUSeconds: o.cpu[name].Seconds(),
				SampledSeconds: profiling.Total(p).Seconds(), Profile: o.paths[name], Top: burning(all, hotspotTop),
				Own: own(all, hotspotTop), CPU: seconds(o.cpu), Seconds: o.elapsed.Seconds(), Cores: runtime.NumCPU()})
		}
	}
	return out
}

// burning are the entries with CPU of their own, at most n.
func burning(all []profiling.Entry, n int) []profiling.Entry {
	var out []profiling.Entry
	for _, e := range all[:min(n, len(all))] {
		if e.Flat > 0 {
			out = append(out, e)
		}
	}
	return out
}

// own are the entries of Surge's own code (its packages, and package main
// of a function's binary), by cumulative share, at most n.
func own(all []profiling.Entry, n int) []profiling.Entry {
	var out []profiling.Entry
	for _, e := range all {
		if strings.HasPrefix(e.Func, "github.com/surgekit/surge/") || strings.HasPrefix(e.Func, "main.") {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b profiling.Entry) int { return cmp.Compare(b.Cum, a.Cum) })
	return out[:min(n, len(out))]
}

// runOf is the run a figure was measured in.
func runOf(figure string) string {
	if strings.HasPrefix(figure, chainPrefix) {
		return "chain"
	}
	if strings.HasPrefix(figure, rainPrefix) {
		return "rain"
	}
	return figure
}

// busiest are the profiled processes of o that used the most CPU, at most n.
func busiest(o observed, n int) []string {
	names := make([]string, 0, len(o.profiles))
	for name := range o.profiles {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(o.cpu[b], o.cpu[a]); c != 0 {
			return c
		}
		return cmp.Compare(profiling.Total(o.profiles[b]), profiling.Total(o.profiles[a]))
	})
	return names[:min(n, len(names))]
}

func seconds(m map[string]time.Duration) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, d := range m {
		out[k] = d.Seconds()
	}
	return out
}
