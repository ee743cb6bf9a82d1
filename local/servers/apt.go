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

// aptPackage is a Debian package the harness installs when the program it
// brings is missing, as redis-server and chromium are.
type aptPackage struct {
	name    string                // the Debian package
	find    func() (string, bool) // the installed program's path
	missing error                 // what to tell the user when it cannot be installed
}

// installed finds p's program, or installs p with apt-get once, serialized
// across processes (go test runs packages in parallel) by a lock in
// os.TempDir(). apt-get runs as itself when we are root, through `sudo -n`
// when sudo needs no password, and not at all otherwise: then the error is
// p.missing, which says what to install by hand.
func (p aptPackage) installed(ctx context.Context, log *slog.Logger) (string, error) {
	if bin, ok := p.find(); ok {
		return bin, nil
	}
	aptGet, err := aptGetCommand(ctx)
	if err != nil {
		return "", fmt.Errorf("%w (%w)", p.missing, err)
	}
	var bin string
	lock := filepath.Join(os.TempDir(), "surge-"+p.name+"-install.lock")
	err = withFileLock(ctx, lock, func() error {
		var ok bool
		if bin, ok = p.find(); ok { // another package installed it meanwhile
			return nil
		}
		log.Info("installing with apt-get", "package", p.name)
		stop := heartbeat.Start(10*time.Second, func(elapsed time.Duration) {
			log.Info("still installing with apt-get", "package", p.name, "elapsed", elapsed)
		})
		err := aptInstall(ctx, aptGet, p.name)
		stop()
		if err != nil {
			return fmt.Errorf("%w; %w", p.missing, err)
		}
		if bin, ok = p.find(); !ok {
			return p.missing
		}
		return nil
	})
	return bin, err
}

// aptGetCommand is the command line that runs apt-get with the rights to
// install: apt-get as root, `sudo -n apt-get` for a user whose sudo asks
// no password.
func aptGetCommand(ctx context.Context) ([]string, error) {
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return nil, errors.New("no apt-get on this machine")
	}
	if os.Geteuid() == 0 {
		return []string{aptGet}, nil
	}
	sudo, err := exec.LookPath("sudo")
	if err != nil {
		return nil, errors.New("not root and no sudo")
	}
	if err := exec.CommandContext(ctx, sudo, "-n", "true").Run(); err != nil {
		return nil, errors.New("not root and sudo asks for a password")
	}
	return []string{sudo, "-n", aptGet}, nil
}

func aptInstall(ctx context.Context, aptGet []string, pkg string) error {
	steps := [][]string{{"update"}, {"install", "-y", pkg}}
	for _, args := range steps {
		argv := append(append([]string{}, aptGet[1:]...), args...)
		cmd := exec.CommandContext(ctx, aptGet[0], argv...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", args[0], err, tailBytes(out, 2048))
		}
	}
	return nil
}

// findProgram looks for the first of names on the PATH, then in dirs.
func findProgram(names []string, dirs ...string) (string, bool) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	for _, name := range names {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p, true
			}
		}
	}
	return "", false
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
