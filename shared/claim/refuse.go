package claim

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Refused is the state of a tombstone: captcha told the client it did not
// take the claim (its publish failed or timed out), yet the broker may have
// stored the event all the same. The pre-deduct script drops such an event,
// changing nothing, and Get does not show the tombstone. It is never a
// state of the public API.
const Refused = "refused"

// RefusedTTL is how long a tombstone is kept: longer than a Trigger's
// whole delivery budget (9 attempts, 51 s of backoff, 10 s each). Past it
// the pre-deduct script drops an event of a claim it has no record of once
// the event is older than RefusedTTL: a claim captcha accepted keeps its
// record for TTL, so only a refused one can be missing by then.
const RefusedTTL = 5 * time.Minute

// FieldAttempts counts the attempts at a pending claim that may have
// published it: one per click creating or finding it pending, less one per
// attempt that gave up without publishing. A claim is refused only when it
// drops to zero, so a retry that published (and answered 202) keeps it.
const FieldAttempts = "attempts"

// FieldEpoch numbers the records a claim id has had: 1, and one more each
// time an attempt records the claim anew over a tombstone. The event of
// epoch n > 1 has an id of its own (events.ClaimRequestedEpoch), so that a
// broker that stored the refused epoch's event after all does not drop
// the next one as its duplicate.
const FieldEpoch = "epoch"

// joinScript returns a claim's record (HGETALL; nothing for a tombstone),
// counting the attempt when it is pending.
var joinScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'refused' then return {} end
if state == 'pending' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
return redis.call('HGETALL', KEYS[1])`)

// Join is Get for an attempt at the claim: a pending claim counts it, and
// the attempt must then publish the claim or Refuse it.
func (s *Store) Join(ctx context.Context, claimID string) (Record, error) {
	key, err := s.key(claimID)
	if err != nil {
		return Record{}, err
	}
	fields, err := joinScript.Run(ctx, s.rdb, []string{key}).StringSlice()
	if err != nil {
		return Record{}, fmt.Errorf("join claim %s: %w", claimID, err)
	}
	return found(claimID, pairs(fields))
}

// refuseScript ends an attempt that did not publish the claim. A claim
// decided already is left alone (the broker had the event after all); one
// still pending drops the attempt, and with no attempt left becomes a
// tombstone (state refused and the epoch, nothing else) for RefusedTTL.
//
//	KEYS: 1 claim
//	ARGV: 1 tombstone ttl ms
//
// It returns the claim's state after: refused, pending (another attempt
// may publish it) or the decision.
var refuseScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'pending' then return state end
if state and redis.call('HINCRBY', KEYS[1], 'attempts', -1) > 0 then return state end
local epoch = redis.call('HGET', KEYS[1], 'epoch') or 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'refused', 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'refused'`)

// Refuse ends an attempt at claimID that did not publish it and returns
// the claim's state after: Refused when no attempt is left, Pending when
// another may still publish it, or the decision already made, which means
// the broker stored the claim all the same (the client may be told 202).
func (s *Store) Refuse(ctx context.Context, claimID string) (string, error) {
	key, err := s.key(claimID)
	if err != nil {
		return "", err
	}
	state, err := refuseScript.Run(ctx, s.rdb, []string{key}, RefusedTTL.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("refuse claim %s: %w", claimID, err)
	}
	return state, nil
}
