package claim_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var t0 = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)

type fixture struct {
	rdb   *redis.Client
	keys  keyspace.Space
	store *claim.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 8)
	keys := keyspace.New(env.KeyPrefix)
	return &fixture{rdb: rdb, keys: keys, store: claim.NewStore(rdb, keys)}
}

// pending creates a pending claim and returns its id.
func (f *fixture) pending(t *testing.T, unique string) string {
	t.Helper()
	id := keyspace.ClaimID("double11", unique)
	r := claim.Record{ID: id, UserID: "alice", SKU: "phone-x", Qty: 2, CreatedAt: t0}
	if created, err := f.store.CreatePending(context.Background(), r); err != nil || !created {
		t.Fatalf("CreatePending %s = %v, %v; want true, nil", id, created, err)
	}
	return id
}

// reserve does what the pre-deduct script does to a claim it wins.
func (f *fixture) reserve(t *testing.T, id string) {
	t.Helper()
	key := f.keys.Campaign("double11").Claim(id)
	if err := f.rdb.HSet(context.Background(), key, claim.FieldState, claim.Reserved).Err(); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) get(t *testing.T, id string) claim.Record {
	t.Helper()
	r, err := f.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return r
}

func TestCreatePendingOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.pending(t, "a1")
	want := claim.Record{ID: id, CampaignID: "double11", UserID: "alice", SKU: "phone-x", Qty: 2, State: claim.Pending, CreatedAt: t0, UpdatedAt: t0, Epoch: 1}
	if got := f.get(t, id); got != want {
		t.Errorf("Get = %+v; want %+v", got, want)
	}
	retry := claim.Record{ID: id, UserID: "mallory", SKU: "other", Qty: 9, CreatedAt: t0.Add(time.Minute)}
	created, err := f.store.CreatePending(ctx, retry)
	if err != nil || created {
		t.Errorf("second CreatePending = %v, %v; want false, nil", created, err)
	}
	if got := f.get(t, id); got != want {
		t.Errorf("after the second CreatePending, Get = %+v; want %+v unchanged", got, want)
	}
	if existing, created, err := f.store.CreateOrGet(ctx, retry); err != nil || created || existing != want {
		t.Errorf("CreateOrGet of an existing claim = %+v, %v, %v; want %+v, false, nil", existing, created, err, want)
	}
	ttl := f.rdb.PTTL(ctx, f.keys.Campaign("double11").Claim(id)).Val()
	if ttl <= 0 || ttl > claim.TTL {
		t.Errorf("claim TTL = %v; want in (0, %v]", ttl, claim.TTL)
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, id := range []string{keyspace.ClaimID("double11", "never"), "no-campaign-part", ".x", ""} {
		if _, err := f.store.Get(ctx, id); !errors.Is(err, claim.ErrNotFound) {
			t.Errorf("Get(%q) = %v; want ErrNotFound", id, err)
		}
	}
	if _, err := f.store.CreatePending(ctx, claim.Record{ID: "nodot", UserID: "u"}); !errors.Is(err, claim.ErrNotFound) {
		t.Errorf("CreatePending(id without campaign) = %v; want ErrNotFound", err)
	}
	// An update of an unknown claim must not create one.
	id := keyspace.ClaimID("double11", "ghost")
	if err := f.store.SetRejected(ctx, id, "failed", t0); err != nil {
		t.Errorf("SetRejected(unknown) = %v; want nil", err)
	}
	if _, err := f.store.Get(ctx, id); !errors.Is(err, claim.ErrNotFound) {
		t.Errorf("after SetRejected of an unknown claim, Get = %v; want ErrNotFound", err)
	}
}

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	t1, t2, t3 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, id string) // state before the step
		step  func(s *claim.Store, id string) error
		want  func(r claim.Record) claim.Record // what the step leaves, from the record before it
	}{
		{"settle a pending claim: nothing",
			func(*testing.T, *fixture, string) {},
			func(s *claim.Store, id string) error { return s.SetSettled(ctx, id, t1) },
			same},
		{"queue a pending claim: nothing",
			func(*testing.T, *fixture, string) {},
			func(s *claim.Store, id string) error { return s.SetQueued(ctx, id, "o-1", "tok", t1) },
			same},
		{"reject a pending claim",
			func(*testing.T, *fixture, string) {},
			func(s *claim.Store, id string) error { return s.SetRejected(ctx, id, "failed", t1) },
			func(r claim.Record) claim.Record {
				r.State, r.Reason, r.UpdatedAt = claim.Rejected, "failed", t1
				return r
			}},
		{"queue a reserved claim",
			reserved,
			func(s *claim.Store, id string) error { return s.SetQueued(ctx, id, "o-1", "tok", t1) },
			func(r claim.Record) claim.Record { r.OrderNo, r.Token, r.UpdatedAt = "o-1", "tok", t1; return r }},
		{"settle a queued claim",
			queued,
			func(s *claim.Store, id string) error { return s.SetSettled(ctx, id, t2) },
			func(r claim.Record) claim.Record { r.State, r.UpdatedAt = claim.Settled, t2; return r }},
		{"reject a reserved claim: nothing",
			reserved,
			func(s *claim.Store, id string) error { return s.SetRejected(ctx, id, "failed", t1) },
			same},
		{"queue a settled claim: nothing",
			settled,
			func(s *claim.Store, id string) error { return s.SetQueued(ctx, id, "o-2", "tok2", t3) },
			same},
		{"settle a settled claim: nothing",
			settled,
			func(s *claim.Store, id string) error { return s.SetSettled(ctx, id, t3) },
			same},
		{"reject a settled claim: nothing",
			settled,
			func(s *claim.Store, id string) error { return s.SetRejected(ctx, id, "failed", t3) },
			same},
	}
	f := newFixture(t)
	for i, tt := range tests {
		id := f.pending(t, string(rune('a'+i)))
		tt.setup(t, f, id)
		before := f.get(t, id)
		if err := tt.step(f.store, id); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got, want := f.get(t, id), tt.want(before); got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, want)
		}
	}
}

