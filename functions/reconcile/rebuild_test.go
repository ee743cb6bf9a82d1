package main

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
)

// warmed warms campaign sale as admin does (and records it warmed), with
// a payment window, and wins one unit for each user through the
// pre-deduct script; each of settled's users also has its order in
// PostgreSQL, as settle writes it.
func (fx *fixture) warmed(t *testing.T, users []string, settled map[string]bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	store := campaign.NewStore(fx.pool)
	c, err := store.Get(ctx, "sale")
	must(t, err)
	c.PaymentWindow = campaign.Duration{Duration: 10 * time.Minute}
	must(t, stock.Warm(ctx, fx.rdb, fx.keys.Campaign("sale"), c, nil))
	must(t, store.MarkWarmed(ctx, "sale"))
	orders := map[string]string{}
	for _, user := range users {
		id := keyspace.ClaimID("sale", user)
		d, err := stock.NewDeducter(fx.rdb, fx.keys).Deduct(ctx, stock.Request{ClaimID: id, CampaignID: "sale", UserID: user,
			SKU: "phone", Qty: 1, Now: at.Add(time.Second)})
		if err != nil || d.State != claim.Reserved {
			t.Fatalf("deduct %s: %+v, %v", user, d, err)
		}
		no := receipt.OrderNo("sale", "phone", user, d.Seq)
		orders[user] = no
		if !settled[user] {
			continue
		}
		_, err = fx.committer.Submit(ctx, ledger.Order{OrderNo: no, TokenID: id, CampaignID: "sale", SKU: "phone", UserID: user,
			Seq: d.Seq, Qty: 1, FirstSlot: d.FirstSlot, Amount: 100, ReservedAt: d.ReservedAt, PayBy: d.PayBy})
		must(t, err)
		must(t, fx.claims.SetSettled(ctx, id, at.Add(2*time.Second)))
		must(t, fx.rdb.HSet(ctx, fx.keys.Campaign("sale").Claim(id), claim.FieldOrderNo, no).Err())
	}
	return orders
}

// forget deletes every key of the fixture's key space: a FLUSHALL, or a
// restart without the AOF, of this test's Redis.
func (fx *fixture) forget(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	keys, err := fx.rdb.Keys(ctx, fx.keys.Prefix()+":*").Result()
	must(t, err)
	if len(keys) > 0 {
		must(t, fx.rdb.Del(ctx, keys...).Err())
	}
}

func (fx *fixture) state(t *testing.T, user string) (state, reason string) {
	t.Helper()
	r, err := fx.rdb.HMGet(context.Background(), fx.keys.Campaign("sale").Claim(keyspace.ClaimID("sale", user)), "state", "reason").Result()
	must(t, err)
	state, _ = r[0].(string)
	reason, _ = r[1].(string)
	return state, reason
}

// Redis loses everything mid-sale. The pass finds the campaign's meta
// gone, rebuilds it from PostgreSQL and says so (report, alert): stock =
// configured − live orders, the released order's slot free to sell again
// before any fresh one, held and wins per user, a claim record per order
// in its state, the due index of the unpaid. A second pass has nothing to
// rebuild.
func TestRebuildAfterRedisLostEverything(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	orders := fx.warmed(t, []string{"alice", "bob", "carol"}, map[string]bool{"alice": true, "bob": true, "carol": true})
	payments := ledger.NewPayments(fx.pool)
	must(t, payments.Release(ctx, orders["bob"], at.Add(11*time.Minute)))
	_, err := payments.Pay(ctx, orders["carol"], at.Add(time.Minute))
	must(t, err)
	fx.forget(t)

	_, r := fx.ping(t, "lost")
	c := r.Campaigns[0]
	if c.Rebuild == nil || !c.Rebuild.Done || c.Mismatch || r.Mismatches != 0 {
		t.Fatalf("pass = rebuild %+v, mismatch %v; want rebuilt, no mismatch", c.Rebuild, c.Mismatch)
	}
	keys := fx.keys.Campaign("sale")
	if left, _ := fx.rdb.Get(ctx, keys.Stock("phone")).Int(); left != 8 {
		t.Errorf("stock = %d; want 8 (10 − alice's and carol's)", left)
	}
	if free := fx.rdb.ZRange(ctx, keys.Free("phone"), 0, -1).Val(); fmt.Sprint(free) != "[2]" {
		t.Errorf("free slots = %v; want [2] (bob's, released)", free)
	}
	if held := fx.rdb.HGetAll(ctx, keys.Held()).Val(); len(held) != 2 || held["alice"] != "1" || held["carol"] != "1" {
		t.Errorf("held = %v; want alice 1, carol 1", held)
	}
	if wins := fx.rdb.HGetAll(ctx, keys.Wins()).Val(); len(wins) != 3 || wins["bob"] != "1" {
		t.Errorf("wins = %v; want one each, bob's released win too", wins)
	}
	for user, want := range map[string]string{"alice": claim.Settled, "bob": claim.Released, "carol": claim.Paid} {
		if got, _ := fx.state(t, user); got != want {
			t.Errorf("claim of %s = %q; want %q", user, got, want)
		}
	}
	if due := fx.rdb.ZRange(ctx, keys.Due(), 0, -1).Val(); fmt.Sprint(due) != "[sale.alice]" {
		t.Errorf("due = %v; want alice's only", due)
	}
	var kinds []string
	for _, a := range fx.alerts.raised(t) {
		kinds = append(kinds, a.Kind)
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]string{events.AlertRebuild}) {
		t.Errorf("alerts = %v; want one rebuild", kinds)
	}
	for i, want := range []int{2, 4} {
		user := fmt.Sprintf("late%d", i)
		d, err := stock.NewDeducter(fx.rdb, fx.keys).Deduct(ctx, stock.Request{ClaimID: keyspace.ClaimID("sale", user), CampaignID: "sale",
			UserID: user, SKU: "phone", Qty: 1, Now: at.Add(time.Minute)})
		if err != nil || d.State != claim.Reserved || d.FirstSlot != want {
			t.Errorf("after the rebuild, %s = %+v, %v; want reserved on slot %d", user, d, err, want)
		}
	}
	if _, again := fx.ping(t, "after"); again.Campaigns[0].Rebuild != nil || again.Mismatches != 0 {
		t.Errorf("a second pass = rebuild %+v, %d mismatches; want neither", again.Campaigns[0].Rebuild, again.Mismatches)
	}
}

