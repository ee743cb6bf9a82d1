package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/receipt"
)

func TestClaimStatus(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	claims := claim.NewStore(fx.rdb, fx.keys)
	if _, err := claims.CreatePending(ctx, claim.Record{ID: "double11.k1", UserID: "alice", SKU: "phone-x", Qty: 1, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, user string
		want             int
	}{
		{"own claim", "/v1/claims/double11.k1", "alice", http.StatusOK},
		{"another user's claim", "/v1/claims/double11.k1", "bob", http.StatusNotFound},
		{"unknown claim", "/v1/claims/double11.nope", "alice", http.StatusNotFound},
		{"not a claim id", "/v1/claims/nodot", "alice", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec claim.Record
			if status := fx.get(t, tt.path, tt.user, &rec); status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
			if tt.want == http.StatusOK && (rec.ID != "double11.k1" || rec.State != claim.Pending || rec.UserID != "alice") {
				t.Fatalf("claim %+v, want alice's pending double11.k1", rec)
			}
		})
	}
}

func TestClaimNotFoundLooksTheSame(t *testing.T) {
	fx := newFixture(t)
	if _, err := claim.NewStore(fx.rdb, fx.keys).CreatePending(context.Background(), claim.Record{ID: "double11.k1", UserID: "alice", Qty: 1, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	a, b := fx.body(t, "/v1/claims/double11.k1", "bob"), fx.body(t, "/v1/claims/double11.none", "bob")
	if a != b || a == "" {
		t.Fatalf("other user's claim answered %q, missing claim %q; want the same claim_not_found", a, b)
	}
}

func (fx *fixture) body(t *testing.T, path, user string) string {
	t.Helper()
	var raw json.RawMessage
	resp := fx.request(t, path, user)
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	return string(raw)
}

func TestKeysArePublished(t *testing.T) {
	fx := newFixture(t)
	var set receipt.KeySet
	if status := fx.get(t, "/v1/keys", "", &set); status != http.StatusOK {
		t.Fatalf("status %d, want 200 without auth", status)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != fx.signer.KeyID() || set.Keys[0].Curve != "Ed25519" {
		t.Fatalf("keys %+v, want the signer's Ed25519 key %s", set.Keys, fx.signer.KeyID())
	}
}
