package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/surgekit/surge/local/heartbeat"
)

// errNoRedis is returned when redis-server is missing and cannot be installed.
var errNoRedis = errors.New("redis-server not found on PATH or in /usr/bin, /usr/sbin, /usr/local/bin: install it (Debian/Ubuntu: apt-get install redis-server)")

// redisBinary finds redis-server; as root on Debian it installs it once,
// serialized across processes by a lock in os.TempDir().
func redisBinary(ctx context.Context, log *slog.Logger) (string, error) {
	if bin, ok := findRedis(); ok {
		return bin, nil
	}
	if os.Geteuid() != 0 {
		return "", errNoRedis
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return "", errNoRedis
	}
	var bin string
	lock := filepath.Join(os.TempDir(), "surge-redis-install.lock")
	err = withFileLock(ctx, lock, func() error {
		var ok bool
		if bin, ok = findRedis(); ok { // another package installed it meanwhile
			return nil
		}
		log.Info("installing redis-server with apt-get")
		stop := heartbeat.Start(10*time.Second, func(elapsed time.Duration) {
			log.Info("still installing redis-server with apt-get", "elapsed", elapsed)
		})
		err := aptInstall(ctx, aptGet)
		stop()
		if err != nil {
			return fmt.Errorf("%w; %w", errNoRedis, err)
		}
		if bin, ok = findRedis(); !ok {
			return errNoRedis
		}
		return nil
	})
	return bin, err
}

func findRedis() (string, bool) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		p := filepath.Join(d, "redis-server")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func aptInstall(ctx context.Context, aptGet string) error {
	steps := [][]string{{"update"}, {"install", "-y", "redis-server"}}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", args[0], err, tailBytes(out, 2048))
		}
	}
	return nil
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
