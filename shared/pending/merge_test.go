package pending

import (
	"fmt"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/receipt"
)

var t0 = time.Date(2025, 11, 11, 0, 0, 0, 0, time.UTC)

func order(seq int, amount int64) Order {
	return Order{
		OrderNo: receipt.OrderNo("c", "s", "u", seq), TokenID: fmt.Sprintf("c.%d", seq), CampaignID: "c", SKU: "s",
		Seq: seq, Qty: 1, FirstSlot: seq, Amount: amount,
		ReservedAt: t0.Add(time.Duration(seq) * time.Second), SettledAt: t0.Add(time.Minute),
	}
}

func token(seq int, amount int64) receipt.Receipt {
	return receipt.Receipt{
		OrderNo: receipt.OrderNo("c", "s", "u", seq), TokenID: fmt.Sprintf("c.%d", seq), CampaignID: "c", SKU: "s",
		Seq: seq, Qty: 1, FirstSlot: seq, Amount: amount, ReservedAt: t0.Add(time.Duration(seq) * time.Second),
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		settled []Order
		pending []receipt.Receipt
		want    []string // order seq:state, in order
		totals  Totals
	}{
		{"empty", nil, nil, []string{}, Totals{}},
		{"only pending", nil, []receipt.Receipt{token(1, 100)}, []string{"1:pending"},
			Totals{Pending: 1, PendingAmount: 100}},
		{"only settled", []Order{order(1, 100)}, nil, []string{"1:settled"},
			Totals{Settled: 1, SettledAmount: 100}},
		{"settling: in both, counted once as settled", []Order{order(1, 100)}, []receipt.Receipt{token(1, 100)},
			[]string{"1:settled"}, Totals{Settled: 1, SettledAmount: 100}},
		{"mixed, sorted by reservation", []Order{order(2, 200)}, []receipt.Receipt{token(3, 300), token(1, 100), token(2, 200)},
			[]string{"1:pending", "2:settled", "3:pending"}, Totals{Settled: 1, Pending: 2, SettledAmount: 200, PendingAmount: 400}},
		{"duplicate pending input", nil, []receipt.Receipt{token(1, 100), token(1, 100)}, []string{"1:pending"},
			Totals{Pending: 1, PendingAmount: 100}},
		{"duplicate settled input", []Order{order(1, 100), order(1, 100)}, nil, []string{"1:settled"},
			Totals{Settled: 1, SettledAmount: 100}},
		{"paid and released: a released order is the user's no more", []Order{closed(order(1, 100), "paid"), closed(order(2, 200), "released"), order(3, 300)},
			nil, []string{"1:paid", "2:released", "3:settled"}, Totals{Settled: 2, Paid: 1, Released: 1, SettledAmount: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.settled, tt.pending)
			if fmt.Sprint(summary(got)) != fmt.Sprint(tt.want) {
				t.Errorf("Merge = %v, want %v", summary(got), tt.want)
			}
			if tot := Total(got); tot != tt.totals {
				t.Errorf("Total = %+v, want %+v", tot, tt.totals)
			}
		})
	}
}

func summary(es []Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, fmt.Sprintf("%d:%s", e.Seq, e.State))
	}
	return out
}

// TestMergeNeverLosesOrDoublesAWin walks one win through its life: pending,
// settling (in both places), settled. At every step it is listed once.
func TestMergeNeverLosesOrDoublesAWin(t *testing.T) {
	steps := []struct {
		name    string
		settled []Order
		pending []receipt.Receipt
	}{
		{"queued", nil, []receipt.Receipt{token(1, 100)}},
		{"committed, not yet removed", []Order{order(1, 100)}, []receipt.Receipt{token(1, 100)}},
		{"settled", []Order{order(1, 100)}, nil},
	}
	for _, s := range steps {
		if got := Merge(s.settled, s.pending); len(got) != 1 || Total(got).Settled+Total(got).Pending != 1 {
			t.Errorf("%s: Merge = %v, want the win exactly once", s.name, summary(got))
		}
	}
}

func closed(o Order, state string) Order {
	o.State = state
	return o
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		orderState string
		want       string
	}{
		{ledger.StateReserved, StateSettled},
		{ledger.StatePaid, StatePaid},
		{ledger.StateReleased, StateReleased},
	}
	for _, tt := range tests {
		if got := StateOf(tt.orderState); got != tt.want {
			t.Errorf("StateOf(%q) = %q, want %q", tt.orderState, got, tt.want)
		}
	}
}
