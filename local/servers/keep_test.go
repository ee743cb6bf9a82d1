package servers

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestKeepsRedisAlive kills redis-server with SIGKILL and expects it back
// on the same address, with the key it had (replayed from its AOF).
func TestKeepsRedisAlive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := StartRedis(ctx, filepath.Join(t.TempDir(), "redis"), testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	setKey(ctx, t, r.URL(), "kept", "yes")
	addr, pid := r.Addr(), r.PID()

	killAndWait(ctx, t, pid, syscall.SIGKILL, r.PID)
	if r.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", r.Addr(), addr)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if v, err := c.Get(ctx, "kept").Result(); err != nil || v != "yes" {
		t.Fatalf("after kill -9: GET kept = %q, %v; want yes (AOF)", v, err)
	}
}

// TestKeepsPostgresAlive stops the postmaster as `pg_ctl stop -m
// immediate` does (SIGQUIT: no checkpoint, crash recovery at the next
// start), then kills it with SIGKILL, and expects it back each time on the
// same address with its committed rows.
func TestKeepsPostgresAlive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // postgres may run as another user
		t.Fatal(err)
	}
	pg, err := StartPostgres(ctx, PostgresOptions{Dir: filepath.Join(dir, "postgres"), Fsync: true, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	url, err := pg.CreateDatabase(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	execSQL(ctx, t, url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	addr := pg.Addr()

	// SIGQUIT is pg_ctl stop -m immediate; SIGKILL leaves the backends
	// behind for a moment, holding the shared memory a new postmaster
	// refuses to start beside, so the first restarts may fail and back off.
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		killAndWait(ctx, t, pg.PID(), sig, pg.PID)
		if pg.Addr() != addr {
			t.Fatalf("after %v: restarted on %s, want %s", sig, pg.Addr(), addr)
		}
		var got string
		if err := connect(ctx, t, url).QueryRow(ctx, "SELECT v FROM kept").Scan(&got); err != nil || got != "still here" {
			t.Fatalf("after %v: SELECT v = %q, %v; want %q", sig, got, err, "still here")
		}
		// The admin pool's idle connections died with the server: a call
		// may fail once on one of them (the pool drops it), then it
		// reconnects.
		err = eventually(ctx, func() error { _, err := pg.CreateDatabase(ctx, "after_"+strconv.Itoa(int(sig))); return err })
		if err != nil {
			t.Fatalf("after %v: CreateDatabase: %v", sig, err)
		}
	}
}

// eventually calls f until it succeeds, a few times over a few seconds.
func eventually(ctx context.Context, f func() error) error {
	var err error
	for range 50 {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// killAndWait sends sig to pid and waits until pidNow reports another
// process: the keeper restarted the server and it answered its check.
func killAndWait(ctx context.Context, t *testing.T, pid int, sig syscall.Signal, pidNow func() int) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	begin := time.Now()
	for pidNow() == pid {
		select {
		case <-ctx.Done():
			t.Fatalf("pid %d not replaced: %v", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Logf("restarted as pid %d in %s", pidNow(), time.Since(begin).Round(time.Millisecond))
}

func testLog() *slog.Logger { return slog.New(slog.NewTextHandler(os.Stderr, nil)) }
