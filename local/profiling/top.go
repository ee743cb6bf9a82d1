package profiling

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/pprof/profile"
)

// Entry is where a function stands in a CPU profile.
type Entry struct {
	Func      string        `json:"func"`
	Flat      time.Duration `json:"flat_ns"`    // CPU in the function itself
	Cum       time.Duration `json:"cum_ns"`     // CPU in it and what it called
	FlatShare float64       `json:"flat_share"` // Flat over the profile's Total
	CumShare  float64       `json:"cum_share"`  // Cum over the profile's Total
}

// Total is the CPU time p sampled; 0 for a profile without cpu/nanoseconds.
func Total(p *profile.Profile) time.Duration {
	i := cpuIndex(p)
	if i < 0 {
		return 0
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[i]
	}
	return time.Duration(total)
}

// Top names the n functions with the most flat CPU in p (every function if
// n <= 0), the most first. Flat goes to the leaf frame of each sample; cum
// to every function on its stack, once per sample however often it recurs.
func Top(p *profile.Profile, n int) []Entry {
	i := cpuIndex(p)
	if i < 0 {
		return nil
	}
	byFunc := make(map[string]*Entry)
	entry := func(name string) *Entry {
		e, ok := byFunc[name]
		if !ok {
			e = &Entry{Func: name}
			byFunc[name] = e
		}
		return e
	}
	for _, s := range p.Sample {
		v := time.Duration(s.Value[i])
		if v == 0 || len(s.Location) == 0 {
			continue
		}
		entry(leaf(s)).Flat += v
		for name := range stack(s) {
			entry(name).Cum += v
		}
	}
	return ranked(byFunc, Total(p), n)
}

// ranked sorts the entries by flat then cum CPU, fills their shares and
// keeps the first n.
func ranked(byFunc map[string]*Entry, total time.Duration, n int) []Entry {
	out := make([]Entry, 0, len(byFunc))
	for _, e := range byFunc {
		if total > 0 {
			e.FlatShare, e.CumShare = float64(e.Flat)/float64(total), float64(e.Cum)/float64(total)
		}
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(b.Flat, a.Flat), cmp.Compare(b.Cum, a.Cum), cmp.Compare(a.Func, b.Func))
	})
	if n > 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

// preemption is the trampoline the Go scheduler pushes onto a goroutine it
// preempts by signal: a sample taken there is time of the function it
// interrupted, which is the frame below.
const preemption = "runtime.asyncPreempt"

// leaf is the function a sample's flat CPU belongs to: its innermost frame,
// past a preemption trampoline.
func leaf(s *profile.Sample) string {
	for _, loc := range s.Location {
		for _, name := range frames(loc) {
			if name != preemption {
				return name
			}
		}
	}
	return preemption
}

// stack is the set of functions on a sample's stack.
func stack(s *profile.Sample) map[string]struct{} {
	set := make(map[string]struct{})
	for _, loc := range s.Location {
		for _, name := range frames(loc) {
			set[name] = struct{}{}
		}
	}
	return set
}

// frames names the functions of a location, innermost first (a location
// holds the functions inlined into its caller too); an unsymbolized one is
// named by its address.
func frames(loc *profile.Location) []string {
	names := make([]string, 0, len(loc.Line))
	for _, l := range loc.Line {
		if l.Function != nil && l.Function.Name != "" {
			names = append(names, l.Function.Name)
		}
	}
	if len(names) == 0 {
		names = append(names, fmt.Sprintf("%#x", loc.Address))
	}
	return names
}

// cpuIndex is the index of the cpu/nanoseconds sample value, -1 if none.
func cpuIndex(p *profile.Profile) int {
	if p == nil {
		return -1
	}
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			return i
		}
	}
	return -1
}
