package stock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// Claim record fields the payment window writes.
const (
	FieldPaidKey  = "paid_key" // the Idempotency-Key of the payment
	FieldPaidAt   = "paid_ms"
	FieldReleased = "released_ms"
)

// Outcome is what a payment-window script did to a claim.
type Outcome string

// Outcomes of Pay, Expire and GiveBack.
const (
	// Paid: this call paid the claim. Replay: it was paid already with the
	// same key (the first answer stands).
	Paid   Outcome = "paid"
	Replay Outcome = "replay"
	// AlreadyPaid: paid already with another key; nothing changed.
	AlreadyPaid Outcome = "already_paid"
	// Expired: pay_by has passed (or the claim is released or releasing);
	// a payment changes nothing.
	Expired Outcome = "expired"
	// Releasing: this call decided the claim released; its units are
	// given back by GiveBack once PostgreSQL released the order.
	Releasing Outcome = "releasing"
	// Released: this call gave the claim's units back.
	Released Outcome = "released"
	// NotDue: pay_by has not passed; a release changes nothing.
	NotDue Outcome = "not_due"
	// NotSettled: the claim's order is not in PostgreSQL yet (the claim is
	// reserved): settle it first.
	NotSettled Outcome = "not_settled"
	// Unchanged: the claim is in another state (see Fate.State); nothing
	// changed.
	Unchanged Outcome = "unchanged"
)

// ErrNoClaim: the claim has no record.
var ErrNoClaim = errors.New("no claim record")

// Fate is a claim's state after a payment-window script, and what the
// script did.
type Fate struct {
	State   string // claim.Paid, claim.Releasing, claim.Released, …
	Outcome Outcome
}

// decideLua decides, atomically, whether a settled claim is paid or
// released: one script for both, so a payment and a release racing for one
// claim have one decision point, and the first to run wins. The time is
// ARGV[4], or Redis's own clock when it is 0 (one clock for both sides):
// a payment needs now < pay_by, a release now ≥ pay_by.
//
//	KEYS: 1 claim, 2 due, 3 claim events channel, 4 releasing
//	ARGV: 1 mode (pay | release), 2 claim id, 3 idempotency key (pay), 4 now ms or 0
//
// It returns {state, outcome}.
const decideLua = `
local r = redis.call('HMGET', KEYS[1], 'state', 'pay_by_ms', 'paid_key', 'qty')
local state, pay_by = r[1], tonumber(r[2])
if not state then return {'', 'missing'} end
local pay = ARGV[1] == 'pay'
if state == 'paid' then
  if not pay then return {state, 'unchanged'} end
  if r[3] == ARGV[3] then return {state, 'replay'} end
  return {state, 'already_paid'}
end
if state == 'releasing' or state == 'released' then
  if pay then return {state, 'expired'} end
  return {state, 'unchanged'}
end
if state ~= 'settled' and state ~= 'reserved' then return {state, 'unchanged'} end
local now = tonumber(ARGV[4])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if not pay_by then return redis.error_reply('claim ' .. ARGV[2] .. ' has no pay_by') end
if pay and now >= pay_by then return {state, 'expired'} end
if not pay and now < pay_by then return {state, 'not_due'} end
if state ~= 'settled' then return {state, 'not_settled'} end
local ms = string.format('%.0f', now)
if pay then
  redis.call('HSET', KEYS[1], 'state', 'paid', 'paid_key', ARGV[3], 'paid_ms', ms, 'updated_ms', ms)
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('PUBLISH', KEYS[3], ARGV[2] .. ' paid')
  return {'paid', 'paid'}
end
redis.call('HSET', KEYS[1], 'state', 'releasing', 'updated_ms', ms)
redis.call('HSET', KEYS[4], ARGV[2], r[4] or '0')
return {'releasing', 'releasing'}
`

