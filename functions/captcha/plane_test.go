package main

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/plane"
)

// TestClaimIDsApartByPlane: one user's click with one Idempotency-Key is a
// claim per plane, never the same id (the broker drops an id it has seen),
// and each plane's id is stable across retries.
func TestClaimIDsApartByPlane(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/campaigns/sale/claims", nil)
	r.Header.Set("Idempotency-Key", "click-1")
	ids := make(map[plane.Plane]string)
	for _, p := range plane.All() {
		id, idempotent, err := claimID(r, p, "sale", "alice")
		again, _, _ := claimID(r, p, "sale", "alice")
		if err != nil || !idempotent || id != again {
			t.Fatalf("%v plane: claimID = %q then %q, %v, %v; want one derived id", p, id, again, idempotent, err)
		}
		ids[p] = id
	}
	if ids[plane.Real] == ids[plane.Shadow] {
		t.Errorf("real and shadow claims share the id %s", ids[plane.Real])
	}
}

// TestRequestedCarriesThePlane: a shadow claim's event is marked, a real
// one is not.
func TestRequestedCarriesThePlane(t *testing.T) {
	rec := claim.Record{ID: "sale.k1", CampaignID: "sale", UserID: "alice", SKU: "cup", Qty: 1, CreatedAt: time.Now()}
	for _, p := range plane.All() {
		if got, err := plane.Of(requested(rec, p)); got != p || err != nil {
			t.Errorf("requested on the %v plane is on the %v plane (%v)", p, got, err)
		}
	}
}
