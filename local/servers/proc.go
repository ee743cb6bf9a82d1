package servers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// errAddrInUse marks a server that exited because its port was taken
// between picking it and binding it; the caller retries with another port.
var errAddrInUse = errors.New("address already in use")

// procSpec describes one child process.
type procSpec struct {
	name    string
	path    string
	args    []string
	env     []string // added to the parent's environment
	dir     string
	logPath string // stdout and stderr are appended here
	cred    *syscall.Credential
}

// proc is a running child process that we own.
type proc struct {
	name     string
	cmd      *exec.Cmd
	logPath  string
	logStart int64 // log size before this run, so tails show this run only
	done     chan struct{}
	waitErr  error // valid once done is closed
}

// startProc starts the child with its output appended to spec.logPath. The
// child gets its own process group (a terminal Ctrl-C reaches only us, and
// we stop children in order) and SIGKILL when we die.
func startProc(spec procSpec) (*proc, error) {
	f, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", spec.name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s log: %w", spec.name, err)
	}
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir = spec.dir
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig:  syscall.SIGKILL,
		Setpgid:    true,
		Credential: spec.cred,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", spec.path, err)
	}
	p := &proc{name: spec.name, cmd: cmd, logPath: spec.logPath, logStart: st.Size(), done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *proc) wait() {
	p.waitErr = p.cmd.Wait()
	close(p.done)
}

// pid is the child's process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited (and been reaped).
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to timeout, then kills the child. It returns an
// error only when the child had to be killed.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("stop %s: no exit %s after %s, killed", p.name, timeout, sig)
}

// exitErr describes an early exit, with the tail of this run's log.
func (p *proc) exitErr() error {
	tail := p.tail()
	err := fmt.Errorf("%s exited: %v\n%s", p.name, p.waitErr, tail)
	if bytes.Contains(bytes.ToLower([]byte(tail)), []byte("already in use")) {
		return fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return err
}

// tail returns the last few KiB this run wrote to the log.
func (p *proc) tail() string {
	return fileTail(p.logPath, p.logStart, 4096)
}

// fileTail returns at most n bytes from the end of path, not before from.
func fileTail(path string, from, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	start := max(from, st.Size()-n, 0)
	b, _ := io.ReadAll(io.NewSectionReader(f, start, st.Size()-start))
	return "--- " + path + " ---\n" + string(b)
}

// waitReady polls check until it succeeds, the child exits or ctx ends.
func waitReady(ctx context.Context, p *proc, check func(ctx context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if p.exited() {
			return p.exitErr()
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v)\n%s", p.name, ctx.Err(), last, p.tail())
		case <-p.done:
		case <-tick.C:
		}
	}
}

// readyOrStop waits until p is ready (see waitReady), stopping it with sig
// (then SIGKILL) when it does not get there.
func readyOrStop(ctx context.Context, p *proc, check func(ctx context.Context) error, sig syscall.Signal) error {
	if err := waitReady(ctx, p, check); err != nil {
		_ = p.stop(sig, 5*time.Second)
		return err
	}
	return nil
}
