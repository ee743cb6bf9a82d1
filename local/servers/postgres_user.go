package servers

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pgUser is who runs initdb and postgres. initdb refuses to run as root, so
// as root it is the postgres system user; otherwise the current user.
type pgUser struct {
	uid, gid int
	cred     *syscall.Credential // nil: run as ourselves
}

func postgresUser() (pgUser, error) {
	if os.Geteuid() != 0 {
		return pgUser{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return pgUser{}, fmt.Errorf("running as root, initdb needs the postgres system user: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return pgUser{}, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return pgUser{}, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return pgUser{uid: uid, gid: gid, cred: cred}, nil
}

// own makes dir (created 0700 when missing) belong to the user.
func (u pgUser) own(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if u.cred == nil {
		return nil
	}
	return os.Chown(dir, u.uid, u.gid)
}

// reach makes every parent of dir traversable by the user. Only
// directories under os.TempDir() (0700 test dirs) are opened up, and only
// with o+x; anywhere else a closed parent is reported, not changed.
func (u pgUser) reach(dir string) error {
	if u.cred == nil {
		return nil
	}
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if err := u.traverse(d, tmp); err != nil {
			return err
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (u pgUser) traverse(d, tmp string) error {
	st, err := os.Stat(d)
	if err != nil {
		return err
	}
	mode := st.Mode().Perm()
	sys, _ := st.Sys().(*syscall.Stat_t)
	if mode&0o001 != 0 || (sys != nil && int(sys.Uid) == u.uid && mode&0o100 != 0) {
		return nil
	}
	if !strings.HasPrefix(d, tmp+string(filepath.Separator)) {
		return fmt.Errorf("directory %s is not traversable by the postgres user (uid %d): chmod o+x it or use a state dir elsewhere", d, u.uid)
	}
	return os.Chmod(d, mode|0o001)
}
