package claim_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// TestQueue checks Queue moves only a reserved claim, once, reports the
// state it found, and sends the caller's commands in the same pipeline.
func TestQueue(t *testing.T) {
	ctx := context.Background()
	t2 := t0.Add(2 * time.Second)
	tests := []struct {
		name      string
		setup     func(t *testing.T, f *fixture, id string)
		wantPrior string
		wantWrote bool
		want      func(r claim.Record) claim.Record
	}{
		{"a pending claim: nothing", func(*testing.T, *fixture, string) {}, claim.Pending, false, same},
		{"a reserved claim", reserved, claim.Reserved, true,
			func(r claim.Record) claim.Record { r.OrderNo, r.Token, r.UpdatedAt = "o-1", "tok", t2; return r }},
		{"a queued claim, same order: nothing", queued, claim.Reserved, false, same},
		{"a settled claim: nothing", settled, claim.Settled, false, same},
	}
	f := newFixture(t)
	for i, tt := range tests {
		id := f.pending(t, "q"+string(rune('a'+i)))
		tt.setup(t, f, id)
		before := f.get(t, id)
		var echo *redis.StatusCmd
		q, err := f.store.Queue(ctx, id, "o-1", "tok", t2, func(p redis.Pipeliner) { echo = p.Set(ctx, f.keys.User("alice").Pending()+":probe", id, 0) })
		if err != nil {
			t.Errorf("%s: Queue = %v", tt.name, err)
			continue
		}
		if q.Prior != tt.wantPrior || q.Wrote != tt.wantWrote {
			t.Errorf("%s: Queue = %+v; want prior %q, wrote %v", tt.name, q, tt.wantPrior, tt.wantWrote)
		}
		if echo == nil || echo.Err() != nil {
			t.Errorf("%s: the caller's command did not run: %v", tt.name, echo)
		}
		if got, want := f.get(t, id), tt.want(before); got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, want)
		}
	}
	q, err := f.store.Queue(ctx, keyspace.ClaimID("double11", "ghost"), "o-1", "tok", t2, nil)
	if err != nil || q.Prior != "" || q.Wrote {
		t.Errorf("Queue(unknown claim) = %+v, %v; want no prior state, nothing written", q, err)
	}
	if _, err := f.store.Get(ctx, keyspace.ClaimID("double11", "ghost")); err == nil {
		t.Error("Queue created an unknown claim")
	}
}

// TestSettle checks Settle moves only a reserved claim, drops its inflight
// entry in every state, and runs the caller's commands.
func TestSettle(t *testing.T) {
	ctx := context.Background()
	t3 := t0.Add(3 * time.Second)
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, id string)
		want  func(r claim.Record) claim.Record
	}{
		{"a pending claim: nothing", func(*testing.T, *fixture, string) {}, same},
		{"a queued claim", queued, func(r claim.Record) claim.Record { r.State, r.UpdatedAt = claim.Settled, t3; return r }},
		{"a settled claim: nothing", settled, same},
	}
	f := newFixture(t)
	inflight := f.keys.Campaign("double11").Inflight()
	for i, tt := range tests {
		id := f.pending(t, "s"+string(rune('a'+i)))
		tt.setup(t, f, id)
		if err := f.rdb.HSet(ctx, inflight, id, 2).Err(); err != nil {
			t.Fatal(err)
		}
		before := f.get(t, id)
		ran := 0
		if err := f.store.Settle(ctx, id, t3, func(redis.Pipeliner) { ran++ }); err != nil {
			t.Errorf("%s: Settle = %v", tt.name, err)
			continue
		}
		if ran == 0 {
			t.Errorf("%s: the caller's commands were never added", tt.name)
		}
		if got, want := f.get(t, id), tt.want(before); got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, want)
		}
		if n, err := f.rdb.HExists(ctx, inflight, id).Result(); err != nil || n {
			t.Errorf("%s: inflight entry still there (%v, %v)", tt.name, n, err)
		}
	}
}

// TestPipelineAfterScriptFlush runs Queue and Settle on a server whose
// script cache was flushed: they load their script and send again.
func TestPipelineAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.pending(t, "flush")
	f.reserve(t, id)
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sends := 0
	q, err := f.store.Queue(ctx, id, "o-1", "tok", t0, func(redis.Pipeliner) { sends++ })
	if err != nil || !q.Wrote {
		t.Fatalf("Queue after SCRIPT FLUSH = %+v, %v; want written", q, err)
	}
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Settle(ctx, id, t0, nil); err != nil {
		t.Fatalf("Settle after SCRIPT FLUSH = %v", err)
	}
	if got := f.get(t, id); got.State != claim.Settled || got.OrderNo != "o-1" {
		t.Errorf("claim = %+v; want settled with order o-1", got)
	}
	if sends != 2 {
		t.Errorf("before ran %d times; want 2 (the first send met NOSCRIPT)", sends)
	}
}