// giveBackLua finishes a release, exactly once (the state releasing is the
// guard): the claim's slots go to the free list, its units back to the
// stock, the user's held count down; the claim becomes released, leaves
// the due index, and the new count is announced on the sold-out channel.
// A missing stock key is not recreated (fail closed): the units are then
// counted back by a rebuild from PostgreSQL.
//
//	KEYS: 1 claim, 2 stock(sku), 3 free(sku), 4 held, 5 due, 6 claim events channel, 7 inflight, 8 releasing
//	ARGV: 1 claim id, 2 now ms, 3 sold-out channel, 4 campaign id, 5 sku
//
// It returns {state, outcome, units left}.
const giveBackLua = `
local r = redis.call('HMGET', KEYS[1], 'state', 'user', 'qty', 'first_slot', 'slots', 'sku')
local state = r[1]
if not state then return {'', 'missing', 0} end
if state ~= 'releasing' then return {state, 'unchanged', 0} end
if r[6] ~= ARGV[5] then return redis.error_reply('claim ' .. ARGV[1] .. ' is not of sku ' .. ARGV[5]) end
local qty, first = tonumber(r[3]), tonumber(r[4])
local left = -1
if redis.call('EXISTS', KEYS[2]) == 1 then
  if r[5] and r[5] ~= '' then
    for slot in string.gmatch(r[5], '%d+') do redis.call('ZADD', KEYS[3], tonumber(slot), slot) end
  else
    for slot = first, first + qty - 1 do redis.call('ZADD', KEYS[3], slot, slot) end
  end
  left = redis.call('INCRBY', KEYS[2], qty)
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. left)
end
if redis.call('HINCRBY', KEYS[4], r[2], -qty) <= 0 then redis.call('HDEL', KEYS[4], r[2]) end
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'released', 'released_ms', ARGV[2], 'updated_ms', ARGV[2])
redis.call('PUBLISH', KEYS[6], ARGV[1] .. ' released')
return {'released', 'released', left}
`

// abandonLua decides a reservation that can never settle released: a
// claim still reserved moves to releasing (and into the releasing hash),
// for GiveBack to return its units exactly once.
//
//	KEYS: 1 claim, 2 releasing
//	ARGV: 1 claim id, 2 now ms
const abandonLua = `
local r = redis.call('HMGET', KEYS[1], 'state', 'qty')
if not r[1] then return {'', 'missing'} end
if r[1] ~= 'reserved' then return {r[1], 'unchanged'} end
redis.call('HSET', KEYS[1], 'state', 'releasing', 'updated_ms', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], r[2] or '0')
return {'releasing', 'releasing'}
`

var (
	decideScript   = redis.NewScript(decideLua)
	giveBackScript = redis.NewScript(giveBackLua)
	abandonScript  = redis.NewScript(abandonLua)
)

// Abandon releases a claim still reserved whose order can never reach
// PostgreSQL (its event was refused as poison): its units go back at
// once, exactly once, and the claim ends released. The caller has made
// sure PostgreSQL holds no order of it. A claim in another state is left
// as it is (Unchanged).
func (w *Window) Abandon(ctx context.Context, claimID string, now time.Time) (Fate, error) {
	c, err := w.campaign(claimID)
	if err != nil {
		return Fate{}, err
	}
	res, err := abandonScript.Run(ctx, w.rdb, []string{c.Claim(claimID), c.Releasing()}, claimID, now.UnixMilli()).StringSlice()
	if err != nil {
		return Fate{}, fmt.Errorf("abandon %s: %w", claimID, err)
	}
	f, err := fate(claimID, res)
	if err != nil || f.Outcome != Releasing {
		return f, err
	}
	return w.GiveBack(ctx, claimID, now)
}

// Window runs the end of reservations' payment windows in Redis: payment,
// the release decision, the give-back, and the due index.
type Window struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
}

// NewWindow returns a Window over rdb in key space keys.
func NewWindow(rdb redis.UniversalClient, keys keyspace.Space) *Window {
	return &Window{rdb: rdb, keys: keys}
}

// Pay pays a settled claim before its pay_by, at now (Redis's clock when
// zero), under an Idempotency-Key.
func (w *Window) Pay(ctx context.Context, claimID, key string, now time.Time) (Fate, error) {
	if key == "" {
		return Fate{}, fmt.Errorf("%w: a payment needs an idempotency key", ErrBadRequest)
	}
	return w.decide(ctx, "pay", claimID, key, now)
}

