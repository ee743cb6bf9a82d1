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
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return 0, fmt.Errorf("read /proc: %w (Linux only)", err)
	}
	parent := make(map[int]int, len(stats))
	ticks := make(map[int]int64, len(stats))
	for _, p := range stats {
		pid, ppid, t, ok := procStat(p)
		if ok {
			parent[pid], ticks[pid] = ppid, t
		}
	}
	var sum int64
	for pid, t := range ticks {
		if (self && pid == root) || descends(pid, root, parent) {
			sum += t
		}
	}
	return time.Duration(sum) * time.Second / clockTick, nil
}

func descends(pid, root int, parent map[int]int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		pid = parent[pid]
		if pid == root {
			return true
		}
	}
	return false
}

// procStat reads pid, ppid and utime+stime+cutime+cstime from one
// /proc/<pid>/stat; a process gone meanwhile is skipped.
func procStat(path string) (pid, ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')') // the command may hold spaces and parentheses
	if end < 0 {
		return 0, 0, 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(s[:strings.IndexByte(s, '(')]))
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if err != nil || len(f) < 15 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	for _, i := range []int{11, 12, 13, 14} { // fields 14–17
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return pid, ppid, ticks, true
}

// clientCPU is this process's own CPU time: the crowd's cost.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
