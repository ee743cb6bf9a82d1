// Package ledger writes settled orders to PostgreSQL, the system of record,
// in group-committed batches with database-side guards shaped as unique
// keys (no hot rows): an order is inserted only when each stock unit it
// holds is a free slot 1..stock of its SKU and its user has a free unit
// 1..per_user_limit for each of them. Writing an order again is success
// (idempotent). Payments marks an order paid or released; a release gives
// its slots and user units back.
package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Errors of Submit.
var (
	// ErrGuard: the order breaks a database guard (units over the per-user
	// limit, a slot over stock or held by another order, an unknown campaign
	// or SKU, its order number or token held by a different order). No retry
	// can fix it: dead-letter it.
	ErrGuard = errors.New("ledger guard violated")
	// ErrContention: PostgreSQL aborted the batch (deadlock, serialization);
	// a retry will likely succeed.
	ErrContention = errors.New("ledger contention")
	// ErrClosed: the Committer is closed.
	ErrClosed = errors.New("ledger closed")
)

// Order is one settled receipt token.
type Order struct {
	OrderNo    string // campaign:sku:user:seq
	TokenID    string // the claim id
	CampaignID string
	SKU        string
	UserID     string
	Seq        int // the user's n-th win in the campaign
	Qty        int // units, holding slots FirstSlot..FirstSlot+Qty-1, or Slots
	FirstSlot  int
	// Slots lists the stock slots the order holds when they are not the
	// range from FirstSlot (slots given back and sold again); nil for a
	// range. Its first element is FirstSlot.
	Slots      []int
	Amount     int64 // cents
	ReservedAt time.Time
	PayBy      time.Time
}

// SlotList is every stock slot the order holds, in order.
func (o Order) SlotList() []int { return Slots(o.FirstSlot, o.Qty, o.Slots) }

// Slots lists the stock slots an order or a reservation holds: the list it
// took when it took slots given back, else qty of them from first. It is
// exported so the stages that see a reservation before it is an order
// (enqueue pricing a rain's packets) read its slots the way the ledger will.
func Slots(first, qty int, slots []int) []int {
	if len(slots) > 0 {
		return slots
	}
	out := make([]int, qty)
	for i := range out {
		out[i] = first + i
	}
	return out
}

// validate rejects what the table's checks would reject, so one bad order
// never aborts the batch it would share with good ones.
func (o Order) validate() error {
	switch {
	case o.OrderNo == "", o.TokenID == "", o.CampaignID == "", o.SKU == "", o.UserID == "":
		return fmt.Errorf("order %q: missing identifier: %w", o.OrderNo, ErrGuard)
	case o.Seq <= 0, o.Qty <= 0, o.FirstSlot <= 0, o.Amount < 0:
		return fmt.Errorf("order %s: quantity out of range: %w", o.OrderNo, ErrGuard)
	case o.ReservedAt.IsZero(), o.PayBy.IsZero():
		return fmt.Errorf("order %s: missing time: %w", o.OrderNo, ErrGuard)
	case o.Slots != nil && (len(o.Slots) != o.Qty || o.Slots[0] != o.FirstSlot):
		return fmt.Errorf("order %s: slots %v do not match qty %d from %d: %w", o.OrderNo, o.Slots, o.Qty, o.FirstSlot, ErrGuard)
	}
	for _, n := range o.Slots {
		if n <= 0 {
			return fmt.Errorf("order %s: slot %d out of range: %w", o.OrderNo, n, ErrGuard)
		}
	}
	return nil
}
