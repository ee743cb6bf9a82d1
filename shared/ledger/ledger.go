// Package ledger writes settled orders to PostgreSQL, the system of record,
// in group-committed batches with database-side guards shaped as unique
// keys (no hot rows): an order is inserted only when its seq is within the
// campaign's per-user limit and each stock unit it holds is a free slot
// 1..stock of its SKU. Writing an order again is success (idempotent).
package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Errors of Submit.
var (
	// ErrGuard: the order breaks a database guard (seq over the per-user
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
	Qty        int // units, holding slots FirstSlot..FirstSlot+Qty-1
	FirstSlot  int
	Amount     int64 // cents
	ReservedAt time.Time
	PayBy      time.Time
}

// LastSlot is the last stock unit the order holds.
func (o Order) LastSlot() int { return o.FirstSlot + o.Qty - 1 }

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
	}
	return nil
}
