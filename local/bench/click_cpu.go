package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/surgekit/surge/local/click"
)

// clickRunOf is the figures of one window as the client saw them.
func clickRunOf(name string, res click.Result) ClickRun {
	return ClickRun{Name: name, Requests: res.Requests, Answered: res.Answered, Errors: res.Errors, Statuses: res.Statuses,
		Seconds: res.Elapsed.Seconds(), PerSecond: res.PerSecond(), AnsweredPerSecond: res.AnsweredPerSecond(),
		Latency: res.Latency, Exhausted: res.Exhausted, ClientCPUSeconds: res.ClientCPU.Seconds(),
		ClientCPUShare: click.CPUShare(res.ClientCPU, res.Elapsed, runtime.NumCPU())}
}

// setServerCPU records each server process's CPU in the window and its sum
// per answered click.
func (c *ClickRun) setServerCPU(cpu map[string]time.Duration) {
	if cpu == nil {
		return
	}
	c.ProcessCPU = seconds(cpu)
	c.ServerCPUSeconds = sum(c.ProcessCPU)
	c.ServerCPUPerClickMicros = perClick(c.ServerCPUSeconds, c.Answered)
}

func perClick(cpuSeconds float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	return cpuSeconds * 1e6 / float64(n)
}

func ratioTo(v, base float64) float64 {
	if base <= 0 {
		return 0
	}
	return v / base
}

// serverCPU is every server process's CPU so far, by command; the whole
// under "servers" when only the total can be read; nil when neither can.
func (r *runner) serverCPU() (map[string]time.Duration, error) {
	if r.cfg.CPUByCommand != nil {
		m, err := r.cfg.CPUByCommand()
		if err != nil {
			return nil, fmt.Errorf("server cpu: %w", err)
		}
		return m, nil
	}
	if r.cfg.ServerCPU != nil {
		d, err := r.cfg.ServerCPU()
		if err != nil {
			return nil, fmt.Errorf("server cpu: %w", err)
		}
		return map[string]time.Duration{"servers": d}, nil
	}
	return nil, nil
}

// delta is what each process used from a to b; nil when either is unknown.
func delta(a, b map[string]time.Duration) map[string]time.Duration {
	if a == nil || b == nil {
		return nil
	}
	out := make(map[string]time.Duration)
	for cmd, d := range b {
		if used := d - a[cmd]; used > 0 {
			out[cmd] = used
		}
	}
	return out
}

// windowCPU makes a run's observed CPU that of its window alone (the
// profiles' last window may end later).
func (r *runner) windowCPU(run string, cpu map[string]time.Duration) {
	if o, ok := r.profiles[run]; ok && cpu != nil {
		o.cpu = cpu
		r.profiles[run] = o
	}
}

// profileWindow is a third of a click window, at least a second, so the
// last profile ends soon after the window.
func profileWindow(window time.Duration) time.Duration { return max(time.Second, window/3) }

func (r *runner) profiledNames() []string {
	names := make([]string, 0, len(r.cfg.Profiled))
	for name := range r.cfg.Profiled {
		names = append(names, name)
	}
	return names
}

func (r *runner) logClick(c ClickRun) {
	r.logf("click    %-24s %10.0f clicks/s, p99 %v, statuses %v", c.Name, c.AnsweredPerSecond,
		c.Latency.P99.Round(10e3), c.Statuses)
	if d := c.Drain; d != nil {
		r.logf("click    %-24s drain: %d of %d decided, %d settled, %.1f s after the last click", c.Name, d.Decided, d.Accepted,
			d.Settled, d.Seconds)
	}
}