// Expire decides a settled claim released once its pay_by has passed, at
// now (Redis's clock when zero). Call GiveBack once PostgreSQL released
// its order.
func (w *Window) Expire(ctx context.Context, claimID string, now time.Time) (Fate, error) {
	return w.decide(ctx, "release", claimID, "", now)
}

func (w *Window) decide(ctx context.Context, mode, claimID, key string, now time.Time) (Fate, error) {
	c, err := w.campaign(claimID)
	if err != nil {
		return Fate{}, err
	}
	res, err := decideScript.Run(ctx, w.rdb, []string{c.Claim(claimID), c.Due(), c.ClaimEvents(), c.Releasing()},
		mode, claimID, key, millisOrZero(now)).StringSlice()
	if err != nil {
		return Fate{}, fmt.Errorf("%s claim %s: %w", mode, claimID, err)
	}
	return fate(claimID, res)
}

// GiveBack gives a releasing claim's units back, once, at now (the local
// clock when zero); a claim in another state is left as it is (Unchanged).
func (w *Window) GiveBack(ctx context.Context, claimID string, now time.Time) (Fate, error) {
	c, err := w.campaign(claimID)
	if err != nil {
		return Fate{}, err
	}
	sku, err := w.rdb.HGet(ctx, c.Claim(claimID), claim.FieldSKU).Result()
	if errors.Is(err, redis.Nil) {
		return Fate{}, fmt.Errorf("give back %s: %w", claimID, ErrNoClaim)
	}
	if err != nil {
		return Fate{}, fmt.Errorf("give back %s: %w", claimID, err)
	}
	if now.IsZero() {
		now = time.Now()
	}
	campaign, _ := keyspace.CampaignOfClaim(claimID)
	keys := []string{c.Claim(claimID), c.Stock(sku), c.Free(sku), c.Held(), c.Due(), c.ClaimEvents(), c.Inflight(), c.Releasing()}
	res, err := giveBackScript.Run(ctx, w.rdb, keys, claimID, now.UnixMilli(), w.keys.SoldOut(), campaign, sku).Slice()
	if err != nil {
		return Fate{}, fmt.Errorf("give back %s: %w", claimID, err)
	}
	if len(res) != 3 {
		return Fate{}, fmt.Errorf("give back %s: script returned %d values, want 3", claimID, len(res))
	}
	state, _ := res[0].(string)
	outcome, _ := res[1].(string)
	return fate(claimID, []string{state, outcome})
}

// Due returns up to max claim ids of a campaign whose pay_by is at or
// before now, earliest first, after the first skip of them.
func (w *Window) Due(ctx context.Context, campaignID string, now time.Time, skip, max int) ([]string, error) {
	ids, err := w.rdb.ZRangeByScore(ctx, w.keys.Campaign(campaignID).Due(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Offset: int64(skip), Count: int64(max),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("due of %s: %w", campaignID, err)
	}
	return ids, nil
}

// Forget removes a claim from a campaign's due index (its record is gone:
// nothing is left to release in Redis).
func (w *Window) Forget(ctx context.Context, campaignID, claimID string) error {
	if err := w.rdb.ZRem(ctx, w.keys.Campaign(campaignID).Due(), claimID).Err(); err != nil {
		return fmt.Errorf("forget %s: %w", claimID, err)
	}
	return nil
}

func (w *Window) campaign(claimID string) (keyspace.Campaign, error) {
	campaign, ok := keyspace.CampaignOfClaim(claimID)
	if !ok {
		return keyspace.Campaign{}, fmt.Errorf("%w: claim %q names no campaign", ErrBadRequest, claimID)
	}
	return w.keys.Campaign(campaign), nil
}

func fate(claimID string, res []string) (Fate, error) {
	if len(res) != 2 {
		return Fate{}, fmt.Errorf("claim %s: script returned %d values, want 2", claimID, len(res))
	}
	if res[1] == "missing" {
		return Fate{}, fmt.Errorf("claim %s: %w", claimID, ErrNoClaim)
	}
	return Fate{State: res[0], Outcome: Outcome(res[1])}, nil
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
