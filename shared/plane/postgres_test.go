package plane_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// TestPostgresPlanesApart: functions starting at once each open both
// planes' pools and migrate them; the shadow plane gets every table in its
// own schema, with its own schema_migrations, and a row written on one
// plane is not seen on the other.
func TestPostgresPlanesApart(t *testing.T) {
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			pools, err := plane.Postgres(ctx, env.DatabaseURL, 2)
			if err == nil {
				defer plane.Close(pools)
				for _, p := range pools {
					err = schema.Migrate(ctx, p)
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pools, err := plane.Postgres(ctx, env.DatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer plane.Close(pools)
	var tables, migrations int
	err = pools[plane.Real].QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`,
		plane.ShadowSchema).Scan(&tables)
	if err != nil || tables < 5 {
		t.Fatalf("%d tables in %s (%v); want every table of the schema", tables, plane.ShadowSchema, err)
	}
	if err := pools[plane.Shadow].QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil || migrations < 1 {
		t.Fatalf("shadow schema_migrations has %d rows (%v)", migrations, err)
	}
	if _, err := pools[plane.Shadow].Exec(ctx, `INSERT INTO campaigns (id, kind, per_user_limit, spec) VALUES ('s', 'sale', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[plane.Plane]int{plane.Real: 0, plane.Shadow: 1} {
		var n int
		if err := pools[p].QueryRow(ctx, `SELECT count(*) FROM campaigns`).Scan(&n); err != nil || n != want {
			t.Errorf("%v plane sees %d campaigns (%v); want %d", p, n, err, want)
		}
	}
}
