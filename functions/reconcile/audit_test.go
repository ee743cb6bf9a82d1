package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/ledger"
)

func TestCompare(t *testing.T) {
	stock := map[string]int{"phone": 10}
	for _, tc := range []struct {
		name     string
		snap     snapshot
		ledger   ledgerView
		diff     int
		mismatch bool
		stale    []string
	}{
		{"consistent",
			snap(7, map[string]int{"c.3": 1}, map[string]string{"c.3": "phone"}),
			view(stock, 2, map[string]int{"c.1": 1, "c.2": 1}), 0, false, nil},
		{"lost order",
			snap(6, map[string]int{"c.3": 1}, map[string]string{"c.3": "phone"}),
			view(stock, 2, map[string]int{"c.1": 1, "c.2": 1}), 1, true, nil},
		{"settled during the pass counts once",
			snap(8, map[string]int{"c.2": 1}, map[string]string{"c.2": "phone"}),
			view(stock, 2, map[string]int{"c.1": 1, "c.2": 1}), 0, false, []string{"c.2"}},
		{"counted twice",
			snap(9, nil, nil),
			view(stock, 2, map[string]int{"c.1": 1, "c.2": 1}), -1, true, nil},
		{"claim record gone, one sku",
			snap(9, map[string]int{"c.9": 1}, map[string]string{"c.9": ""}),
			view(stock, 0, nil), 0, false, nil},
		{"not warmed",
			snapshot{remaining: map[string]int{}}, view(stock, 0, nil), 0, false, nil},
		{"releasing, released in PostgreSQL: its units are still taken",
			snapshot{remaining: map[string]int{"phone": 8}, releasing: map[string]int{"c.2": 1}, claimSKU: map[string]string{"c.2": "phone"}},
			view(stock, 1, map[string]int{"c.1": 1}), 0, false, nil},
		{"releasing, not released in PostgreSQL yet: counted once",
			snapshot{remaining: map[string]int{"phone": 8}, releasing: map[string]int{"c.2": 1}, claimSKU: map[string]string{"c.2": "phone"}},
			view(stock, 2, map[string]int{"c.1": 1, "c.2": 1}), 0, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compare("c", tc.snap, tc.ledger)
			if got.Difference != tc.diff || got.Mismatch != tc.mismatch || !reflect.DeepEqual(got.StaleInflight, tc.stale) {
				t.Errorf("compare = difference %d, mismatch %v, stale %v; want %d, %v, %v",
					got.Difference, got.Mismatch, got.StaleInflight, tc.diff, tc.mismatch, tc.stale)
			}
		})
	}
}

func TestCompareStockMissingAfterSales(t *testing.T) {
	got := compare("c", snapshot{remaining: map[string]int{}}, view(map[string]int{"phone": 10}, 3, map[string]int{"c.1": 3}))
	if !got.Mismatch || !got.SKUs[0].Missing {
		t.Errorf("compare = %+v; want a mismatch with stock_missing", got)
	}
}

func snap(remaining int, inflight map[string]int, skus map[string]string) snapshot {
	return snapshot{remaining: map[string]int{"phone": remaining}, inflight: inflight, claimSKU: skus}
}

func view(stock map[string]int, settled int, claims map[string]int) ledgerView {
	return ledgerView{stock: stock, settledUnits: map[string]int{"phone": settled}, settledClaims: claims}
}

func TestReportKey(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	if got, want := reportKey(at, "ping/1 x"), "reconcile/20300102T030405.006Z-ping_1_x.json"; got != want {
		t.Errorf("reportKey = %q; want %q", got, want)
	}
}

// A claim reserved and settled between the Redis snapshot and the
// PostgreSQL read holds a slot above what the snapshot shows taken: it is
// left out, so a pass racing a live sale reports no false difference.
func TestSettledAtLeavesOutLaterReservations(t *testing.T) {
	stock := map[string]int{"phone": 10}
	s := snap(8, nil, nil) // slots 1 and 2 taken at the snapshot
	orders := []ledger.Settled{
		{TokenID: "c.1", SKU: "phone", FirstSlot: 1, Qty: 1},
		{TokenID: "c.2", SKU: "phone", FirstSlot: 2, Qty: 1},
		{TokenID: "c.3", SKU: "phone", FirstSlot: 3, Qty: 1}, // after the snapshot
	}
	l := settledAt(s, stock, orders)
	if l.settledUnits["phone"] != 2 || len(l.settledClaims) != 2 {
		t.Fatalf("settledAt = %v units, claims %v; want 2 units of c.1 and c.2", l.settledUnits, l.settledClaims)
	}
	if got := compare("c", s, l); got.Difference != 0 || got.Mismatch {
		t.Errorf("compare = difference %d, mismatch %v; want 0, false", got.Difference, got.Mismatch)
	}
	if got := compare("c", snapshot{remaining: map[string]int{}}, settledAt(snapshot{}, stock, orders)); got.Accounted != 3 {
		t.Errorf("without a stock key every order counts: accounted %d, want 3", got.Accounted)
	}
}

// Slots given back and sold again: at the snapshot slot 3 was free (its
// order released), so an order holding it, or the next fresh slot 4, was
// reserved after the snapshot; orders on slots 1 and 2 count.
func TestSettledAtWithFreedSlots(t *testing.T) {
	stock := map[string]int{"phone": 10}
	s := snapshot{remaining: map[string]int{"phone": 8}, free: map[string]map[int]bool{"phone": {3: true}}}
	orders := []ledger.Settled{
		{TokenID: "c.1", SKU: "phone", FirstSlot: 1, Qty: 1},
		{TokenID: "c.2", SKU: "phone", FirstSlot: 5, Qty: 1, Slots: []int{2}},
		{TokenID: "c.3", SKU: "phone", FirstSlot: 3, Qty: 1, Slots: []int{3}}, // took the freed slot after the snapshot
		{TokenID: "c.4", SKU: "phone", FirstSlot: 4, Qty: 1},                  // the next fresh slot, after the snapshot
	}
	l := settledAt(s, stock, orders)
	if l.settledUnits["phone"] != 2 || l.settledClaims["c.1"] != 1 || l.settledClaims["c.2"] != 1 {
		t.Fatalf("settledAt = %v units, claims %v; want c.1 and c.2", l.settledUnits, l.settledClaims)
	}
	if got := compare("c", s, l); got.Difference != 0 || got.Mismatch {
		t.Errorf("compare = difference %d, mismatch %v; want 0, false", got.Difference, got.Mismatch)
	}
}
