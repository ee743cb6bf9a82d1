package stock_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/stock"
)

func TestDeductBranches(t *testing.T) {
	f := newFixture(t)
	open := start.Add(time.Minute)
	payBy := open.Add(10 * time.Minute)
	phone := campaign.Item{SKU: "phone", Stock: 3, Price: 100}
	tests := []struct {
		name     string
		setup    func(t *testing.T, c *campaign.Campaign) // runs after warm-up
		nowarm   bool
		user     string
		sku      string
		qty      int
		limit    int
		now      time.Time
		want     stock.Decision
		wantLeft int // phone's stock key after the call; -1 missing
	}{
		{name: "reserved", qty: 1, want: stock.Decision{State: claim.Reserved, Seq: 1, FirstSlot: 1, PayBy: payBy, ReservedAt: open}, wantLeft: 2},
		{name: "reserved two units", qty: 2, limit: 2, want: stock.Decision{State: claim.Reserved, Seq: 1, FirstSlot: 1, PayBy: payBy, ReservedAt: open}, wantLeft: 1},
		{name: "second win numbered 2, next slot", limit: 2, qty: 1,
			setup: func(t *testing.T, c *campaign.Campaign) { f.deduct(t, req(c.ID, "earlier", "alice", "phone", 1, open)) },
			want:  stock.Decision{State: claim.Reserved, Seq: 2, FirstSlot: 2, PayBy: payBy, ReservedAt: open}, wantLeft: 1},
		{name: "slot counts units held by others", qty: 1,
			setup: func(t *testing.T, c *campaign.Campaign) { f.deduct(t, req(c.ID, "bob", "bob", "phone", 1, open)) },
			want:  stock.Decision{State: claim.Reserved, Seq: 1, FirstSlot: 2, PayBy: payBy, ReservedAt: open}, wantLeft: 1},
		{name: "campaign not warm", nowarm: true, qty: 1, want: rejected(events.ReasonNotOpen), wantLeft: -1},
		{name: "before start", now: start.Add(-time.Millisecond), qty: 1, want: rejected(events.ReasonNotOpen), wantLeft: 3},
		{name: "at end", now: start.Add(time.Hour), qty: 1, want: rejected(events.ReasonClosed), wantLeft: 3},
		{name: "after end", now: start.Add(2 * time.Hour), qty: 1, want: rejected(events.ReasonClosed), wantLeft: 3},
		{name: "at start", now: start, qty: 1, want: stock.Decision{State: claim.Reserved, Seq: 1, FirstSlot: 1, PayBy: start.Add(10 * time.Minute), ReservedAt: start}, wantLeft: 2},
		{name: "sku not in campaign", sku: "tablet", qty: 1, want: rejected(events.ReasonUnknownSKU), wantLeft: 3},
		{name: "stock key missing fails closed", qty: 1,
			setup: func(t *testing.T, c *campaign.Campaign) {
				f.rdb.Del(context.Background(), f.keys.Campaign(c.ID).Stock("phone"))
			},
			want: rejected(events.ReasonSoldOut), wantLeft: -1},
		{name: "more than left", qty: 2, limit: 5,
			setup: func(t *testing.T, c *campaign.Campaign) { f.deduct(t, req(c.ID, "bob", "bob", "phone", 2, open)) },
			want:  rejected(events.ReasonSoldOut), wantLeft: 1},
		{name: "sold out", qty: 1,
			setup: func(t *testing.T, c *campaign.Campaign) { f.deduct(t, req(c.ID, "bob", "bob", "phone", 3, open)) },
			limit: 3, want: rejected(events.ReasonSoldOut), wantLeft: 0},
		{name: "qty over limit", qty: 2, want: rejected(events.ReasonLimitReached), wantLeft: 3},
		{name: "limit reached", qty: 1,
			setup: func(t *testing.T, c *campaign.Campaign) { f.deduct(t, req(c.ID, "earlier", "alice", "phone", 1, open)) },
			want:  rejected(events.ReasonLimitReached), wantLeft: 2},
		{name: "limit checked before stock",
			setup: func(t *testing.T, c *campaign.Campaign) {
				f.deduct(t, req(c.ID, "earlier", "alice", "phone", 1, open))
				f.deduct(t, req(c.ID, "bob", "bob", "phone", 2, open))
			},
			limit: 2, qty: 2, want: rejected(events.ReasonLimitReached), wantLeft: 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sale(campaignID(i), max(tt.limit, 1), phone)
			if !tt.nowarm {
				f.warm(t, c, nil)
			}
			if tt.setup != nil {
				tt.setup(t, c)
			}
			r := req(c.ID, "claim", or(tt.user, "alice"), or(tt.sku, "phone"), tt.qty, orTime(tt.now, open))
			heldBefore := f.hashInts(t, f.keys.Campaign(c.ID).Held())[r.UserID]
			got := f.deduct(t, r)
			tt.want.New = true // every case is the claim's first decision
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Deduct = %+v; want %+v", got, tt.want)
			}
			if left := f.remaining(t, c.ID, "phone"); left != tt.wantLeft {
				t.Errorf("phone stock = %d; want %d", left, tt.wantLeft)
			}
			f.checkRecorded(t, r, got)
			f.checkHeld(t, r, got, heldBefore)
		})
	}
}

