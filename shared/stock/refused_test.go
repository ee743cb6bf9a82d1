package stock_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/stock"
)

// A claim captcha refused changes nothing when its event arrives all the
// same: its tombstone, or past the tombstone's life its lack of a record,
// drops it. A claim with its record is decided however old the request.
func TestDeductDropsRefusedClaims(t *testing.T) {
	ctx := context.Background()
	open := start.Add(10 * time.Minute)
	store := func(f *fixture) *claim.Store { return claim.NewStore(f.rdb, f.keys) }
	tests := []struct {
		name      string
		requested time.Time
		setup     func(t *testing.T, f *fixture, id string)
		want      string
	}{
		{"tombstone", open.Add(-time.Second), func(t *testing.T, f *fixture, id string) {
			if _, err := store(f).Refuse(ctx, id); err != nil {
				t.Fatal(err)
			}
		}, claim.Refused},
		{"no record, requested before the tombstone's life", open.Add(-claim.RefusedTTL - time.Second), nil, claim.Refused},
		{"no record, recent", open.Add(-time.Second), nil, claim.Reserved},
		{"no record, age unknown", time.Time{}, nil, claim.Reserved},
		{"pending record, old", open.Add(-claim.RefusedTTL - time.Minute), func(t *testing.T, f *fixture, id string) {
			rec := claim.Record{ID: id, UserID: "alice", SKU: "phone", Qty: 1, CreatedAt: open.Add(-claim.RefusedTTL - time.Minute)}
			if _, err := store(f).CreatePending(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}, claim.Reserved},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := sale(campaignID(i), 1, campaign.Item{SKU: "phone", Stock: 5})
			f.warm(t, c, nil)
			r := req(c.ID, "one", "alice", "phone", 1, open)
			r.RequestedAt = tt.requested
			if tt.setup != nil {
				tt.setup(t, f, r.ClaimID)
			}
			got := f.deduct(t, r)
			if got.State != tt.want {
				t.Fatalf("Deduct = %+v; want state %s", got, tt.want)
			}
			if tt.want != claim.Refused {
				return
			}
			if !reflect.DeepEqual(got, stock.Decision{State: claim.Refused}) {
				t.Errorf("Deduct of a refused claim = %+v; want only state refused", got)
			}
			left, held := f.remaining(t, c.ID, "phone"), f.hashInts(t, f.keys.Campaign(c.ID).Held())["alice"]
			inflight := f.hashInts(t, f.keys.Campaign(c.ID).Inflight())
			if left != 5 || held != 0 || len(inflight) != 0 {
				t.Errorf("after a refused claim: stock %d, held %d, inflight %v; want 5, 0, none", left, held, inflight)
			}
			if _, err := store(f).Get(ctx, r.ClaimID); err == nil {
				t.Errorf("a refused claim has a record after Deduct")
			}
		})
	}
}
