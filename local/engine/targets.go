package engine

import "fmt"

// Targets maps "broker", "gateway" (once it runs) and every function
// instance (name, name-2, …) to its own base URL: where each serves
// /debug/pprof when Config.Profiling is set.
func (e *Engine) Targets() map[string]string {
	t := map[string]string{"broker": e.brokerURL}
	if e.gwURL != "" {
		t["gateway"] = e.gwURL
	}
	for name, urls := range e.instances() {
		for i, url := range urls {
			if i == 0 {
				t[name] = url
			} else {
				t[fmt.Sprintf("%s-%d", name, i+1)] = url
			}
		}
	}
	return t
}

// PIDs maps "broker" and every function to the id of its current process
// (a new one after a restart).
func (e *Engine) PIDs() map[string]int {
	pids := make(map[string]int, len(e.procs))
	for name, p := range e.procs {
		pids[name] = p.pid()
	}
	return pids
}
