package servers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// startSet starts a Set in dir and stops it at cleanup (Stop twice is fine).
func startSet(t *testing.T, dir string) *Set {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	begin := time.Now()
	s, err := Start(ctx, Options{Dir: dir, Log: log})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %s", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func TestSet(t *testing.T) {
	dir := t.TempDir()
	s := startSet(t, dir)
	ctx := context.Background()

	t.Run("redis", func(t *testing.T) { checkRedis(ctx, t, s.Redis) })
	t.Run("postgres", func(t *testing.T) { checkPostgres(ctx, t, s.Postgres) })
	t.Run("minio", func(t *testing.T) { checkMinIO(ctx, t, s.MinIO) })
	t.Run("stop", func(t *testing.T) { checkStop(t, s) })
}

func checkRedis(ctx context.Context, t *testing.T, r *Redis) {
	opt, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", r.URL(), err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v; want %q", got, err, "v")
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "appendonlydir")); err != nil {
		t.Fatalf("AOF dir: %v", err)
	}
}

func checkPostgres(ctx context.Context, t *testing.T, pg *Postgres) {
	url, err := pg.CreateDatabase(ctx, "check_db")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "check_db" {
		t.Fatalf("current_database() = %q, %v; want check_db", db, err)
	}
	if _, err := pg.CreateDatabase(ctx, "check_db"); !errors.Is(err, ErrDatabaseExists) {
		t.Fatalf("CreateDatabase twice: err = %v; want ErrDatabaseExists", err)
	}
	// DropDatabase must disconnect the open session (WITH (FORCE)).
	if err := pg.DropDatabase(ctx, "check_db"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.CreateDatabase(ctx, "Bad-Name"); err == nil {
		t.Fatal(`CreateDatabase("Bad-Name") succeeded; want an error`)
	}
}

func checkMinIO(ctx context.Context, t *testing.T, m *MinIO) {
	if err := m.CreateBucket(ctx, "check-bucket"); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateBucket(ctx, "check-bucket"); err != nil {
		t.Fatalf("CreateBucket of a bucket we own: %v; want nil", err)
	}
	c := m.Client()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("check-bucket"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("check-bucket"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	if got, _ := io.ReadAll(out.Body); string(got) != "hello" {
		t.Fatalf("GetObject body = %q; want %q", got, "hello")
	}
}

// checkStop stops the Set and checks that no server process, nor any
// PostgreSQL backend, is left.
func checkStop(t *testing.T, s *Set) {
	pids := []int{s.Redis.PID(), s.Postgres.PID(), s.MinIO.PID()}
	pids = append(pids, childrenOf(t, s.Postgres.PID())...)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			kids = append(kids, kid)
		}
	}
	if len(kids) == 0 {
		t.Fatalf("postmaster %d has no children; want its background processes", pid)
	}
	return kids
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := startSet(t, dir)
	url, err := s.Postgres.CreateDatabase(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	execSQL(ctx, t, url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	setKey(ctx, t, s.Redis.URL(), "kept", "yes")
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	s = startSet(t, dir)
	var got string
	conn := connect(ctx, t, s.Postgres.URL("keep"))
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&got); err != nil || got != "still here" {
		t.Fatalf("after restart: SELECT v = %q, %v; want %q", got, err, "still here")
	}
	opt, _ := redis.ParseURL(s.Redis.URL())
	c := redis.NewClient(opt)
	defer c.Close()
	if v, err := c.Get(ctx, "kept").Result(); err != nil || v != "yes" {
		t.Fatalf("after restart: redis GET kept = %q, %v; want yes (AOF)", v, err)
	}
}

func connect(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func execSQL(ctx context.Context, t *testing.T, url, sql string) {
	t.Helper()
	if _, err := connect(ctx, t, url).Exec(ctx, sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func setKey(ctx context.Context, t *testing.T, url, k, v string) {
	t.Helper()
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.Set(ctx, k, v, 0).Err(); err != nil {
		t.Fatalf("SET %s: %v", k, err)
	}
}
