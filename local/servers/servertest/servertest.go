// Package servertest gives each test package one set of real dependency
// servers and each test a fresh database, Redis key prefix and bucket.
//
//	var deps *servers.Set
//
//	func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }
//
//	func TestSomething(t *testing.T) {
//		env := servertest.Fresh(t, deps)
//		...
//	}
package servertest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
)

// startTimeout covers a first MinIO build on a cold Go cache.
const startTimeout = 20 * time.Minute

// Main starts one servers.Set in a temporary directory (fsync off), stores
// it in *deps, runs the tests, stops the servers and removes the
// directory. It returns the exit code for os.Exit. When the servers cannot
// be started it prints why and returns 1: tests never skip silently.
func Main(m *testing.M, deps **servers.Set) int {
	dir, err := os.MkdirTemp("", "surge-servers-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "servertest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *deps, err = start(dir, log); err != nil {
		fmt.Fprintf(os.Stderr, "servertest: cannot start the dependency servers: %v\n", err)
		return 1
	}
	code := m.Run()
	if err := (*deps).Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "servertest: stop servers: %v\n", err)
		code = max(code, 1)
	}
	return code
}

func start(dir string, log *slog.Logger) (*servers.Set, error) {
	// MkdirTemp makes dir 0700; PostgreSQL runs as another user when we
	// are root and must traverse it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return servers.Start(ctx, servers.Options{Dir: dir, Fsync: false, Log: log})
}
