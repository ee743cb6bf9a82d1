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
// it wrote}. The state stays reserved, so nothing is published: a waiter
// wakes on a change of state (see Event).
var queueScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'', 0} end
if st ~= 'reserved' then return {st, 0} end
local cur = redis.call('HMGET', KEYS[1], 'order_no', 'token')
if cur[1] == ARGV[2] and cur[2] == ARGV[3] then return {st, 0} end
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
//	KEYS[3]  the campaign's claim events channel
//	ARGV[1]  TTL of the record, ms
//	ARGV[2]  claim id (the inflight field)
//	ARGV[3]  updated_ms
//
// It returns 1 when the claim moved to settled, and then publishes that
// change (an Event) in the same atomic step.
var settleScript = redis.NewScript(`
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'settled', 'updated_ms', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[3], ARGV[2] .. ' settled')
return 1`)

// Queued is what Queue found and did.
type Queued struct {
	Prior string // the claim's state before, "" when there is no record
	Wrote bool   // the order number and token were written now
}

// Queue records orderNo and token on a reserved claim (like SetQueued) in
// one round trip with the commands before adds to the same pipeline, which
// one Redis server runs first (on a cluster, commands for other nodes are
// sent at the same time). before may run twice (a script cache flushed): it must
// only add commands. A claim in any other state is left alone; Prior says
// which state that was.
func (s *Store) Queue(ctx context.Context, claimID, orderNo, token string, at time.Time, before func(redis.Pipeliner)) (Queued, error) {
	key, err := s.key(claimID)
	if err != nil {
		return Queued{}, err
	}
	args := []any{TTL.Milliseconds(), orderNo, token, strconv.FormatInt(at.UnixMilli(), 10)}
	var cmd *redis.Cmd
	err = s.pipelined(ctx, queueScript, func(p redis.Pipeliner) {
		if before != nil {
			before(p)
		}
		cmd = queueScript.EvalSha(ctx, p, []string{key}, args...)
	})
	if err == nil {
		err = cmd.Err()
	}
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

// Settlement is one claim to mark settled, at At.
type Settlement struct {
	ClaimID string
	At      time.Time
}

// Settle marks a reserved claim settled (like SetSettled) and drops its
// inflight reservation, in one round trip with the commands after adds to
// the same pipeline, which one Redis server runs after it (on a cluster,
// commands for other nodes are sent at the same time). after may run twice: it must
// only add commands.
func (s *Store) Settle(ctx context.Context, claimID string, at time.Time, after func(redis.Pipeliner)) error {
	var each func(redis.Pipeliner, int)
	if after != nil {
		each = func(p redis.Pipeliner, _ int) { after(p) }
	}
	return s.SettleAll(ctx, []Settlement{{ClaimID: claimID, At: at}}, each)[0]
}

// SettleAll is Settle for many claims in one round trip: after(p, i) adds
// the commands of claim i right after its script. It returns one error per
// claim, nil where its script ran (the caller checks its own commands).
func (s *Store) SettleAll(ctx context.Context, ss []Settlement, after func(p redis.Pipeliner, i int)) []error {
	errs := make([]error, len(ss))
	cmds := make([]*redis.Cmd, len(ss))
	_ = s.pipelined(ctx, settleScript, func(p redis.Pipeliner) {
		for i, st := range ss {
			cmds[i], errs[i] = s.settleIn(ctx, p, st)
			if errs[i] == nil && after != nil {
				after(p, i)
			}
		}
	})
	for i, st := range ss {
		switch {
		case errs[i] != nil:
		case cmds[i].Err() != nil: // a failed pipeline sets its error on every command
			errs[i] = fmt.Errorf("settle claim %s: %w", st.ClaimID, cmds[i].Err())
		}
	}
	return errs
}

func (s *Store) settleIn(ctx context.Context, p redis.Pipeliner, st Settlement) (*redis.Cmd, error) {
	campaign, err := s.campaignOf(st.ClaimID)
	if err != nil {
		return nil, err
	}
	c := s.keys.Campaign(campaign)
	keys := []string{c.Claim(st.ClaimID), c.Inflight(), c.ClaimEvents()}
	args := []any{TTL.Milliseconds(), st.ClaimID, strconv.FormatInt(st.At.UnixMilli(), 10)}
	return settleScript.EvalSha(ctx, p, keys, args...), nil
}

// pipelined runs fill's commands in one round trip; when script met
// NOSCRIPT it loads it and runs fill again on a new pipeline (every command
// here is idempotent). The error is the pipeline's first, or nil; a
// command's own error stays on the command.
func (s *Store) pipelined(ctx context.Context, script *redis.Script, fill func(redis.Pipeliner)) error {
	cmds, err := s.send(ctx, fill)
	if noScript(cmds) {
		if err := script.Load(ctx, s.rdb).Err(); err != nil {
			return fmt.Errorf("load script: %w", err)
		}
		_, err = s.send(ctx, fill)
	}
	return err
}

func (s *Store) send(ctx context.Context, fill func(redis.Pipeliner)) ([]redis.Cmder, error) {
	return s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fill(p)
		return nil
	})
}

// noScript reports whether a command of cmds met an empty script cache.
func noScript(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}
