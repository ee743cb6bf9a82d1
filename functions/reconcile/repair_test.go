package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/keyspace"
)

// published is what reconcile sent to its broker stand-in besides alerts.
func (fx *fixture) published(t *testing.T, typ string) int {
	t.Helper()
	n := 0
	for _, e := range fx.alerts.Events() {
		if e.Type() == typ {
			n++
		}
	}
	return n
}

// A pass repairs what it finds: a reservation stuck past the grace with no
// receipt (its claim.reserved lost) is published again, signed, numbered
// past the broker's dedup; one within the grace is left alone; an inflight
// entry of a claim settled in PostgreSQL a minute ago is cleared and the
// claim marked settled, one settled just now is left to settle's clean-up. Each repair is in the report; the next pass publishes the stuck
// one again under a new number (nothing has enqueued it yet).
func TestRepairPass(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.warmed(t, []string{"stuck", "fresh", "stale", "settling"}, map[string]bool{"stale": true, "settling": true})
	keys := fx.keys.Campaign("sale")
	old := strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)
	recent := strconv.FormatInt(time.Now().UnixMilli(), 10)
	must(t, fx.rdb.HSet(ctx, keys.Claim(keyspace.ClaimID("sale", "stuck")), claim.FieldUpdated, old).Err())
	// settle's clean-up lost a minute ago (stale), and one settling now
	// (its clean-up on its way: left alone)
	for user, updated := range map[string]string{"stale": old, "settling": recent} {
		must(t, fx.rdb.HSet(ctx, keys.Claim(keyspace.ClaimID("sale", user)), claim.FieldState, claim.Reserved, claim.FieldUpdated, updated).Err())
		must(t, fx.rdb.HSet(ctx, keys.Inflight(), keyspace.ClaimID("sale", user), 1).Err())
	}

	_, r := fx.ping(t, "repair-1")
	c := r.Campaigns[0]
	kinds := map[string]string{}
	for _, x := range c.RepairList {
		kinds[x.ClaimID] = x.Kind
	}
	want := map[string]string{keyspace.ClaimID("sale", "stuck"): RepairRepublished, keyspace.ClaimID("sale", "stale"): RepairClearedInflight}
	if len(kinds) != 2 || kinds[keyspace.ClaimID("sale", "stuck")] != want[keyspace.ClaimID("sale", "stuck")] ||
		kinds[keyspace.ClaimID("sale", "stale")] != want[keyspace.ClaimID("sale", "stale")] || c.Repairs != 2 || c.Mismatch {
		t.Fatalf("repairs %v (%d), mismatch %v; want %v, no mismatch", kinds, c.Repairs, c.Mismatch, want)
	}
	if got, _ := fx.state(t, "stale"); got != claim.Settled || fx.rdb.HExists(ctx, keys.Inflight(), keyspace.ClaimID("sale", "stale")).Val() {
		t.Errorf("stale claim %q, still inflight %v; want settled, cleared", got, fx.rdb.HExists(ctx, keys.Inflight(), keyspace.ClaimID("sale", "stale")).Val())
	}
	if got, _ := fx.state(t, "settling"); got != claim.Reserved || !fx.rdb.HExists(ctx, keys.Inflight(), keyspace.ClaimID("sale", "settling")).Val() {
		t.Errorf("a claim settling now is %q; want it left reserved and inflight, for settle", got)
	}
	var numbers []any
	for _, e := range fx.alerts.Events() {
		if e.Type() != events.TypeClaimReserved {
			continue
		}
		if e.ID() != keyspace.ClaimID("sale", "stuck")+"/reserved" {
			t.Errorf("republished %s; want the stuck claim's", e.ID())
		}
		if err := eventsigtest.Key(t).Verify(e); err != nil {
			t.Errorf("republished reservation: %v", err)
		}
		d, err := events.Decode[events.ClaimReservedData](e, events.TypeClaimReserved)
		if err != nil || d.UserID != "stuck" || d.Seq != 1 || d.FirstSlot != 1 || d.PayBy.IsZero() {
			t.Errorf("republished %+v, %v", d, err)
		}
		numbers = append(numbers, e.Extensions()[events.RedriveExtension])
	}
	time.Sleep(2 * time.Millisecond)
	fx.pingAt(t, "repair-2", at.Add(time.Second))
	if n := fx.published(t, events.TypeClaimReserved); n != 2 {
		t.Errorf("%d claim.reserved published after two passes; want 2", n)
	}
	var second any
	for _, e := range fx.alerts.Events() {
		if e.Type() == events.TypeClaimReserved {
			second = e.Extensions()[events.RedriveExtension]
		}
	}
	if len(numbers) != 1 || numbers[0] == second {
		t.Errorf("repair numbers %v then %v; want a new one per pass", numbers, second)
	}
}

// A reservation whose order.queued the chain refused as poison (400) can
// never settle: once its dead letter is stored, its unit goes back to
// stock, once, and the claim ends released. A dead letter of a stage that
// was down (500), or a refused event that is not the chain's own (another
// token), leaves the claim reserved, for a redrive or a repair.
func TestPoisonReservationGivesItsUnitBack(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	orders := fx.warmed(t, []string{"poison", "down", "forged"}, nil)
	keys := fx.keys.Campaign("sale")
	for _, user := range []string{"poison", "down", "forged"} {
		must(t, fx.rdb.HSet(ctx, keys.Claim(keyspace.ClaimID("sale", user)), claim.FieldToken, "token-of-"+user, claim.FieldOrderNo, orders[user]).Err())
	}
	dead := func(user, token, code string) {
		e := events.OrderQueued(events.OrderQueuedData{ClaimID: keyspace.ClaimID("sale", user), CampaignID: "sale", UserID: user,
			OrderNo: orders[user], Token: token}, at)
		e.SetExtension("knativeerrorcode", code)
		for range 2 { // a dead letter delivered twice gives back once
			if status, body := fx.post(t, "/dead-letters", e); status != http.StatusAccepted {
				t.Fatalf("dead letter of %s: %d (%s); want 202", user, status, body)
			}
		}
	}
	dead("poison", "token-of-poison", "400")
	dead("down", "token-of-down", "500")
	dead("forged", "someone-elses", "400")
	for user, want := range map[string]string{"poison": claim.Released, "down": claim.Reserved, "forged": claim.Reserved} {
		if got, _ := fx.state(t, user); got != want {
			t.Errorf("claim of %s = %q; want %q", user, got, want)
		}
	}
	if left, _ := fx.rdb.Get(ctx, keys.Stock("phone")).Int(); left != 8 {
		t.Errorf("stock = %d; want 8 (10 − 3 reserved + the poisoned one back)", left)
	}
	if held := fx.rdb.HGet(ctx, keys.Held(), "poison").Val(); held != "" {
		t.Errorf("poison still holds %q units", held)
	}
	if fx.rdb.HExists(ctx, keys.Inflight(), keyspace.ClaimID("sale", "poison")).Val() {
		t.Error("the released claim is still inflight")
	}
}
