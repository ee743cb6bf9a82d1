package crowd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, 100 on every Linux Surge runs on.
const clockTick = 100

// ChildrenCPU returns the CPU time (user + system, their reaped children
// included) of every process descending from this one: on one machine the
// engine's functions and broker and the dependency servers, when this
// process started them. It reads /proc (Linux only). Pass it as
// Config.ServerCPU.
func ChildrenCPU() (time.Duration, error) { return TreeCPU(os.Getpid(), false) }

// TreeCPU is the CPU time of root's descendants, and of root itself when
// self is true.
func TreeCPU(root int, self bool) (time.Duration, error) {
	procs, err := readProcs()
	if err != nil {
		return 0, err
	}
	var sum int64
	for pid, p := range procs {
		if (self && pid == root) || descends(pid, root, procs) {
			sum += p.ticks
		}
	}
	return ticks(sum), nil
}

// CPUByCommand is the CPU time of root's descendants summed per command
// name (the kernel's comm: "redis-server", "postgres", "broker",
// "prededuct", …): where a run's server time went, process by process.
func CPUByCommand(root int) (map[string]time.Duration, error) {
	procs, err := readProcs()
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Duration)
	for pid, p := range procs {
		if descends(pid, root, procs) {
			out[p.comm] += ticks(p.ticks)
		}
	}
	return out, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTick }

// proc is one line of /proc/<pid>/stat.
type proc struct {
	ppid  int
	comm  string
	ticks int64 // utime+stime+cutime+cstime
}

func readProcs() (map[int]proc, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return nil, fmt.Errorf("read /proc: %w (Linux only)", err)
	}
	procs := make(map[int]proc, len(stats))
	for _, path := range stats {
		if pid, p, ok := procStat(path); ok {
			procs[pid] = p
		}
	}
	return procs, nil
}

func descends(pid, root int, procs map[int]proc) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		pid = procs[pid].ppid
		if pid == root {
			return true
		}
	}
	return false
}

// procStat reads one /proc/<pid>/stat; a process gone meanwhile is skipped.
func procStat(path string) (pid int, p proc, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, p, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')') // comm may hold spaces and parentheses
	if open < 0 || end < open {
		return 0, p, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if err != nil || len(f) < 15 {
		return 0, p, false
	}
	p.comm = s[open+1 : end]
	p.ppid, _ = strconv.Atoi(f[1])
	for _, i := range []int{11, 12, 13, 14} { // fields 14–17
		n, _ := strconv.ParseInt(f[i], 10, 64)
		p.ticks += n
	}
	return pid, p, true
}

// clientCPU is this process's own CPU time: the crowd's cost.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
