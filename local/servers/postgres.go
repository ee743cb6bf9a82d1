package servers

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	Dir   string // state: data/ (the cluster), run/ (socket), postgres.log
	Fsync bool   // false: fsync, synchronous_commit and full_page_writes off (tests)
	Log   *slog.Logger
}

// Postgres is a postgres child process owning one cluster. The superuser
// is "postgres" with trust authentication on 127.0.0.1.
type Postgres struct {
	port  int
	opt   PostgresOptions
	bin   string
	user  pgUser
	keep  *keeper
	admin *pgxpool.Pool // to the "postgres" database, for Create/DropDatabase
}

// StartPostgres initializes the cluster under opt.Dir unless it already
// exists (data survives restarts), starts postgres and waits until a
// connection works.
func StartPostgres(ctx context.Context, opt PostgresOptions) (*Postgres, error) {
	opt.Log = orDiscard(opt.Log)
	pg, err := preparePostgres(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	var first *proc
	err = onFreePorts(ctx, 1, func(ctx context.Context, ports []int) (err error) {
		pg.port = ports[0]
		first, err = pg.run(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	pg.keep = keepAlive("postgres", pg.Addr(), opt.Log, first, pg.run)
	if err := pg.openAdmin(ctx); err != nil {
		_ = pg.Stop()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	opt.Log.Info("postgres started", "addr", pg.Addr(), "dir", opt.Dir, "pid", pg.PID(), "fsync", opt.Fsync)
	return pg, nil
}

// preparePostgres finds the binaries and user and makes the directories
// and the cluster ready.
func preparePostgres(ctx context.Context, opt PostgresOptions) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	u, err := postgresUser()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{opt: opt, bin: bin, user: u}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := u.reach(pg.dataDir()); err != nil {
		return nil, err
	}
	for _, d := range []string{pg.dataDir(), pg.socketDir()} {
		if err := u.own(d); err != nil {
			return nil, err
		}
	}
	return pg, pg.initdb(ctx)
}

func (pg *Postgres) dataDir() string { return filepath.Join(pg.opt.Dir, "data") }

// socketDir is run/ in the state dir, or a directory in os.TempDir()
// named after the state dir when that path is too long for a Unix socket.
func (pg *Postgres) socketDir() string {
	d := filepath.Join(pg.opt.Dir, "run")
	if len(d)+len("/.s.PGSQL.65535") < 100 {
		return d
	}
	sum := sha256.Sum256([]byte(d))
	return filepath.Join(os.TempDir(), fmt.Sprintf("surge-pg-%x", sum[:8]))
}

func (pg *Postgres) logPath() string { return filepath.Join(pg.opt.Dir, "postgres.log") }

// initdb creates the cluster unless data/PG_VERSION shows there is one.
func (pg *Postgres) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(pg.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	pg.opt.Log.Info("initializing postgres cluster", "dir", pg.dataDir())
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, "initdb"),
		"-D", pg.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	cmd.Dir = pg.opt.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: pg.user.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, tailBytes(out, 4096))
	}
	return nil
}

// run starts postgres on pg.port and waits until it accepts connections
// (after crash recovery, when the last run did not shut down cleanly).
func (pg *Postgres) run(ctx context.Context) (*proc, error) {
	p, err := startProc(procSpec{
		name:    "postgres",
		path:    filepath.Join(pg.bin, "postgres"),
		args:    pg.args(pg.port),
		dir:     pg.opt.Dir,
		logPath: pg.logPath(),
		cred:    pg.user.cred,
	})
	if err != nil {
		return nil, err
	}
	return p, readyOrStop(ctx, p, pg.ping, syscall.SIGQUIT)
}

func (pg *Postgres) args(port int) []string {
	args := []string{
		"-D", pg.dataDir(), "-p", strconv.Itoa(port), "-k", pg.socketDir(),
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=128MB",
	}
	if !pg.opt.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return args
}

func (pg *Postgres) ping(ctx context.Context) error {
	c, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func (pg *Postgres) openAdmin(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(pg.URL("postgres") + "&pool_max_conns=4")
	if err != nil {
		return fmt.Errorf("admin pool: %w", err)
	}
	pg.admin, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("admin pool: %w", err)
	}
	return nil
}

// Addr is host:port.
func (pg *Postgres) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.port)) }

// URL is "postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable".
func (pg *Postgres) URL(database string) string {
	return "postgres://postgres@" + pg.Addr() + "/" + database + "?sslmode=disable"
}

// Dir is the state directory.
func (pg *Postgres) Dir() string { return pg.opt.Dir }

// PID is the process id of the running postmaster (a new one after a
// restart).
func (pg *Postgres) PID() int { return pg.keep.pid() }

// Stop closes the admin pool, ends the supervision and shuts postgres down
// with SIGINT (fast shutdown), killing it after 30 s.
func (pg *Postgres) Stop() error {
	if pg.admin != nil {
		pg.admin.Close()
	}
	return pg.keep.stop(syscall.SIGINT, 30*time.Second)
}
