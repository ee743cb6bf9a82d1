package servers

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server child process with an append-only file.
type Redis struct {
	port int
	dir  string
	proc *proc
}

// StartRedis starts redis-server with its state (AOF, log) in dir,
// installing it first when it is missing and that is possible.
func StartRedis(ctx context.Context, dir string, log *slog.Logger) (*Redis, error) {
	log = orDiscard(log)
	bin, err := redisBinary(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	r := &Redis{dir: dir}
	err = onFreePorts(ctx, 1, func(ctx context.Context, ports []int) error {
		return r.run(ctx, bin, ports[0])
	})
	if err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	log.Info("redis started", "addr", r.Addr(), "dir", dir, "pid", r.proc.pid())
	return r, nil
}

// run starts the server on port and waits until PING answers.
func (r *Redis) run(ctx context.Context, bin string, port int) error {
	logPath := filepath.Join(r.dir, "redis.log")
	p, err := startProc(procSpec{
		name: "redis-server",
		path: bin,
		args: []string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", r.dir,
			"--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
			"--daemonize", "no", "--protected-mode", "no", "--logfile", logPath,
		},
		dir:     r.dir,
		logPath: logPath,
	})
	if err != nil {
		return err
	}
	r.port, r.proc = port, p
	if err := waitReady(ctx, p, r.ping); err != nil {
		_ = p.stop(syscall.SIGKILL, 5*time.Second)
		return err
	}
	return nil
}

func (r *Redis) ping(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	return c.Ping(ctx).Err()
}

// Addr is host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// URL is "redis://127.0.0.1:PORT/0".
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Dir is the state directory (AOF and redis.log).
func (r *Redis) Dir() string { return r.dir }

// Stop shuts Redis down with SIGTERM (which flushes the AOF), killing it
// after 15 s.
func (r *Redis) Stop() error {
	return r.proc.stop(syscall.SIGTERM, 15*time.Second)
}
