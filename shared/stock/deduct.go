package stock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// ErrBadRequest marks a Request no retry can fix.
var ErrBadRequest = errors.New("bad deduct request")

// Request is one claim to decide.
type Request struct {
	ClaimID    string // keyspace.ClaimID(CampaignID, …)
	CampaignID string
	UserID     string
	SKU        string
	Qty        int
	Now        time.Time
	// RequestedAt is when captcha recorded the claim (the event's
	// requested_at); zero when unknown, which skips the age check of a
	// claim with no record (see deductLua).
	RequestedAt time.Time
}

// Decision is what the pre-deduct script decided for a claim, or had
// decided already when the claim is seen again. State is claim.Reserved or
// claim.Rejected (or claim.Settled / claim.Released for a claim further
// down the chain, claim.Refused for one captcha refused: nothing was
// decided, nothing changed); Reason is set for a rejection. A reservation holds stock
// units FirstSlot..FirstSlot+Qty-1 (or Slots), is the user's Seq-th win in the campaign
// and must be paid by PayBy. ReservedAt is when the reservation was first
// made, whatever the delivery that asks again. New reports that this call
// made the decision: false when it was recorded before (a redelivery gets
// it back) or nothing was decided, so a decision is counted once.
type Decision struct {
	State     string
	Reason    string
	Seq       int
	FirstSlot int
	// Slots lists the stock slots when they are not a range from
	// FirstSlot (slots given back and sold again); nil for a range.
	Slots      []int
	PayBy      time.Time
	ReservedAt time.Time
	New        bool
}

// Deducter runs the pre-deduct script.
type Deducter struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
}

// NewDeducter returns a Deducter over rdb in key space keys.
func NewDeducter(rdb redis.UniversalClient, keys keyspace.Space) *Deducter {
	return &Deducter{rdb: rdb, keys: keys}
}

// Deduct decides req atomically; deciding the same claim id again returns
// the recorded decision and changes nothing.
func (d *Deducter) Deduct(ctx context.Context, req Request) (Decision, error) {
	if err := req.validate(); err != nil {
		return Decision{}, err
	}
	keys, args := d.scriptInput(req)
	res, err := deductScript.Run(ctx, d.rdb, keys, args...).Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("deduct claim %s: %w", req.ClaimID, err)
	}
	return decode(res)
}

// scriptInput is the KEYS and ARGV of the pre-deduct script for req.
func (d *Deducter) scriptInput(req Request) (keys []string, args []any) {
	c := d.keys.Campaign(req.CampaignID)
	keys = []string{c.Meta(), c.Stock(req.SKU), c.Held(), c.Wins(), c.Claim(req.ClaimID), c.Inflight(), c.ClaimEvents(),
		c.Free(req.SKU), c.Due()}
	var requested int64
	if !req.RequestedAt.IsZero() {
		requested = req.RequestedAt.UnixMilli()
	}
	return keys, []any{req.Now.UnixMilli(), req.Qty, req.UserID, req.SKU, req.ClaimID, claim.TTL.Milliseconds(),
		d.keys.SoldOut(), req.CampaignID, requested, claim.RefusedTTL.Milliseconds()}
}

func (r Request) validate() error {
	campaign, ok := keyspace.CampaignOfClaim(r.ClaimID)
	switch {
	case r.UserID == "" || r.SKU == "" || r.CampaignID == "":
		return fmt.Errorf("%w: campaign, user and sku are required", ErrBadRequest)
	case !ok || campaign != r.CampaignID:
		return fmt.Errorf("%w: claim %q is not of campaign %q", ErrBadRequest, r.ClaimID, r.CampaignID)
	case r.Qty <= 0:
		return fmt.Errorf("%w: qty must be positive, got %d", ErrBadRequest, r.Qty)
	}
	return nil
}

// decode reads the script's {state, reason, seq, first_slot, pay_by_ms,
// reserved_ms, slots, new}.
func decode(res []any) (Decision, error) {
	if len(res) != 8 {
		return Decision{}, fmt.Errorf("deduct: script returned %d values, want 8", len(res))
	}
	state, _ := res[0].(string)
	reason, _ := res[1].(string)
	seq, _ := res[2].(int64)
	first, _ := res[3].(int64)
	payBy, _ := res[4].(int64)
	reservedAt, _ := res[5].(int64)
	if state == "" {
		return Decision{}, fmt.Errorf("deduct: script returned no state")
	}
	list, _ := res[6].(string)
	slots, err := ParseSlots(list)
	if err != nil {
		return Decision{}, fmt.Errorf("deduct: %w", err)
	}
	fresh, _ := res[7].(int64)
	d := Decision{State: state, Reason: reason, Seq: int(seq), FirstSlot: int(first), Slots: slots, New: fresh == 1}
	if payBy > 0 {
		d.PayBy = time.UnixMilli(payBy).UTC()
	}
	if reservedAt > 0 {
		d.ReservedAt = time.UnixMilli(reservedAt).UTC()
	}
	return d, nil
}

// ParseSlots reads a slot list as the scripts record it ("5,17"); "" is
// nil (a range).
func ParseSlots(list string) ([]int, error) {
	if list == "" {
		return nil, nil
	}
	parts := strings.Split(list, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("slot list %q: bad slot %q", list, p)
		}
		out[i] = n
	}
	return out, nil
}
