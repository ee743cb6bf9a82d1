package claimwatch_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/claimwatch"
	"github.com/surgekit/surge/shared/keyspace"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

type fixture struct {
	rdb  *redis.Client
	keys keyspace.Space
	hub  *claimwatch.Hub
	stop func() // ends Run and waits for it
}

// newFixture runs a Hub of at most max waiters until the test ends, and
// waits for its first subscription.
func newFixture(t *testing.T, max int) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 4)
	fx := &fixture{rdb: rdb, keys: keyspace.New(env.KeyPrefix), hub: claimwatch.New(rdb, keyspace.New(env.KeyPrefix), max)}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- fx.hub.Run(ctx) }()
	fx.stop = func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
		ran <- nil // a second stop returns at once
	}
	t.Cleanup(fx.stop)
	fx.until(t, "subscribed", func(s claimwatch.Stats) bool { return s.Subscriptions >= 1 })
	return fx
}

func (fx *fixture) until(t *testing.T, what string, ok func(claimwatch.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(fx.hub.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after 5s: %+v", what, fx.hub.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (fx *fixture) publish(t *testing.T, campaign string, e claim.Event) {
	t.Helper()
	if err := fx.rdb.Publish(context.Background(), fx.keys.Campaign(campaign).ClaimEvents(), e.Message()).Err(); err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) watch(t *testing.T, claimID, state string) *claimwatch.Waiter {
	t.Helper()
	w, ok := fx.hub.Watch(claimID, state)
	if !ok {
		t.Fatalf("Watch(%s) refused: %+v", claimID, fx.hub.Stats())
	}
	t.Cleanup(w.Close)
	return w
}

func woken(w *claimwatch.Waiter, within time.Duration) bool {
	select {
	case <-w.Woken():
		return true
	case <-time.After(within):
		return false
	}
}

// TestEventWakesItsClaimsWaiters: an event wakes the waiters of its claim
// that wait for another state, and nobody else.
func TestEventWakesItsClaimsWaiters(t *testing.T) {
	fx := newFixture(t, 0)
	a1, a2 := fx.watch(t, "double11.a", claim.Pending), fx.watch(t, "double11.a", claim.Pending)
	b := fx.watch(t, "double11.b", claim.Pending)
	r := fx.watch(t, "other.r", claim.Reserved)
	fx.publish(t, "double11", claim.Event{ClaimID: "double11.a", State: claim.Reserved})
	fx.publish(t, "other", claim.Event{ClaimID: "other.r", State: claim.Reserved}) // same state: nobody
	if !woken(a1, 2*time.Second) || !woken(a2, time.Second) {
		t.Fatal("a's waiters not woken by a's event")
	}
	if woken(b, 200*time.Millisecond) || woken(r, 0) {
		t.Fatal("b or r woken by an event that is not theirs")
	}
	fx.publish(t, "other", claim.Event{ClaimID: "other.r", State: claim.Settled})
	if !woken(r, 2*time.Second) {
		t.Fatal("r not woken by another campaign's event")
	}
	if s := fx.hub.Stats(); s.Wakes != 3 || s.Waiting != 4 {
		t.Fatalf("stats %+v, want 3 wakes, 4 waiting", s)
	}
}

// TestResubscribeWakesEveryWaiter: when the subscription's connection is
// killed, go-redis reconnects and resubscribes; every waiter is woken to
// re-read (an event published meanwhile is lost), and events reach the
// waiters again.
func TestResubscribeWakesEveryWaiter(t *testing.T) {
	fx := newFixture(t, 0)
	w := fx.watch(t, "double11.a", claim.Pending)
	if err := fx.rdb.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	fx.until(t, "resubscribed", func(s claimwatch.Stats) bool { return s.Subscriptions >= 2 })
	if !woken(w, 2*time.Second) {
		t.Fatal("waiter not woken after the resubscription")
	}
	fx.publish(t, "double11", claim.Event{ClaimID: "double11.a", State: claim.Rejected})
	if !woken(w, 2*time.Second) {
		t.Fatal("waiter not woken by an event after the resubscription")
	}
}

func TestWatchIsBounded(t *testing.T) {
	fx := newFixture(t, 2)
	fx.watch(t, "double11.a", claim.Pending)
	b := fx.watch(t, "double11.b", claim.Pending)
	if _, ok := fx.hub.Watch("double11.c", claim.Pending); ok {
		t.Fatal("a third waiter was registered past the bound of 2")
	}
	b.Close()
	b.Close() // twice is harmless
	fx.watch(t, "double11.c", claim.Pending)
	if s := fx.hub.Stats(); s.Waiting != 2 {
		t.Fatalf("%d waiting, want 2", s.Waiting)
	}
}

// TestStopReleasesWaiters: when Run ends every waiter is released, new
// ones are refused, and Run's goroutines (go-redis's included) are gone.
func TestStopReleasesWaiters(t *testing.T) {
	before := runtime.NumGoroutine()
	fx := newFixture(t, 0)
	ws := make([]*claimwatch.Waiter, 100)
	for i := range ws {
		ws[i] = fx.watch(t, keyspace.ClaimID("double11", string(rune('a'+i%26))+string(rune('a'+i/26))), claim.Pending)
	}
	fx.stop()
	for _, w := range ws {
		select {
		case <-w.Released():
		default:
			t.Fatal("a waiter was not released when Run returned")
		}
	}
	if _, ok := fx.hub.Watch("double11.z", claim.Pending); ok {
		t.Fatal("Watch accepted a waiter after Run returned")
	}
	if err := fx.hub.Run(context.Background()); err == nil {
		t.Fatal("a second Run did not fail")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines after Run returned, %d before it started", n, before)
	}
}

func TestWatchBeforeRunIsRefused(t *testing.T) {
	hub := claimwatch.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), keyspace.New(""), 0)
	if _, ok := hub.Watch("double11.a", claim.Pending); ok {
		t.Fatal("Watch accepted a waiter before Run")
	}
}
