package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/surgekit/surge/shared/socket"
)

// process runs one binary and restarts it when it dies, as Kubernetes
// restarts a crashed container, until it is stopped.
type process struct {
	name string
	bin  string
	args []string
	env  []string
	logf string
	log  *slog.Logger
	// addr is where the process serves. The engine binds it and hands the
	// socket down at each start: bound at the first, a new bind of addr
	// after a crash (the port is free meanwhile, so calls to a dead
	// process are refused, as to a crashed pod).
	addr  string
	bound *net.TCPListener

	mu       sync.Mutex
	cmd      *exec.Cmd
	stopping bool
	restarts int
	killed   *exec.Cmd // the current process already got SIGKILL
	done     chan struct{}
}

// restartDelay is the pause before a crashed process is started again.
const restartDelay = 100 * time.Millisecond

func (p *process) start() error {
	p.done = make(chan struct{})
	cmd, err := p.spawn()
	if err != nil {
		return err
	}
	p.cmd = cmd
	go p.supervise()
	return nil
}

func (p *process) spawn() (*exec.Cmd, error) {
	out, err := os.OpenFile(p.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", p.name, err)
	}
	defer out.Close() // the child holds its own descriptor
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append([]string{}, p.env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	ln := p.bound
	p.bound = nil
	if ln == nil {
		if ln, err = bind(p.addr); err != nil {
			return nil, fmt.Errorf("start %s: %w", p.name, err)
		}
	}
	sock, err := socket.Pass(cmd, ln)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	defer sock.Close()
	err = cmd.Start()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	return cmd, nil
}

// supervise waits for the process and restarts it unless it was stopped.
// It exits when stop has been called and the process is gone.
func (p *process) supervise() {
	defer close(p.done)
	for {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		err := cmd.Wait()
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if stopping {
			return
		}
		p.log.Warn("process died, restarting", "process", p.name, "error", fmt.Sprint(err))
		time.Sleep(restartDelay)
		if err := p.respawn(); err != nil {
			p.log.Error("restart failed", "process", p.name, "error", err.Error())
			return
		}
	}
}

// respawn holds the lock while it starts the process, so stop never
// signals a process that is being replaced.
func (p *process) respawn() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return nil
	}
	cmd, err := p.spawn()
	if err != nil {
		return err
	}
	p.cmd = cmd
	p.restarts++
	return nil
}

// stop sends SIGTERM, waits up to grace for a drain, then SIGKILL.
func (p *process) stop(ctx context.Context, grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	cmd := p.cmd
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process must run to drain
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// signal delivers sig to the current process (SIGSTOP/SIGCONT pause and
// resume it: a function that stops answering without dying). A second
// SIGKILL before the restart finds os.ErrProcessDone: the killed process
// may linger unreaped for a moment, and a signal to it would still
// succeed, though there is nothing left to kill.
func (p *process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sig == syscall.SIGKILL && p.killed == p.cmd {
		return os.ErrProcessDone
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		p.killed = p.cmd
	}
	return nil
}

// pid is the id of the current process.
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}
