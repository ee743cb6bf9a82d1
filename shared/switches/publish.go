package switches

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// versionField is the hash field holding the state's version.
const versionField = "version"

// replaceLua writes a whole state of the switches, unless the hash holds
// one as new already: a slow publisher never brings back an older state.
//
//	KEYS: 1 the switches hash
//	ARGV: 1 version, then field, value pairs
//
// It returns 1 when it wrote the state, 0 when it kept a newer one.
const replaceLua = `
local have = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
if have >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`

var replaceScript = redis.NewScript(replaceLua)

// Board is the switches of one plane: changed in the Store, then
// published to Redis for the Watchers. Admin owns it.
type Board struct {
	store *Store
	rdb   redis.UniversalClient
	key   string
}

// NewBoard returns the board of store, published under keys.
func NewBoard(store *Store, rdb redis.UniversalClient, keys keyspace.Space) *Board {
	return &Board{store: store, rdb: rdb, key: keys.Switches()}
}

// Set records the change of t to value, then publishes the new state. A
// change recorded but not published (Redis down) is published by Keep.
func (b *Board) Set(ctx context.Context, t Target, value []byte, by, reason string) (Switch, error) {
	sw, err := b.store.Set(ctx, t, value, by, reason)
	if err != nil {
		return Switch{}, err
	}
	return sw, b.Publish(ctx)
}

// List is every recorded switch.
func (b *Board) List(ctx context.Context) ([]Switch, error) {
	_, all, err := b.store.State(ctx)
	return all, err
}

// Publish writes the recorded state to Redis, unless Redis has it or a
// newer one.
func (b *Board) Publish(ctx context.Context) error {
	version, all, err := b.store.State(ctx)
	if err != nil {
		return err
	}
	args := []any{version}
	for _, sw := range all {
		args = append(args, sw.field(), string(sw.Value))
	}
	if err := replaceScript.Run(ctx, b.rdb, []string{b.key}, args...).Err(); err != nil {
		return fmt.Errorf("publish switches: %w", err)
	}
	return nil
}

// Stale reports whether Redis lacks the recorded state: the hash is
// missing (Redis flushed or restarted empty) or older than the record.
func (b *Board) Stale(ctx context.Context) (bool, error) {
	have, err := b.rdb.HGet(ctx, b.key, versionField).Int64()
	if errors.Is(err, redis.Nil) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read switches version: %w", err)
	}
	version, _, err := b.store.State(ctx)
	return have < version, err
}

// Keep publishes the recorded state whenever Redis lacks it, checking
// every interval until ctx ends; timeout bounds each check. A failed
// check is tried again at the next tick.
func (b *Board) Keep(ctx context.Context, every, timeout time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		b.keepOnce(ctx, timeout)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (b *Board) keepOnce(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if stale, err := b.Stale(ctx); err == nil && stale {
		_ = b.Publish(ctx) // tried again at the next tick
	}
}