func same(r claim.Record) claim.Record { return r }

func reserved(t *testing.T, f *fixture, id string) { f.reserve(t, id) }

func queued(t *testing.T, f *fixture, id string) {
	reserved(t, f, id)
	if err := f.store.SetQueued(context.Background(), id, "o-1", "tok", t0.Add(time.Second)); err != nil {
		t.Fatalf("SetQueued: %v", err)
	}
}

func settled(t *testing.T, f *fixture, id string) {
	queued(t, f, id)
	if err := f.store.SetSettled(context.Background(), id, t0.Add(2*time.Second)); err != nil {
		t.Fatalf("SetSettled: %v", err)
	}
	if got := f.get(t, id).State; got != claim.Settled {
		t.Fatalf("state after SetSettled = %q; want settled", got)
	}
}

func TestFinal(t *testing.T) {
	want := map[string]bool{claim.Pending: false, claim.Reserved: false, claim.Rejected: true, claim.Settled: true, claim.Released: true}
	for s, w := range want {
		if got := claim.Final(s); got != w {
			t.Errorf("Final(%q) = %v; want %v", s, got, w)
		}
	}
}

// subscribe listens on double11's claim events channel; the subscription
// is confirmed when it returns.
func (f *fixture) subscribe(t *testing.T) *redis.PubSub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps := f.rdb.Subscribe(ctx, f.keys.Campaign("double11").ClaimEvents())
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return ps
}

// TestStateChangesArePublished: every write through the store publishes
// the claim's new state in the same script, and a refused write (the claim
// is in another state) publishes nothing.
func TestStateChangesArePublished(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ps := f.subscribe(t)
	a, b := f.pending(t, "a"), f.pending(t, "b")
	f.reserve(t, b)
	steps := []struct {
		name string
		do   func() error
		want claim.Event
	}{
		{"rejected", func() error { return f.store.SetRejected(ctx, a, "failed", t0) }, claim.Event{ClaimID: a, State: claim.Rejected}},
		{"queued", func() error { return f.store.SetQueued(ctx, b, "o-1", "tok", t0) }, claim.Event{ClaimID: b, State: claim.Reserved}},
		{"settled", func() error { return f.store.SetSettled(ctx, b, t0) }, claim.Event{ClaimID: b, State: claim.Settled}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		msg, err := ps.ReceiveTimeout(ctx, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: no event: %v", s.name, err)
		}
		m, _ := msg.(*redis.Message)
		if got, ok := claim.ParseEvent(m.Payload); m == nil || !ok || got != s.want {
			t.Fatalf("%s: message %v, want %q", s.name, msg, s.want.Message())
		}
	}
	// Refused: a is no longer pending, b no longer reserved.
	if err := f.store.SetRejected(ctx, a, "failed", t0); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetSettled(ctx, b, t0); err != nil {
		t.Fatal(err)
	}
	if msg, err := ps.ReceiveTimeout(ctx, 300*time.Millisecond); err == nil {
		t.Fatalf("a refused write published %v", msg)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		msg  string
		want claim.Event
		ok   bool
	}{
		{"double11.k1 reserved", claim.Event{ClaimID: "double11.k1", State: "reserved"}, true},
		{"odd id rejected", claim.Event{ClaimID: "odd id", State: "rejected"}, true},
		{"double11.k1", claim.Event{}, false},
		{" reserved", claim.Event{}, false},
		{"double11.k1 ", claim.Event{}, false},
		{"", claim.Event{}, false},
	}
	for _, tt := range tests {
		got, ok := claim.ParseEvent(tt.msg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseEvent(%q) = %+v, %v; want %+v, %v", tt.msg, got, ok, tt.want, tt.ok)
		}
		if ok && got.Message() != tt.msg {
			t.Errorf("Message() = %q, want %q", got.Message(), tt.msg)
		}
	}
}