// Redis behind PostgreSQL (restored from an old copy): its keys are there
// but it has no record of a settled order's claim, and it holds a
// reservation PostgreSQL never received. The pass rebuilds: the order's
// claim restored, the reservation lost (rejected, reason lost), the stock
// PostgreSQL's.
func TestRebuildWhenRedisIsBehind(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.warmed(t, []string{"alice", "bob", "ghost"}, map[string]bool{"alice": true, "bob": true})
	keys := fx.keys.Campaign("sale")
	must(t, fx.rdb.Del(ctx, keys.Claim(keyspace.ClaimID("sale", "bob"))).Err())
	must(t, fx.rdb.Set(ctx, keys.Stock("phone"), 9, 0).Err()) // as if bob's decision were lost

	_, r := fx.ping(t, "behind")
	c := r.Campaigns[0]
	if c.Rebuild == nil || !c.Rebuild.Done || c.Rebuild.Reason != "1 orders in PostgreSQL have no claim record in Redis" {
		t.Fatalf("rebuild = %+v; want done, for bob's order", c.Rebuild)
	}
	if got, _ := fx.state(t, "bob"); got != claim.Settled {
		t.Errorf("bob's claim = %q; want settled (restored)", got)
	}
	if got, reason := fx.state(t, "ghost"); got != claim.Rejected || reason != "lost" {
		t.Errorf("ghost's claim = %q (%s); want rejected, lost", got, reason)
	}
	if left, _ := fx.rdb.Get(ctx, keys.Stock("phone")).Int(); left != 8 {
		t.Errorf("stock = %d; want 8", left)
	}
	if n := fx.rdb.HLen(ctx, keys.Inflight()).Val(); n != 0 {
		t.Errorf("%d inflight after the rebuild; want none", n)
	}
}

// Two reconcile instances never rebuild one campaign at once: while the
// lease is held, a pass fences nothing and rebuilds nothing, and the
// campaign stays a mismatch; once the lease is free, a pass rebuilds.
// Four passes at once: exactly one rebuilds.
func TestRebuildHoldsALease(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.warmed(t, []string{"alice"}, map[string]bool{"alice": true})
	fx.forget(t)
	lease := fx.keys.Campaign("sale").RebuildLease()
	must(t, fx.rdb.Set(ctx, lease, "someone else", time.Minute).Err())
	_, r := fx.ping(t, "held")
	if c := r.Campaigns[0]; c.Rebuild == nil || c.Rebuild.Done || c.Rebuild.Skipped == "" || !c.Mismatch {
		t.Fatalf("with the lease held: rebuild %+v, mismatch %v; want skipped, a mismatch", c.Rebuild, c.Mismatch)
	}
	must(t, fx.rdb.Del(ctx, lease).Err())
	done := make(chan Report, 4)
	for i := range 4 {
		go func() {
			_, r := fx.ping(t, fmt.Sprintf("race-%d", i))
			done <- r
		}()
	}
	var outcomes []string
	for range 4 {
		r := <-done
		switch c := r.Campaigns[0]; {
		case c.Rebuild == nil:
			outcomes = append(outcomes, "none") // the rebuild was over when this pass looked
		case c.Rebuild.Done:
			outcomes = append(outcomes, "rebuilt")
		case c.Rebuild.Skipped == rebuiltMeanwhile:
			outcomes = append(outcomes, "meanwhile")
		default:
			outcomes = append(outcomes, "skipped")
		}
	}
	sort.Strings(outcomes)
	rebuilt := 0
	for _, o := range outcomes {
		if o == "rebuilt" {
			rebuilt++
		}
	}
	if rebuilt != 1 {
		t.Errorf("4 passes at once: %v; want exactly one rebuilt", outcomes)
	}
}
