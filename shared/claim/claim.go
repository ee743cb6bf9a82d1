// Package claim records each claim's state in Redis, in its campaign's slot:
// created pending by the captcha function, decided by the pre-deduct script
// (which writes the same hash fields from Lua), given its order number and
// receipt token by enqueue, marked settled by settle, read by query.
package claim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// States of a claim.
const (
	Pending  = "pending"
	Reserved = "reserved"
	Rejected = "rejected"
	Settled  = "settled"
	Released = "released"
	// Paid: a settled claim paid before its pay_by. Releasing: a settled
	// claim whose pay_by passed unpaid, decided released, its units not
	// given back yet (package stock finishes it).
	Paid      = "paid"
	Releasing = "releasing"
)

// Final reports whether a claim in state s will not change again (a
// reserved claim still settles or is released).
//
// A settled claim is reported final: the claim's decision is done, while
// its order may still be paid or released (package stock).
func Final(s string) bool { return s == Rejected || s == Settled || s == Released || s == Paid }

// Hash fields of a claim record. The pre-deduct Lua script writes
// FieldState, FieldReason, FieldSeq, FieldFirstSlot and FieldUpdated too.
const (
	FieldUser      = "user"
	FieldSKU       = "sku"
	FieldQty       = "qty"
	FieldState     = "state"
	FieldReason    = "reason"
	FieldSeq       = "seq"
	FieldFirstSlot = "first_slot"
	FieldOrderNo   = "order_no"
	FieldToken     = "token"
	FieldCreated   = "created_ms"
	FieldUpdated   = "updated_ms"
)

// TTL is how long a claim record outlives its last change.
const TTL = 7 * 24 * time.Hour

// ErrNotFound: no claim with that id.
var ErrNotFound = errors.New("claim not found")

// Record is one claim as the API shows it.
type Record struct {
	ID         string    `json:"claim_id"`
	CampaignID string    `json:"campaign_id"`
	UserID     string    `json:"user_id"`
	SKU        string    `json:"sku,omitempty"`
	Qty        int       `json:"qty"`
	State      string    `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	OrderNo    string    `json:"order_no,omitempty"`
	Token      string    `json:"receipt_token,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Epoch      int       `json:"-"` // see FieldEpoch
}

// Store reads and writes claim records.
type Store struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
}

// NewStore returns a Store in key space keys.
func NewStore(rdb redis.UniversalClient, keys keyspace.Space) *Store {
	return &Store{rdb: rdb, keys: keys}
}

func (s *Store) key(claimID string) (string, error) {
	campaign, err := s.campaignOf(claimID)
	if err != nil {
		return "", err
	}
	return s.keys.Campaign(campaign).Claim(claimID), nil
}

func (s *Store) campaignOf(claimID string) (string, error) {
	campaign, ok := keyspace.CampaignOfClaim(claimID)
	if !ok {
		return "", fmt.Errorf("claim %q: %w", claimID, ErrNotFound)
	}
	return campaign, nil
}

// createPending writes the record only when the claim is new (or only a
// tombstone of a refused attempt, whose epoch it then follows), and
// otherwise returns the record there is (HGETALL, an even number of
// fields), counting the attempt on a claim still pending (see Refuse).
// It returns {epoch} when it wrote the record.
var createPending = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'refused' then
  if state == 'pending' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
  return redis.call('HGETALL', KEYS[1])
