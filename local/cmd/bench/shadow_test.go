package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
)

// TestBenchShadowLeavesRealPlaneAlone drives a running engine by URL with
// -shadow (the click phase and the crowd): the run succeeds, reading its
// progress from the shadow keys and schema, and the real plane has no
// campaign, no key and no order of it.
func TestBenchShadowLeavesRealPlaneAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an engine")
	}
	bin := buildBench(t)
	e, env, secrets := testEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(tiny, "-out", t.TempDir(), "-url", e.URL(), "-shadow",
		"-only", "click,crowd", "-click-window", "500ms")...)
	cmd.Env = append(os.Environ(), "SURGE_ADMIN_TOKEN="+secrets.AdminToken, "SURGE_JWT_SECRET="+secrets.JWTSecret,
		"SURGE_REDIS_URL="+env.RedisURL, "SURGE_KEY_PREFIX="+env.KeyPrefix, "SURGE_DATABASE_URL="+env.DatabaseURL)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench -shadow: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "invariants: all") {
		t.Errorf("table does not say every invariant held:\n%s", stdout.String())
	}
	pool := servertest.Postgres(t, env, 2)
	rdb := servertest.Redis(t, env, 2)
	base := keyspace.New(env.KeyPrefix)
	for _, p := range plane.All() {
		var campaigns, orders int
		table := map[plane.Plane]string{plane.Real: "public", plane.Shadow: plane.ShadowSchema}[p]
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+table+`.campaigns), (SELECT count(*) FROM `+table+`.orders)`).
			Scan(&campaigns, &orders); err != nil {
			t.Fatal(err)
		}
		keys, err := rdb.Keys(ctx, p.Keys(base).Campaign("*").Meta()).Result()
		if err != nil {
			t.Fatal(err)
		}
		some, none := campaigns > 0 && orders > 0 && len(keys) > 0, campaigns == 0 && orders == 0 && len(keys) == 0
		if (p == plane.Shadow && !some) || (p == plane.Real && !none) {
			t.Errorf("%v plane: %d campaigns, %d orders, %d campaign keys; want some on the shadow plane, none on the real one",
				p, campaigns, orders, len(keys))
		}
	}
}