func rejected(reason string) stock.Decision {
	return stock.Decision{State: claim.Rejected, Reason: reason}
}

func campaignID(i int) string { return "sale-" + strconv.Itoa(i) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// checkRecorded proves the claim record holds the decision (so a duplicate
// gets it back) and that only a reservation is in flight.
func (f *fixture) checkRecorded(t *testing.T, r stock.Request, d stock.Decision) {
	t.Helper()
	rec, err := claim.NewStore(f.rdb, f.keys).Get(context.Background(), r.ClaimID)
	if err != nil {
		t.Fatalf("claim record: %v", err)
	}
	want := claim.Record{ID: r.ClaimID, CampaignID: r.CampaignID, UserID: r.UserID, SKU: r.SKU, Qty: r.Qty,
		State: d.State, Reason: d.Reason, CreatedAt: r.Now.UTC(), UpdatedAt: r.Now.UTC()}
	if rec != want {
		t.Errorf("claim record = %+v; want %+v", rec, want)
	}
	inflight := f.hashInts(t, f.keys.Campaign(r.CampaignID).Inflight())
	if got, want := inflight[r.ClaimID], map[bool]int{true: r.Qty}[d.State == claim.Reserved]; got != want {
		t.Errorf("inflight[%s] = %d; want %d", r.ClaimID, got, want)
	}
}

// checkHeld proves only a reservation moves the user's held units.
func (f *fixture) checkHeld(t *testing.T, r stock.Request, d stock.Decision, before int) {
	t.Helper()
	want := before
	if d.State == claim.Reserved {
		want += r.Qty
	}
	if got := f.hashInts(t, f.keys.Campaign(r.CampaignID).Held())[r.UserID]; got != want {
		t.Errorf("held[%s] = %d; want %d", r.UserID, got, want)
	}
}

func TestDeductIdempotent(t *testing.T) {
	f := newFixture(t)
	c := sale("dup", 2, campaign.Item{SKU: "phone", Stock: 5})
	f.warm(t, c, nil)
	now := start.Add(time.Minute)
	r := req(c.ID, "one", "alice", "phone", 1, now)
	first := f.deduct(t, r)
	r.Now = now.Add(time.Second) // a redelivery, later
	again := f.deduct(t, r)
	if !first.New || again.New {
		t.Errorf("New = %v, then %v; want true for the decision, false for the redelivery", first.New, again.New)
	}
	again.New = true
	if !reflect.DeepEqual(again, first) {
		t.Errorf("second Deduct = %+v; want the first decision %+v", again, first)
	}
	if left := f.remaining(t, c.ID, "phone"); left != 4 {
		t.Errorf("stock = %d after a duplicate; want 4 (one deduction)", left)
	}
	if wins := f.hashInts(t, f.keys.Campaign(c.ID).Wins())["alice"]; wins != 1 {
		t.Errorf("wins = %d; want 1", wins)
	}
	if held := f.hashInts(t, f.keys.Campaign(c.ID).Held())["alice"]; held != 1 {
		t.Errorf("held = %d; want 1", held)
	}
}

func TestDeductRejectionIsFinal(t *testing.T) {
	f := newFixture(t)
	c := sale("early", 1, campaign.Item{SKU: "phone", Stock: 5})
	f.warm(t, c, nil)
	r := req(c.ID, "one", "alice", "phone", 1, start.Add(-time.Second))
	first := f.deduct(t, r)
	r.Now = start.Add(time.Second) // redelivered once the sale is open
	again := f.deduct(t, r)
	if !first.New || again.New {
		t.Errorf("New = %v, then %v; want true for the rejection, false for the redelivery", first.New, again.New)
	}
	if again.New = true; !reflect.DeepEqual(again, first) || again.Reason != events.ReasonNotOpen {
		t.Errorf("redelivered Deduct = %+v; want the recorded %+v", again, first)
	}
	if left := f.remaining(t, c.ID, "phone"); left != 5 {
		t.Errorf("stock = %d; want 5", left)
	}
}

func TestDeductKeepsPendingRecord(t *testing.T) {
	f := newFixture(t)
	c := sale("pending", 1, campaign.Item{SKU: "phone", Stock: 5})
	f.warm(t, c, nil)
	r := req(c.ID, "one", "alice", "phone", 1, start.Add(time.Minute))
	created := start.Add(time.Second)
	store := claim.NewStore(f.rdb, f.keys)
	rec := claim.Record{ID: r.ClaimID, UserID: "alice", SKU: "phone", Qty: 1, CreatedAt: created}
	if _, err := store.CreatePending(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	f.deduct(t, r)
	got, err := store.Get(context.Background(), r.ClaimID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != claim.Reserved || !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(r.Now) {
		t.Errorf("record = %+v; want reserved, created %v, updated %v", got, created, r.Now)
	}
}

func TestDeductBadRequest(t *testing.T) {
	f := newFixture(t)
	now := start.Add(time.Minute)
	tests := []struct {
		name string
		r    stock.Request
	}{
		{"zero qty", req("a", "1", "u", "s", 0, now)},
		{"no user", req("a", "1", "", "s", 1, now)},
		{"no sku", req("a", "1", "u", "", 1, now)},
		{"claim of another campaign", stock.Request{ClaimID: "b.1", CampaignID: "a", UserID: "u", SKU: "s", Qty: 1, Now: now}},
		{"claim id without campaign", stock.Request{ClaimID: "x", CampaignID: "a", UserID: "u", SKU: "s", Qty: 1, Now: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.d.Deduct(context.Background(), tt.r); !errors.Is(err, stock.ErrBadRequest) {
				t.Errorf("Deduct error = %v; want ErrBadRequest", err)
			}
		})
	}
}

func TestDeductStockAboveConfiguredIsAnError(t *testing.T) {
	f := newFixture(t)
	c := sale("corrupt", 1, campaign.Item{SKU: "phone", Stock: 5})
	f.warm(t, c, nil)
	f.rdb.Set(context.Background(), f.keys.Campaign(c.ID).Stock("phone"), 6, 0)
	r := req(c.ID, "one", "alice", "phone", 1, start.Add(time.Minute))
	if d, err := f.d.Deduct(context.Background(), r); err == nil {
		t.Fatalf("Deduct = %+v; want an error (no slot can be computed)", d)
	}
	if left := f.remaining(t, c.ID, "phone"); left != 6 {
		t.Errorf("stock = %d; want 6 untouched", left)
	}
}
