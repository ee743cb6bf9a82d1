package claim_test

import (
	"context"
	"errors"
	"testing"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// Refuse turns a claim into a tombstone only once no attempt that may
// have published it is left, and never touches a claim already decided.
func TestRefuse(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture, id string)
		refuses []string // the state after each Refuse
	}{
		{"one attempt", func(*testing.T, *fixture, string) {}, []string{claim.Refused}},
		{"a retry created it too", func(t *testing.T, f *fixture, id string) {
			if _, created, err := f.store.CreateOrGet(ctx, claim.Record{ID: id, UserID: "alice", SKU: "phone-x", Qty: 2}); err != nil || created {
				t.Fatalf("second CreateOrGet = %v, %v", created, err)
			}
		}, []string{claim.Pending, claim.Refused}},
		{"a retry joined it", func(t *testing.T, f *fixture, id string) {
			if _, err := f.store.Join(ctx, id); err != nil {
				t.Fatal(err)
			}
		}, []string{claim.Pending, claim.Refused}},
		{"decided before the refusal", reserved, []string{claim.Reserved, claim.Reserved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.pending(t, "a1")
			tt.setup(t, f, id)
			for i, want := range tt.refuses {
				if got, err := f.store.Refuse(ctx, id); err != nil || got != want {
					t.Fatalf("Refuse #%d = %q, %v; want %q", i+1, got, err, want)
				}
			}
			final := tt.refuses[len(tt.refuses)-1]
			_, err := f.store.Get(ctx, id)
			if final == claim.Refused && !errors.Is(err, claim.ErrNotFound) {
				t.Errorf("Get of a tombstone = %v; want ErrNotFound", err)
			}
			if final != claim.Refused && err != nil {
				t.Errorf("Get of a claim decided = %v; want the record", err)
			}
		})
	}
}

// A tombstone holds only its state and epoch, expires within RefusedTTL,
// is not joined, and a new attempt at the claim starts it afresh, in the
// next epoch.
func TestTombstone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.pending(t, "a1")
	if _, err := f.store.Refuse(ctx, id); err != nil {
		t.Fatal(err)
	}
	key := f.keys.Campaign("double11").Claim(id)
	if h := f.rdb.HGetAll(ctx, key).Val(); len(h) != 2 || h[claim.FieldState] != claim.Refused || h[claim.FieldEpoch] != "1" {
		t.Errorf("tombstone = %v; want only state refused and epoch 1", h)
	}
	if ttl := f.rdb.PTTL(ctx, key).Val(); ttl <= 0 || ttl > claim.RefusedTTL {
		t.Errorf("tombstone TTL = %v; want in (0, %v]", ttl, claim.RefusedTTL)
	}
	if _, err := f.store.Join(ctx, id); !errors.Is(err, claim.ErrNotFound) {
		t.Errorf("Join of a tombstone = %v; want ErrNotFound", err)
	}
	if got, err := f.store.Refuse(ctx, keyspace.ClaimID("double11", "never")); err != nil || got != claim.Refused {
		t.Errorf("Refuse of a claim never recorded = %q, %v; want a tombstone", got, err)
	}
	again := claim.Record{ID: id, UserID: "alice", SKU: "phone-x", Qty: 2, CreatedAt: t0}
	rec, created, err := f.store.CreateOrGet(ctx, again)
	if err != nil || !created || rec.Epoch != 2 || rec.State != claim.Pending || rec.CampaignID != "double11" {
		t.Fatalf("CreateOrGet over a tombstone = %+v, %v, %v; want created, pending, epoch 2", rec, created, err)
	}
	if got := f.get(t, id); got != rec {
		t.Errorf("claim started afresh = %+v; want %+v", got, rec)
	}
	if ttl := f.rdb.PTTL(ctx, key).Val(); ttl <= claim.RefusedTTL {
		t.Errorf("claim TTL after the new attempt = %v; want the claim's (%v)", ttl, claim.TTL)
	}
}
