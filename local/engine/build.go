package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/surgekit/surge/local/heartbeat"
)

// Build compiles the broker, the gateway and every function into binDir in
// one go invocation (the packages build in parallel), saying every 10 s on
// stderr that it still runs (a cold build takes a minute or more).
func Build(ctx context.Context, root, binDir string) error {
	args := []string{"build", "-o", binDir + string(filepath.Separator), "./local/cmd/broker", "./local/cmd/gateway"}
	for _, name := range Functions() {
		args = append(args, "./functions/"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stop := heartbeat.Start(10*time.Second, func(elapsed time.Duration) {
		fmt.Fprintf(os.Stderr, "engine: still building the broker, the gateway and the functions (%v)\n", elapsed)
	})
	defer stop()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build functions: %w", err)
	}
	return nil
}

// Root finds the repository root (the directory holding go.mod) from dir up.
func Root(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
