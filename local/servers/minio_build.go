package servers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/surgekit/surge/local/heartbeat"
)

// MinIO is pinned to one version, built from source once per machine.
const (
	MinIOModule  = "github.com/minio/minio"
	MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// minioBinary returns env SURGE_MINIO_BIN, else the cached build at
// ${XDG_CACHE_HOME:-$HOME/.cache}/surge/bin/minio-<version>, building it
// first when missing. Concurrent builds serialize on a lock file.
func minioBinary(ctx context.Context, log *slog.Logger) (string, error) {
	if p := os.Getenv("SURGE_MINIO_BIN"); p != "" {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("minio cache dir: %w", err)
	}
	binDir := filepath.Join(cache, "surge", "bin")
	bin := filepath.Join(binDir, "minio-"+MinIOVersion)
	if isFile(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", fmt.Errorf("minio cache dir: %w", err)
	}
	err = withFileLock(ctx, filepath.Join(binDir, ".minio-build.lock"), func() error {
		if isFile(bin) { // built by another process while we waited
			return nil
		}
		return buildMinIO(ctx, log, binDir, bin)
	})
	return bin, err
}

// buildMinIO runs go install into a temporary GOBIN next to bin and renames
// the result into place, so bin is either absent or complete.
func buildMinIO(ctx context.Context, log *slog.Logger, binDir, bin string) error {
	gobin, err := os.MkdirTemp(binDir, ".minio-build-")
	if err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	defer os.RemoveAll(gobin)
	log.Info(fmt.Sprintf("building MinIO %s once, cached at %s (takes minutes on a cold Go cache)", MinIOVersion, bin))
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool(), "install", MinIOModule+"@"+MinIOVersion)
	cmd.Dir = os.TempDir() // outside any module or workspace
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	stop := heartbeat.Start(15*time.Second, func(elapsed time.Duration) {
		log.Info("still building MinIO", "elapsed", elapsed)
	})
	out, err := cmd.CombinedOutput()
	stop()
	if err != nil {
		return fmt.Errorf("build minio: go install %s@%s: %w\n%s", MinIOModule, MinIOVersion, err, tailBytes(out, 4096))
	}
	if err := os.Rename(filepath.Join(gobin, "minio"), bin); err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	log.Info("built MinIO", "version", MinIOVersion, "took", time.Since(start).Round(time.Second))
	return nil
}

// goTool is the go command on PATH (make puts the one it runs there).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
