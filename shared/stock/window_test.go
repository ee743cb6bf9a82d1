package stock_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/stock"
)

// settle marks a reserved claim settled, as settle does once its order is
// in PostgreSQL.
func (f *fixture) settle(t testing.TB, campaignID, claimID string) {
	t.Helper()
	if err := f.rdb.HSet(context.Background(), f.keys.Campaign(campaignID).Claim(claimID), claim.FieldState, claim.Settled).Err(); err != nil {
		t.Fatal(err)
	}
}

// release expires and gives back a settled claim, wanting both to act.
func (f *fixture) release(t testing.TB, w *stock.Window, claimID string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if got, err := w.Expire(ctx, claimID, at); err != nil || got.Outcome != stock.Releasing {
		t.Fatalf("Expire %s = %+v, %v; want releasing", claimID, got, err)
	}
	if got, err := w.GiveBack(ctx, claimID, at); err != nil || got != (stock.Fate{State: claim.Released, Outcome: stock.Released}) {
		t.Fatalf("GiveBack %s = %+v, %v; want released", claimID, got, err)
	}
}

// TestReleasedSlotsSoldAgain: a sold-out SKU of 3 units; releases give
// slots back and the next reservations take exactly those, lowest first,
// a list when they are not a range; the stock never exceeds 3 taken.
func TestReleasedSlotsSoldAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	w := stock.NewWindow(f.rdb, f.keys)
	c := sale("again", 2, campaign.Item{SKU: "phone", Stock: 3})
	f.warm(t, c, nil)
	open := start.Add(time.Minute)
	payBy := open.Add(10 * time.Minute)
	take := func(unique, user string, qty int, at time.Time) stock.Decision {
		t.Helper()
		r := req(c.ID, unique, user, "phone", qty, at)
		d := f.deduct(t, r)
		if d.State == claim.Reserved {
			f.settle(t, c.ID, r.ClaimID)
		}
		return d
	}
	id := func(unique string) string { return req(c.ID, unique, "", "", 1, open).ClaimID }
	for _, tc := range []struct {
		unique, user string
		qty, first   int
	}{{"a", "alice", 1, 1}, {"b", "bob", 2, 2}} {
		if d := take(tc.unique, tc.user, tc.qty, open); d.State != claim.Reserved || d.FirstSlot != tc.first || d.Slots != nil {
			t.Fatalf("%s: %+v; want reserved from slot %d", tc.user, d, tc.first)
		}
	}
	if due, err := w.Due(ctx, c.ID, payBy.Add(-time.Millisecond), 0, 10); err != nil || len(due) != 0 {
		t.Errorf("Due before pay_by = %v, %v; want none", due, err)
	}
	if due, err := w.Due(ctx, c.ID, payBy, 0, 10); err != nil || !reflect.DeepEqual(due, []string{id("a"), id("b")}) {
		t.Errorf("Due at pay_by = %v, %v; want both claims", due, err)
	}
	if got, err := w.Expire(ctx, id("b"), payBy.Add(-time.Millisecond)); err != nil || got.Outcome != stock.NotDue {
		t.Errorf("Expire before pay_by = %+v, %v; want not_due", got, err)
	}
	f.release(t, w, id("b"), payBy)
	if got, err := w.GiveBack(ctx, id("b"), payBy); err != nil || got.Outcome != stock.Unchanged {
		t.Errorf("GiveBack twice = %+v, %v; want unchanged", got, err)
	}
	if got, err := w.Pay(ctx, id("b"), "k", payBy.Add(-time.Minute)); err != nil || got.Outcome != stock.Expired {
		t.Errorf("Pay of a released claim = %+v, %v; want expired", got, err)
	}
	if left := f.remaining(t, c.ID, "phone"); left != 2 {
		t.Errorf("stock after bob's release = %d; want 2", left)
	}
	if held := f.hashInts(t, f.keys.Campaign(c.ID).Held()); !reflect.DeepEqual(held, map[string]int{"alice": 1}) {
		t.Errorf("held = %v; want only alice's unit", held)
	}
	later := payBy.Add(time.Second)
	if d := take("c", "carol", 1, later); d.FirstSlot != 2 || d.Slots != nil {
		t.Errorf("carol: %+v; want slot 2, given back", d)
	}
	if d := take("d", "dave", 1, later); d.FirstSlot != 3 || d.Slots != nil {
		t.Errorf("dave: %+v; want slot 3, given back", d)
	}
	if d := take("e", "eve", 1, later); d.Reason != "sold_out" {
		t.Errorf("eve: %+v; want sold_out", d)
	}
	f.release(t, w, id("a"), payBy)
	f.release(t, w, id("d"), later.Add(10*time.Minute))
	if d := take("f", "frank", 2, later); d.FirstSlot != 1 || !reflect.DeepEqual(d.Slots, []int{1, 3}) {
		t.Errorf("frank: %+v; want slots [1 3]", d)
	}
	if d := take("g", "gina", 1, later); d.Reason != "sold_out" {
		t.Errorf("gina: %+v; want sold_out", d)
	}
	if again := f.deduct(t, req(c.ID, "f", "frank", "phone", 2, later)); !reflect.DeepEqual(again.Slots, []int{1, 3}) {
		t.Errorf("frank's claim again: %+v; want the recorded slots [1 3]", again)
	}
}

