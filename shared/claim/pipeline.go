package claim

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The scripts below are the claim updates of the win path, each sent in one
// pipeline with the caller's own commands on other keys (the user's pending
// list lives in another Redis Cluster slot, so no script can hold both): one
// round trip where there were three. Field names are FieldState,
// FieldOrderNo, FieldToken and FieldUpdated.

// queueScript records the order number and receipt token of a reserved
// claim, unless the claim holds them already.
//
//	KEYS[1]  the claim hash
//	ARGV[1]  TTL of the record, ms
//	ARGV[2]  order number
//	ARGV[3]  receipt token
//	ARGV[4]  updated_ms
//
// It returns {state before the call ("" when there is no record), 1 when
// it wrote}.
var queueScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'', 0} end
if st ~= 'reserved' then return {st, 0} end
local cur = redis.call('HMGET', KEYS[1], 'order_no', 'token')
if cur[1] == ARGV[2] and cur[2] == ARGV[3] then return {st, 0} end
-- state change: publish here too (long-poll)
redis.call('HSET', KEYS[1], 'order_no', ARGV[2], 'token', ARGV[3], 'updated_ms', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {st, 1}`)

// settleScript marks a reserved claim settled and drops its reservation
// from the campaign's inflight hash (written by the pre-deduct script of
// package stock, read by reconcile). The inflight entry goes in any state:
// settle runs it only once PostgreSQL holds the order.
//
//	KEYS[1]  the claim hash
//	KEYS[2]  the campaign's inflight hash
//	ARGV[1]  TTL of the record, ms
//	ARGV[2]  claim id (the inflight field)
//	ARGV[3]  updated_ms
//
// It returns 1 when the claim moved to settled.
var settleScript = redis.NewScript(`
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return 0 end
-- state change: publish here too (long-poll)
redis.call('HSET', KEYS[1], 'state', 'settled', 'updated_ms', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

// Queued is what Queue found and did.
type Queued struct {
	Prior string // the claim's state before, "" when there is no record
	Wrote bool   // the order number and token were written now
}

// Queue records orderNo and token on a reserved claim (like SetQueued) in
// one round trip with the commands before adds to the same pipeline, which
// Redis runs first. before may run twice (a script cache flushed): it must
// only add commands. A claim in any other state is left alone; Prior says
// which state that was.
func (s *Store) Queue(ctx context.Context, claimID, orderNo, token string, at time.Time, before func(redis.Pipeliner)) (Queued, error) {
	key, err := s.key(claimID)
	if err != nil {
		return Queued{}, err
	}
	args := []any{TTL.Milliseconds(), orderNo, token, strconv.FormatInt(at.UnixMilli(), 10)}
	cmd, err := s.pipeline(ctx, queueScript, []string{key}, args, before, nil)
	if err != nil {
		return Queued{}, fmt.Errorf("queue claim %s: %w", claimID, err)
	}
	return decodeQueued(cmd)
}

func decodeQueued(cmd *redis.Cmd) (Queued, error) {
	res, err := cmd.Slice()
	if err != nil || len(res) != 2 {
		return Queued{}, fmt.Errorf("queue claim: reply %v: %w", res, err)
	}
	prior, _ := res[0].(string)
	wrote, _ := res[1].(int64)
	return Queued{Prior: prior, Wrote: wrote == 1}, nil
}

// Settle marks a reserved claim settled (like SetSettled) and drops its
// inflight reservation, in one round trip with the commands after adds to
// the same pipeline, which Redis runs after it. after may run twice: it must
// only add commands.
func (s *Store) Settle(ctx context.Context, claimID string, at time.Time, after func(redis.Pipeliner)) error {
	key, err := s.key(claimID)
	if err != nil {
		return err
	}
	campaign, _ := s.campaignOf(claimID)
	keys := []string{key, s.keys.Campaign(campaign).Inflight()}
	args := []any{TTL.Milliseconds(), claimID, strconv.FormatInt(at.UnixMilli(), 10)}
	if _, err := s.pipeline(ctx, settleScript, keys, args, nil, after); err != nil {
		return fmt.Errorf("settle claim %s: %w", claimID, err)
	}
	return nil
}

// pipeline sends before's commands, the script (EVALSHA) and after's
// commands in one round trip; on NOSCRIPT it loads the script and sends
// them all again (every command here is idempotent). It fails on the first
// command that failed.
func (s *Store) pipeline(ctx context.Context, script *redis.Script, keys []string, args []any, before, after func(redis.Pipeliner)) (*redis.Cmd, error) {
	cmd, err := s.send(ctx, script, keys, args, before, after)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := script.Load(ctx, s.rdb).Err(); err != nil {
			return nil, fmt.Errorf("load script: %w", err)
		}
		cmd, err = s.send(ctx, script, keys, args, before, after)
	}
	return cmd, err
}

func (s *Store) send(ctx context.Context, script *redis.Script, keys []string, args []any, before, after func(redis.Pipeliner)) (*redis.Cmd, error) {
	var cmd *redis.Cmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if before != nil {
			before(p)
		}
		cmd = script.EvalSha(ctx, p, keys, args...)
		if after != nil {
			after(p)
		}
		return nil
	})
	return cmd, err
}
