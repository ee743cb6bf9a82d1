package click

import (
	"syscall"
	"time"
)

// ProcessCPU is this process's own CPU time so far (user + system), 0 when
// it cannot be read.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUShare is cpu as a share of what cores could give in wall: 1 is every
// core busy the whole time.
func CPUShare(cpu, wall time.Duration, cores int) float64 {
	if wall <= 0 || cores <= 0 {
		return 0
	}
	return cpu.Seconds() / (wall.Seconds() * float64(cores))
}
