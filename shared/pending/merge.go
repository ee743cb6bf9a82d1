package pending

import (
	"sort"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/receipt"
)

// States of a merged entry: pending (a token not in PostgreSQL yet),
// settled (an order awaiting payment), paid, released (not paid by its
// pay_by: its units went back on sale).
const (
	StateSettled  = "settled"
	StatePending  = "pending"
	StatePaid     = "paid"
	StateReleased = "released"
)

// Order is a settled order as PostgreSQL holds it.
type Order struct {
	OrderNo    string
	TokenID    string
	CampaignID string
	SKU        string
	Seq        int
	Qty        int
	FirstSlot  int
	Amount     int64
	ReservedAt time.Time
	PayBy      time.Time
	SettledAt  time.Time
	State      string     // PostgreSQL's: reserved (unpaid), paid, released
	PaidAt     *time.Time // when paid
	ReleasedAt *time.Time // when released
	Kind       string     // the campaign's: sale or rain
}

// Entry is one order of a user's merged list.
type Entry struct {
	OrderNo    string     `json:"order_no"`
	State      string     `json:"state"`
	Kind       string     `json:"kind"` // the campaign's: sale, or rain (a packet: Amount is its money)
	ClaimID    string     `json:"claim_id"`
	CampaignID string     `json:"campaign_id"`
	SKU        string     `json:"sku"`
	Seq        int        `json:"seq"`
	Qty        int        `json:"qty"`
	FirstSlot  int        `json:"first_slot"`
	Amount     int64      `json:"amount"`
	ReservedAt time.Time  `json:"reserved_at"`
	PayBy      time.Time  `json:"pay_by"`
	SettledAt  *time.Time `json:"settled_at,omitempty"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
}

// Totals counts a merged list. Settled counts the orders in PostgreSQL
// that are still the user's (awaiting payment or paid; Paid of them
// paid); a released order counts in Released only, its amount nowhere.
type Totals struct {
	Settled       int   `json:"settled"`
	Pending       int   `json:"pending"`
	Paid          int   `json:"paid"`
	Released      int   `json:"released"`
	SettledAmount int64 `json:"settled_amount"`
	PendingAmount int64 `json:"pending_amount"`
}

// Merge returns the settled orders plus the pending receipts whose order
// number is not among them, each order once, oldest reservation first.
//
// The caller must read the pending list BEFORE the settled orders. Settle
// writes PostgreSQL first and removes the pending token after, so a win
// settling between the two reads is then seen in both (and deduplicated
// here by order number). Read the other way round, a win settling in
// between would be in neither read and go missing.
func Merge(settled []Order, pending []receipt.Receipt) []Entry {
	seen := make(map[string]bool, len(settled)+len(pending))
	out := make([]Entry, 0, len(settled)+len(pending))
	for _, o := range settled {
		if !seen[o.OrderNo] {
			seen[o.OrderNo] = true
			out = append(out, fromOrder(o))
		}
	}
	for _, r := range pending {
		if !seen[r.OrderNo] {
			seen[r.OrderNo] = true
			out = append(out, fromReceipt(r))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out
}

func before(a, b Entry) bool {
	if !a.ReservedAt.Equal(b.ReservedAt) {
		return a.ReservedAt.Before(b.ReservedAt)
	}
	return a.OrderNo < b.OrderNo
}

// StateOf is the state an order shows as, given its state in PostgreSQL
// (ledger.StateReserved, StatePaid, StateReleased): a reserved order has
// settled and awaits payment, a paid or released one is that. The claim
// states of a settled claim (claim.Settled, Paid, Released) are spelled the
// same, so query answers a claim from its order with this too.
func StateOf(orderState string) string {
	switch orderState {
	case ledger.StatePaid:
		return StatePaid
	case ledger.StateReleased:
		return StateReleased
	}
	return StateSettled
}

func fromOrder(o Order) Entry {
	at := o.SettledAt
	return Entry{
		OrderNo: o.OrderNo, State: StateOf(o.State), Kind: o.Kind, ClaimID: o.TokenID, CampaignID: o.CampaignID, SKU: o.SKU,
		Seq: o.Seq, Qty: o.Qty, FirstSlot: o.FirstSlot, Amount: o.Amount,
		ReservedAt: o.ReservedAt, PayBy: o.PayBy, SettledAt: &at, PaidAt: o.PaidAt, ReleasedAt: o.ReleasedAt,
	}
}

func fromReceipt(r receipt.Receipt) Entry {
	return Entry{
		OrderNo: r.OrderNo, State: StatePending, Kind: kindOf(r), ClaimID: r.TokenID, CampaignID: r.CampaignID, SKU: r.SKU,
		Seq: r.Seq, Qty: r.Qty, FirstSlot: r.FirstSlot, Amount: r.Amount,
		ReservedAt: r.ReservedAt, PayBy: r.PayBy,
	}
}

// kindOf is the campaign kind a receipt names (a sale's names none).
func kindOf(r receipt.Receipt) string {
	if r.Kind == "" {
		return campaign.KindSale
	}
	return r.Kind
}

// Total counts entries by state.
func Total(entries []Entry) Totals {
	var t Totals
	for _, e := range entries {
		switch e.State {
		case StatePending:
			t.Pending++
			t.PendingAmount += e.Amount
		case StateReleased:
			t.Released++
		case StatePaid:
			t.Paid++
			fallthrough
		default:
			t.Settled++
			t.SettledAmount += e.Amount
		}
	}
	return t
}
