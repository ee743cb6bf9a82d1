package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
)

// The event of a claim captcha refused (503, tombstone) is done at once:
// acknowledged with no reply, and it changes nothing.
func TestRefusedClaimChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 5)
	d := requested("sale", "1", "alice", 1)
	if _, err := claim.NewStore(h.rdb, h.keys).Refuse(context.Background(), d.ClaimID); err != nil {
		t.Fatal(err)
	}
	if status, reply := h.post(t, events.ClaimRequested(d)); status != http.StatusAccepted || reply != nil {
		t.Fatalf("status %d, reply %v; want 202 and no reply", status, reply)
	}
	c := h.keys.Campaign("sale")
	if left := h.stock(t, "sale"); left != 5 {
		t.Errorf("stock = %d; want 5", left)
	}
	if n, err := h.rdb.Exists(context.Background(), c.Held(), c.Wins(), c.Inflight()).Result(); err != nil || n != 0 {
		t.Errorf("%d of held, wins and inflight exist (err %v); want none", n, err)
	}
	if got := h.rdb.HGetAll(context.Background(), c.Claim(d.ClaimID)).Val(); len(got) != 2 || got[claim.FieldState] != claim.Refused {
		t.Errorf("claim record = %v; want the tombstone alone (state refused, epoch)", got)
	}
}