end
local epoch = 1
if state then epoch = (tonumber(redis.call('HGET', KEYS[1], 'epoch')) or 1) + 1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'epoch', epoch, unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {tostring(epoch)}`)

// CreatePending records a new claim as pending; created is false when a
// claim with that id exists already (a retried click), which is left as is.
func (s *Store) CreatePending(ctx context.Context, r Record) (created bool, err error) {
	_, created, err = s.CreateOrGet(ctx, r)
	return created, err
}

// CreateOrGet records r as a new pending claim, or finds the claim that
// exists already (a retried click needs it to answer), and returns the
// record there is after the call and whether it created it. Either way a
// pending claim counts this attempt, which must publish the claim or
// Refuse it.
func (s *Store) CreateOrGet(ctx context.Context, r Record) (rec Record, created bool, err error) {
	key, err := s.key(r.ID)
	if err != nil {
		return Record{}, false, err
	}
	now := strconv.FormatInt(r.CreatedAt.UnixMilli(), 10)
	fields, err := createPending.Run(ctx, s.rdb, []string{key}, TTL.Milliseconds(),
		FieldUser, r.UserID, FieldSKU, r.SKU, FieldQty, r.Qty, FieldState, Pending, FieldAttempts, 1,
		FieldCreated, now, FieldUpdated, now).StringSlice()
	if err != nil {
		return Record{}, false, fmt.Errorf("create claim %s: %w", r.ID, err)
	}
	if len(fields) == 1 {
		r.CampaignID, _ = keyspace.CampaignOfClaim(r.ID)
		r.State, r.UpdatedAt, r.Epoch = Pending, r.CreatedAt, atoi(fields[0])
		return r, true, nil
	}
	return decode(r.ID, pairs(fields)), false, nil
}

// pairs is an HGETALL reply as a map.
func pairs(fields []string) map[string]string {
	h := make(map[string]string, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		h[fields[i]] = fields[i+1]
	}
	return h
}

// Get returns the record of claimID; a refused claim's tombstone is not
// one (ErrNotFound).
func (s *Store) Get(ctx context.Context, claimID string) (Record, error) {
	key, err := s.key(claimID)
	if err != nil {
		return Record{}, err
	}
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return Record{}, fmt.Errorf("get claim %s: %w", claimID, err)
	}
	return found(claimID, h)
}

// found decodes a record read whole, or says there is none.
func found(claimID string, h map[string]string) (Record, error) {
	if len(h) == 0 || h[FieldState] == Refused {
		return Record{}, fmt.Errorf("claim %s: %w", claimID, ErrNotFound)
	}
	return decode(claimID, h), nil
}

func decode(claimID string, h map[string]string) Record {
	campaign, _ := keyspace.CampaignOfClaim(claimID)
	return Record{
		ID: claimID, CampaignID: campaign, UserID: h[FieldUser], SKU: h[FieldSKU], Qty: atoi(h[FieldQty]),
		State: h[FieldState], Reason: h[FieldReason], OrderNo: h[FieldOrderNo], Token: h[FieldToken],
		CreatedAt: millis(h[FieldCreated]), UpdatedAt: millis(h[FieldUpdated]), Epoch: atoi(h[FieldEpoch]),
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func millis(s string) time.Time {
	ms, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(ms).UTC()
}

// setIf updates fields only when the claim is in state ARGV[1], so a late
// duplicate can never move a claim backwards (settled → reserved), and
// publishes the claim's state after the update on its campaign's claim
// events channel, in the same atomic step (see Event).
//
//	KEYS: 1 claim, 2 claim events channel
//	ARGV: 1 required state, 2 claim ttl ms, 3 claim id, 4… field, value pairs
//
// It returns 1 when it updated the claim, 0 when the claim was in another
// state (nothing written, nothing published).
var setIf = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[3] .. ' ' .. redis.call('HGET', KEYS[1], 'state'))
return 1`)

// SetQueued records the order number and receipt token of a reserved claim.
func (s *Store) SetQueued(ctx context.Context, claimID, orderNo, token string, at time.Time) error {
	return s.update(ctx, claimID, Reserved, FieldOrderNo, orderNo, FieldToken, token,
		FieldUpdated, strconv.FormatInt(at.UnixMilli(), 10))
}

// SetSettled marks a reserved claim settled.
func (s *Store) SetSettled(ctx context.Context, claimID string, at time.Time) error {
	return s.update(ctx, claimID, Reserved, FieldState, Settled,
		FieldUpdated, strconv.FormatInt(at.UnixMilli(), 10))
}

// SetRejected finalises a claim still pending (a dead-lettered request).
func (s *Store) SetRejected(ctx context.Context, claimID, reason string, at time.Time) error {
	return s.update(ctx, claimID, Pending, FieldState, Rejected, FieldReason, reason,
		FieldUpdated, strconv.FormatInt(at.UnixMilli(), 10))
}

func (s *Store) update(ctx context.Context, claimID, from string, fields ...any) error {
	campaign, ok := keyspace.CampaignOfClaim(claimID)
	if !ok {
		return fmt.Errorf("claim %q: %w", claimID, ErrNotFound)
	}
	c := s.keys.Campaign(campaign)
	args := append([]any{from, TTL.Milliseconds(), claimID}, fields...)
	if err := setIf.Run(ctx, s.rdb, []string{c.Claim(claimID), c.ClaimEvents()}, args...).Err(); err != nil {
		return fmt.Errorf("update claim %s: %w", claimID, err)
	}
	return nil
}

// Event is one change of a claim's state, as published on its campaign's
// channel (keyspace Campaign.ClaimEvents) by every script that writes the
// state: this package's setIf and the pre-deduct script of package stock.
// The message is "<claim id> <state>", the state being the claim's state
// after the change. Nothing is published when a claim is created pending.
// Delivery is Redis Pub/Sub: at most once, to the subscribers connected at
// that instant, so a subscriber re-reads the record rather than trust a
// message it may have missed.
type Event struct {
	ClaimID string
	State   string
}

// Message is e as published.
func (e Event) Message() string { return e.ClaimID + " " + e.State }

// ParseEvent reads a published message; ok is false for anything else.
// The state is after the last space (a state never holds one).
func ParseEvent(msg string) (e Event, ok bool) {
	i := strings.LastIndexByte(msg, ' ')
	if i <= 0 || i == len(msg)-1 {
		return Event{}, false
	}
	return Event{ClaimID: msg[:i], State: msg[i+1:]}, true
}
