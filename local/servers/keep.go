package servers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// Restart backoff: the first restart comes after minRestartDelay, each
// failed or short-lived one doubles the pause up to maxRestartDelay, and a
// server that stayed up for stableAfter starts again from the minimum.
const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 5 * time.Second
	stableAfter     = time.Minute
	// restartTimeout bounds one restart attempt: PostgreSQL replays its
	// WAL and Redis its AOF before they answer.
	restartTimeout = 2 * time.Minute
)

// keeper keeps one server process alive, as the engine keeps a function:
// when the process dies it is started again by run (same port, same state
// directory), with backoff, until stop.
type keeper struct {
	name string
	addr string
	log  *slog.Logger
	run  func(ctx context.Context) (*proc, error) // starts and waits until ready

	mu   sync.Mutex
	cur  *proc
	up   time.Time // when cur became ready
	quit context.CancelFunc
	done chan struct{} // closed when supervise returns
}

// keepAlive supervises first, restarting it with run when it dies.
func keepAlive(name, addr string, log *slog.Logger, first *proc, run func(context.Context) (*proc, error)) *keeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &keeper{name: name, addr: addr, log: log, run: run, cur: first, up: time.Now(), quit: cancel, done: make(chan struct{})}
	go k.supervise(ctx)
	return k
}

// supervise waits for the current process to die and restarts it. It
// exits when stop cancels ctx.
func (k *keeper) supervise(ctx context.Context) {
	defer close(k.done)
	delay := minRestartDelay
	for {
		p, up := k.current()
		select {
		case <-ctx.Done():
			return
		case <-p.done:
		}
		if time.Since(up) >= stableAfter {
			delay = minRestartDelay
		}
		k.log.Warn(k.name+" died, restarting it from its state directory on the same address",
			"server", k.name, "addr", k.addr, "pid", p.pid(), "exit", fmt.Sprint(p.waitErr), "after", delay)
		if !k.restart(ctx, &delay) {
			return
		}
	}
}

// restart starts the server again, pausing *delay before each attempt and
// doubling it after, until it is ready or ctx ends (false).
func (k *keeper) restart(ctx context.Context, delay *time.Duration) bool {
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(*delay):
		}
		*delay = min(2**delay, maxRestartDelay)
		actx, cancel := context.WithTimeout(ctx, restartTimeout)
		p, err := k.run(actx)
		cancel()
		if err == nil {
			k.mu.Lock()
			k.cur, k.up = p, time.Now()
			k.mu.Unlock()
			k.log.Info(k.name+" restarted", "server", k.name, "addr", k.addr, "pid", p.pid(), "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		k.log.Error(k.name+" restart failed, trying again", "server", k.name, "addr", k.addr,
			"attempt", attempt, "next_in", *delay, "error", err.Error())
	}
}

func (k *keeper) current() (*proc, time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur, k.up
}

// pid is the id of the current process.
func (k *keeper) pid() int {
	p, _ := k.current()
	return p.pid()
}

// stop ends supervision (an attempt under way is abandoned and its
// process killed by run), then stops the current process with sig,
// killing it after timeout.
func (k *keeper) stop(sig syscall.Signal, timeout time.Duration) error {
	k.quit()
	<-k.done
	p, _ := k.current()
	return p.stop(sig, timeout)
}
