package switches

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

type fixture struct {
	rdb   *redis.Client
	keys  keyspace.Space
	board *Board
}

func fresh(t *testing.T) fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	pool := servertest.Postgres(t, env, 4)
	if err := schema.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	rdb := servertest.Redis(t, env, 0)
	keys := keyspace.New(env.KeyPrefix)
	return fixture{rdb: rdb, keys: keys, board: NewBoard(NewStore(pool), rdb, keys)}
}

// watch runs a watcher until t ends.
func (f fixture) watch(t *testing.T) *Watcher {
	t.Helper()
	w := NewWatcher(f.rdb, f.keys, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func (f fixture) set(t *testing.T, tg Target, value string) Switch {
	t.Helper()
	sw, err := f.board.Set(context.Background(), tg, json.RawMessage(value), "test", "because")
	if err != nil {
		t.Fatalf("set %+v to %s: %v", tg, value, err)
	}
	return sw
}

// within waits up to d for ok, failing with what.
func within(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
	}
}

// Two instances' watchers both see a change within a second, and the
// change of every kind of switch reads as set.
func TestTwoWatchersSeeAChange(t *testing.T) {
	f := fresh(t)
	a, b := f.watch(t), f.watch(t)
	if a.Now().PauseClaims() || a.Now().ShedFraction() != 0 {
		t.Fatal("a switch is on before any was set")
	}
	f.set(t, Target{Name: PauseClaims}, "true")
	f.set(t, Target{Name: ShedFraction}, "0.25")
	f.set(t, Target{Name: SoldOut, Campaign: "sale", SKU: "cup"}, "true")
	last := f.set(t, Target{Name: SkipCaptcha, Campaign: "sale"}, "true")
	for name, w := range map[string]*Watcher{"a": a, "b": b} {
		within(t, time.Second, "watcher "+name+" sees the change", func() bool { return w.Now().Version() == last.Version })
		s := w.Now()
		if !s.PauseClaims() || s.ShedFraction() != 0.25 || !s.SoldOut("sale", "cup") || s.SoldOut("sale", "mug") ||
			!s.SkipCaptcha("sale") || s.SkipCaptcha("other") || s.PauseSettlement() || s.ReadsCacheOnly() {
			t.Errorf("watcher %s reads %+v", name, s.Set())
		}
	}
	f.set(t, Target{Name: PauseClaims}, "false")
	within(t, time.Second, "pause_claims off", func() bool { return !a.Now().PauseClaims() && !b.Now().PauseClaims() })
}

// Versions only grow, and an older state never replaces a newer one in
// Redis: a publisher that lags behind a later change changes nothing.
func TestNewerVersionWins(t *testing.T) {
	f := fresh(t)
	first := f.set(t, Target{Name: PauseSettlement}, "true")
	second := f.set(t, Target{Name: PauseSettlement}, "false")
	if second.Version <= first.Version {
		t.Fatalf("versions %d then %d; want growing", first.Version, second.Version)
	}
	ctx := context.Background()
	n, err := replaceScript.Run(ctx, f.rdb, []string{f.keys.Switches()}, first.Version, first.field(), "true").Int()
	if err != nil || n != 0 {
		t.Fatalf("replace with version %d over %d: %d, %v; want 0 (kept)", first.Version, second.Version, n, err)
	}
	got, err := f.rdb.HGetAll(ctx, f.keys.Switches()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if s := newSnapshot(got); s.Version() != second.Version || s.PauseSettlement() {
		t.Fatalf("Redis holds version %d, pause_settlement %v; want %d, off", s.Version(), s.PauseSettlement(), second.Version)
	}
}

// When the hash is gone (Redis flushed), the watchers keep what they had,
// and Keep publishes the record again from PostgreSQL.
func TestRepublishWhenKeyMissing(t *testing.T) {
	f := fresh(t)
	w := f.watch(t)
	sw := f.set(t, Target{Name: ReadsCacheOnly}, "true")
	within(t, time.Second, "watcher sees reads_cache_only", func() bool { return w.Now().ReadsCacheOnly() })
	ctx := context.Background()
	if err := f.rdb.Del(ctx, f.keys.Switches()).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * DefaultPoll)
	if !w.Now().ReadsCacheOnly() {
		t.Fatal("watcher dropped its switches when the hash went missing")
	}
	keepCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.board.Keep(keepCtx, 50*time.Millisecond, time.Second) }()
	defer func() { stop(); <-done }()
	within(t, 5*time.Second, "hash published again", func() bool {
		v, err := f.rdb.HGet(ctx, f.keys.Switches(), versionField).Int64()
		return err == nil && v == sw.Version
	})
	if on, err := f.rdb.HGet(ctx, f.keys.Switches(), sw.field()).Result(); err != nil || on != "true" {
		t.Fatalf("republished %s = %q, %v; want true", sw.field(), on, err)
	}
}

// A change that cannot be made is refused and records nothing.
func TestBadChangeRefused(t *testing.T) {
	f := fresh(t)
	cases := []struct {
		t     Target
		value string
		want  error
	}{
		{Target{Name: "no_such"}, "true", ErrUnknown},
		{Target{Name: PauseClaims}, `"yes"`, ErrBadValue},
		{Target{Name: ShedFraction}, "1.5", ErrBadValue},
		{Target{Name: ShedFraction}, "-0.1", ErrBadValue},
		{Target{Name: SkipCaptcha}, "true", ErrScope},
		{Target{Name: SoldOut, Campaign: "sale"}, "true", ErrScope},
		{Target{Name: PauseClaims, Campaign: "sale"}, "true", ErrScope},
		{Target{Name: SkipCaptcha, Campaign: "Bad:Id"}, "true", ErrScope},
	}
	for _, c := range cases {
		if _, err := f.board.Set(context.Background(), c.t, json.RawMessage(c.value), "", ""); !errors.Is(err, c.want) {
			t.Errorf("set %+v to %s: %v; want %v", c.t, c.value, err, c.want)
		}
	}
	all, err := f.board.List(context.Background())
	if err != nil || len(all) != 0 {
		t.Fatalf("after refused changes: %v, %v; want none", all, err)
	}
}
