package schema_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// tables are those the migrations must create.
var tables = []string{"schema_migrations", "campaigns", "campaign_items", "orders", "stock_slots", "user_units", "switches", "switch_changes"}

// migrations is the number of files in migrations/.
func migrations(t *testing.T) int {
	t.Helper()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func pool(t *testing.T, conns int32) *pgxpool.Pool {
	t.Helper()
	return servertest.Postgres(t, servertest.Fresh(t, deps), conns)
}

// applied returns version → applied_at of schema_migrations.
func applied(t *testing.T, p *pgxpool.Pool) map[string]time.Time {
	t.Helper()
	rows, err := p.Query(context.Background(), "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	got := make(map[string]time.Time)
	for rows.Next() {
		var v string
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func checkTables(t *testing.T, p *pgxpool.Pool) {
	t.Helper()
	for _, name := range tables {
		var reg *string
		if err := p.QueryRow(context.Background(), "SELECT to_regclass($1)::text", name).Scan(&reg); err != nil || reg == nil {
			t.Errorf("table %s: %v, %v; want it to exist", name, reg, err)
		}
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	p := pool(t, 4)
	if err := schema.Migrate(ctx, p); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	first := applied(t, p)
	if got, want := len(first), migrations(t); got != want {
		t.Fatalf("after Migrate, %d versions applied; want %d", got, want)
	}
	if _, err := p.Exec(ctx, `INSERT INTO campaigns (id, kind, per_user_limit, spec) VALUES ('kept', 'sale', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(ctx, p); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	second := applied(t, p)
	for v, at := range first {
		if !second[v].Equal(at) {
			t.Errorf("version %s applied_at %v after the second Migrate; want %v (not reapplied)", v, second[v], at)
		}
	}
	if len(second) != len(first) {
		t.Errorf("second Migrate: %d versions; want %d", len(second), len(first))
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM campaigns").Scan(&n); err != nil || n != 1 {
		t.Errorf("campaigns after the second Migrate = %d, %v; want the 1 row kept", n, err)
	}
	checkTables(t, p)
}

// TestMigrateConcurrent starts n migrators at once on a fresh database, as
// n functions starting together do, in several rounds: without the advisory
// lock, concurrent CREATE TABLE IF NOT EXISTS fails (pg_type 23505).
func TestMigrateConcurrent(t *testing.T) {
	const n, rounds = 8, 5
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for round := range rounds {
		p := pool(t, n)
		warm(ctx, t, p, n)
		errs := make(chan error, n)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				<-gate
				errs <- schema.Migrate(ctx, p)
			})
		}
		close(gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: concurrent Migrate: %v", round, err)
			}
		}
		var rows, versions int
		if err := p.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&rows, &versions); err != nil {
			t.Fatal(err)
		}
		if want := migrations(t); rows != want || versions != want {
			t.Errorf("round %d: schema_migrations holds %d rows, %d versions; want %d each (every migration applied once)", round, rows, versions, want)
		}
		checkTables(t, p)
	}
}

// warm opens n connections of p, so the migrators do not wait on dials.
func warm(ctx context.Context, t *testing.T, p *pgxpool.Pool, n int) {
	t.Helper()
	conns := make([]*pgxpool.Conn, 0, n)
	for range n {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}
