package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Without a container engine, make kind-up must stop at once with one
// clear sentence and a non-zero exit, before it builds or downloads
// anything. (Where an engine runs, the script would create a cluster, so
// the test does not run it there.)
func TestKindUpWithoutEngineSaysSoAtOnce(t *testing.T) {
	if engineRuns() {
		t.Skip("a container engine is running on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../kind/kind-up.sh")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatal("kind-up.sh was still running after 30s without an engine")
	}
	if err == nil {
		t.Fatal("kind-up.sh exited 0 without a container engine")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "No running container engine") {
		t.Fatalf("kind-up.sh said %q; want one sentence naming the missing container engine", stderr.String())
	}
}

func engineRuns() bool {
	for _, engine := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(engine); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := exec.CommandContext(ctx, engine, "info").Run()
		cancel()
		if err == nil {
			return true
		}
	}
	return false
}
