// Package pending keeps each user's pending receipt tokens in Redis (a hash
// order number → token under the user's hash tag) and merges them with the
// settled orders at read time, the red-packet-rain wallet scheme: a win
// shows at once, before PostgreSQL holds it, and is never counted twice.
//
// Enqueue adds a token when it mints it; settle removes it once PostgreSQL
// has committed the order; query lists and merges. The hash is idempotent by
// construction: an order number has one token, and adding it again is a
// no-op.
package pending

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// Store is the pending token lists of every user.
type Store struct {
	rdb  redis.UniversalClient
	keys keyspace.Space
}

// NewStore returns a Store in key space keys.
func NewStore(rdb redis.UniversalClient, keys keyspace.Space) *Store {
	return &Store{rdb: rdb, keys: keys}
}

// Add records token as user's pending order orderNo. A token already there
// for orderNo is kept (a redelivery mints the identical one anyway); added
// reports whether this call wrote it.
func (s *Store) Add(ctx context.Context, user, orderNo, token string) (added bool, err error) {
	added, err = s.AddIn(ctx, s.rdb, user, orderNo, token).Result()
	if err != nil {
		return false, fmt.Errorf("add pending %s: %w", orderNo, err)
	}
	return added, nil
}

// AddIn is Add as a command of pipeline p (or of any client): it returns
// the command, whose result is only there once p has run.
func (s *Store) AddIn(ctx context.Context, p redis.Cmdable, user, orderNo, token string) *redis.BoolCmd {
	return p.HSetNX(ctx, s.keys.User(user).Pending(), orderNo, token)
}

// Remove drops orderNo from user's pending list. Settle calls it only after
// PostgreSQL has committed the order, so the win is always in one of the two
// places (and briefly in both, which Merge deduplicates).
func (s *Store) Remove(ctx context.Context, user, orderNo string) error {
	if err := s.RemoveIn(ctx, s.rdb, user, orderNo).Err(); err != nil {
		return fmt.Errorf("remove pending %s: %w", orderNo, err)
	}
	return nil
}

// RemoveIn is Remove as a command of pipeline p (or of any client).
func (s *Store) RemoveIn(ctx context.Context, p redis.Cmdable, user, orderNo string) *redis.IntCmd {
	return p.HDel(ctx, s.keys.User(user).Pending(), orderNo)
}

// List returns user's pending tokens by order number.
func (s *Store) List(ctx context.Context, user string) (map[string]string, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.User(user).Pending()).Result()
	if err != nil {
		return nil, fmt.Errorf("list pending of %s: %w", user, err)
	}
	return m, nil
}
