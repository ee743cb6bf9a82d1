package servers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// errNoPostgres is returned when no PostgreSQL server binaries are found.
var errNoPostgres = errors.New("postgresql server binaries (initdb, postgres) not found: install them (Debian/Ubuntu: apt-get install postgresql) or set SURGE_PG_BIN")

// postgresBinDir finds the directory holding initdb and postgres: env
// SURGE_PG_BIN, else the highest /usr/lib/postgresql/<v>/bin, else
// `pg_config --bindir`, else PATH.
func postgresBinDir() (string, error) {
	if d := os.Getenv("SURGE_PG_BIN"); d != "" {
		if !hasPostgres(d) {
			return "", fmt.Errorf("SURGE_PG_BIN=%s has no initdb and postgres", d)
		}
		return d, nil
	}
	for _, find := range []func() string{debianBinDir, pgConfigBinDir, pathBinDir} {
		if d := find(); d != "" && hasPostgres(d) {
			return d, nil
		}
	}
	return "", errNoPostgres
}

func hasPostgres(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// debianBinDir returns the bin dir of the highest major version installed
// under /usr/lib/postgresql.
func debianBinDir() string {
	entries, _ := os.ReadDir("/usr/lib/postgresql")
	var versions []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil && hasPostgres(debianDir(v)) {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return ""
	}
	return debianDir(slices.Max(versions))
}

func debianDir(v int) string {
	return filepath.Join("/usr/lib/postgresql", strconv.Itoa(v), "bin")
}

func pgConfigBinDir() string {
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func pathBinDir() string {
	p, err := exec.LookPath("postgres")
	if err != nil {
		return ""
	}
	return filepath.Dir(p)
}
