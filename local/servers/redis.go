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
	keep *keeper
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
	var first *proc
	err = onFreePorts(ctx, 1, func(ctx context.Context, ports []int) (err error) {
		r.port = ports[0]
		first, err = r.run(ctx, bin)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	r.keep = keepAlive("redis-server", r.Addr(), log, first, func(ctx context.Context) (*proc, error) {
		return r.run(ctx, bin)
	})
	log.Info("redis started", "addr", r.Addr(), "dir", dir, "pid", r.PID())
	return r, nil
}

// run starts the server on r.port and waits until PING answers; it replays
// the AOF in r.dir first.
func (r *Redis) run(ctx context.Context, bin string) (*proc, error) {
	port := r.port
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
		return nil, err
	}
	return p, readyOrStop(ctx, p, r.ping, syscall.SIGKILL)
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

// PID is the process id of the running redis-server (a new one after a
// restart).
func (r *Redis) PID() int { return r.keep.pid() }

// Stop ends the supervision and shuts Redis down with SIGTERM (which
// flushes the AOF), killing it after 15 s.
func (r *Redis) Stop() error {
	return r.keep.stop(syscall.SIGTERM, 15*time.Second)
}