// TestPay: a payment before pay_by wins and is idempotent on its key; a
// second key, a late payment, an unsettled claim and a release after it
// change nothing.
func TestPay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	w := stock.NewWindow(f.rdb, f.keys)
	c := sale("pay", 1, campaign.Item{SKU: "phone", Stock: 5})
	f.warm(t, c, nil)
	open := start.Add(time.Minute)
	payBy := open.Add(10 * time.Minute)
	paid, late, unsettled := req(c.ID, "p", "p", "phone", 1, open), req(c.ID, "l", "l", "phone", 1, open), req(c.ID, "u", "u", "phone", 1, open)
	for _, r := range []stock.Request{paid, late, unsettled} {
		f.deduct(t, r)
	}
	f.settle(t, c.ID, paid.ClaimID)
	f.settle(t, c.ID, late.ClaimID)
	for _, tc := range []struct {
		name    string
		claimID string
		key     string
		at      time.Time
		want    stock.Fate
	}{
		{"unsettled", unsettled.ClaimID, "k1", open, stock.Fate{State: claim.Reserved, Outcome: stock.NotSettled}},
		{"at the last millisecond", paid.ClaimID, "k1", payBy.Add(-time.Millisecond), stock.Fate{State: claim.Paid, Outcome: stock.Paid}},
		{"again, same key", paid.ClaimID, "k1", payBy.Add(time.Hour), stock.Fate{State: claim.Paid, Outcome: stock.Replay}},
		{"again, another key", paid.ClaimID, "k2", open, stock.Fate{State: claim.Paid, Outcome: stock.AlreadyPaid}},
		{"at pay_by", late.ClaimID, "k3", payBy, stock.Fate{State: claim.Settled, Outcome: stock.Expired}},
	} {
		if got, err := w.Pay(ctx, tc.claimID, tc.key, tc.at); err != nil || got != tc.want {
			t.Errorf("%s: Pay = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if got, err := w.Expire(ctx, paid.ClaimID, payBy); err != nil || got != (stock.Fate{State: claim.Paid, Outcome: stock.Unchanged}) {
		t.Errorf("Expire of a paid claim = %+v, %v; want unchanged", got, err)
	}
	if due, err := w.Due(ctx, c.ID, payBy.Add(time.Hour), 0, 10); err != nil || reflect.DeepEqual(due, []string{paid.ClaimID}) || len(due) != 2 {
		t.Errorf("Due = %v, %v; want the two unpaid claims, not the paid one", due, err)
	}
	if _, err := w.Pay(ctx, req(c.ID, "none", "x", "phone", 1, open).ClaimID, "k", open); err == nil {
		t.Error("Pay of an unknown claim: nil error; want ErrNoClaim")
	}
}

// TestPayRacesRelease: 1,000 settled claims, each paid in the last
// millisecond before its deadline while its release fires at the
// deadline: each ends paid or released, never both, never neither, and
// the stock, the free slots and the held counts agree with the outcome.
func TestPayRacesRelease(t *testing.T) {
	ctx := context.Background()
	const n = 1000
	f := newFixture(t)
	w := stock.NewWindow(f.rdb, f.keys)
	c := sale("race", 1, campaign.Item{SKU: "phone", Stock: n})
	f.warm(t, c, nil)
	open := start.Add(time.Minute)
	payBy := open.Add(10 * time.Minute)
	ids := make([]string, n)
	for i := range n {
		r := req(c.ID, fmt.Sprintf("c%04d", i), fmt.Sprintf("u%04d", i), "phone", 1, open)
		f.deduct(t, r)
		f.settle(t, c.ID, r.ClaimID)
		ids[i] = r.ClaimID
	}
	paid, released := make([]bool, n), make([]bool, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			got, err := w.Pay(ctx, id, "key", payBy.Add(-time.Millisecond))
			if err != nil {
				errs <- err
			}
			paid[i] = got.Outcome == stock.Paid
		})
		wg.Go(func() {
			got, err := w.Expire(ctx, id, payBy)
			if err != nil || got.Outcome != stock.Releasing {
				if err != nil {
					errs <- err
				}
				return
			}
			back, err := w.GiveBack(ctx, id, payBy)
			if err != nil {
				errs <- err
			}
			released[i] = back.Outcome == stock.Released
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	nPaid := 0
	for i := range n {
		if paid[i] == released[i] {
			t.Errorf("claim %s: paid %v, released %v; want exactly one", ids[i], paid[i], released[i])
		}
		if paid[i] {
			nPaid++
		}
		state, err := f.rdb.HGet(ctx, f.keys.Campaign(c.ID).Claim(ids[i]), claim.FieldState).Result()
		if want := map[bool]string{true: claim.Paid, false: claim.Released}[paid[i]]; err != nil || state != want {
			t.Errorf("claim %s state = %q, %v; want %s", ids[i], state, err, want)
		}
	}
	t.Logf("%d paid, %d released", nPaid, n-nPaid)
	if left := f.remaining(t, c.ID, "phone"); left != n-nPaid {
		t.Errorf("stock = %d; want %d (the released units)", left, n-nPaid)
	}
	if free := f.rdb.ZCard(ctx, f.keys.Campaign(c.ID).Free("phone")).Val(); int(free) != n-nPaid {
		t.Errorf("free slots = %d; want %d", free, n-nPaid)
	}
	if held := f.hashInts(t, f.keys.Campaign(c.ID).Held()); len(held) != nPaid {
		t.Errorf("users holding units = %d; want %d (the payers)", len(held), nPaid)
	}
	if due := f.rdb.ZCard(ctx, f.keys.Campaign(c.ID).Due()).Val(); due != 0 {
		t.Errorf("due index holds %d claims; want none", due)
	}
}
