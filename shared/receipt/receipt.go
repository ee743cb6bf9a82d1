// Package receipt is the receipt token: a compact, signed record of what a
// claim won. Enqueue mints it once a reservation exists; the client keeps a
// copy, the user's pending list in Redis holds another, and settle turns it
// into an order in PostgreSQL. Anyone holding a public key from GET /v1/keys
// can check it.
//
// A token is base64url(payload) "." base64url(signature), without padding.
// The payload is a protobuf message written field by field with protowire
// (no generated code); the signature is Ed25519 over the payload bytes.
// Both the encoding and Ed25519 are deterministic, so a redelivered
// reservation mints the byte-identical token.
package receipt

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors of Verify.
var (
	// ErrMalformed: not a token at all (bad shape, bad base64, bad protobuf,
	// missing fields).
	ErrMalformed = errors.New("malformed receipt token")
	// ErrForged: well formed, but the signature does not verify or the key is
	// unknown.
	ErrForged = errors.New("forged receipt token")
)

// Receipt is what a token says was won.
type Receipt struct {
	TokenID    string    // the claim id
	OrderNo    string    // campaign:lot:user:seq (the lot: a SKU, or campaign.RainLot)
	CampaignID string    //
	SKU        string    //
	UserID     string    //
	Qty        int       // units won
	Seq        int       // the user's n-th win in the campaign
	FirstSlot  int       // stock units FirstSlot..FirstSlot+Qty-1, or Slots
	Amount     int64     // cents: price × qty
	ReservedAt time.Time // millisecond precision on the wire
	PayBy      time.Time // millisecond precision on the wire
	KeyID      string    // the signing key; Sign sets it
	// Shadow marks a win of shadow traffic (package plane): settle and
	// query on the real plane refuse it, so no load test becomes an order.
	Shadow bool
	// Slots lists the stock units when they are not the range from
	// FirstSlot (slots given back by releases and sold again); nil for a
	// range. Its first element is FirstSlot.
	Slots []int
	// Kind is the campaign's kind (campaign.KindRain for a packet: SKU is
	// campaign.RainLot, FirstSlot the packet number, Amount its money);
	// empty for a sale, whose receipts keep the bytes they always had.
	Kind string
}

// OrderNo is the deterministic order number of a user's seq-th win of sku
// in campaign: a retry can never mint a second order.
func OrderNo(campaign, sku, user string, seq int) string {
	return campaign + ":" + sku + ":" + user + ":" + strconv.Itoa(seq)
}

// Expired reports whether the payment deadline has passed at now.
func (r Receipt) Expired(now time.Time) bool { return !now.Before(r.PayBy) }

// validate names what a receipt is missing to be signed or trusted.
func (r Receipt) validate() error {
	switch {
	case r.TokenID == "", r.OrderNo == "", r.CampaignID == "", r.SKU == "", r.UserID == "", r.KeyID == "":
		return errors.New("missing identifier")
	case r.Qty <= 0, r.Seq <= 0, r.FirstSlot <= 0, r.Amount < 0:
		return errors.New("quantity out of range")
	case r.ReservedAt.IsZero(), r.PayBy.IsZero():
		return errors.New("missing time")
	}
	return checkSlots(r.Slots, r.Qty, r.FirstSlot)
}

// checkSlots checks a slot list: nil (a range), or qty positive slots
// starting at first.
func checkSlots(slots []int, qty, first int) error {
	if slots == nil {
		return nil
	}
	if len(slots) != qty || slots[0] != first {
		return fmt.Errorf("slots %v do not match qty %d from slot %d", slots, qty, first)
	}
	for _, n := range slots {
		if n <= 0 {
			return fmt.Errorf("slot %d out of range", n)
		}
	}
	return nil
}
