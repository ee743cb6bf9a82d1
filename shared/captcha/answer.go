package captcha

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// consume deletes the challenge KEYS[1] and returns its issued_ms,
// expires_ms and mac, but only when it was issued to user ARGV[1]: another
// user can neither use nor burn it. Every attempt consumes the challenge, so
// each one is worth a single guess. It puts the challenge's bank entry back
// in the free set KEYS[2] when challenge ARGV[2] still holds it (KEYS[3]
// holders, KEYS[4] leases): a lease that ended may already have passed the
// entry on to someone else, and that holder keeps it.
var consume = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'user', 'issued_ms', 'expires_ms', 'mac', 'entry')
if not v[1] or v[1] ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
if v[5] and redis.call('HGET', KEYS[3], v[5]) == ARGV[2] then
  redis.call('HDEL', KEYS[3], v[5])
  redis.call('ZREM', KEYS[4], v[5])
  redis.call('SADD', KEYS[2], v[5])
end
return {v[2], v[3], v[4]}`)

// Answer consumes the challenge and checks answer. It returns nil only for
// the right answer, given by the user the challenge was issued to, in its
// campaign, between MinAge and TTL after it was issued, the first time.
func (s *Service) Answer(ctx context.Context, campaign, user, challengeID, answer string) error {
	if challengeID == "" || len(challengeID) > 64 {
		return ErrUnknownChallenge
	}
	keys := s.keys.Campaign(campaign)
	v, err := consume.Run(ctx, s.rdb, []string{keys.Challenge(challengeID), keys.BankFree(), keys.BankHolders(), keys.BankLeases()},
		user, challengeID).StringSlice()
	if errors.Is(err, redis.Nil) {
		return ErrUnknownChallenge
	}
	if err != nil {
		return fmt.Errorf("consume challenge: %w", err)
	}
	return s.check(v, user, campaign, challengeID, answer)
}

// check runs the time checks before the MAC, so a rejected early or late
// answer tells nothing about its correctness.
func (s *Service) check(v []string, user, campaign, challengeID, answer string) error {
	if len(v) != 3 {
		return fmt.Errorf("consume challenge: got %d fields, want 3", len(v))
	}
	issued, err1 := strconv.ParseInt(v[0], 10, 64)
	expires, err2 := strconv.ParseInt(v[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("consume challenge: %w", err)
	}
	now := s.cfg.Now()
	switch {
	case !now.Before(time.UnixMilli(expires)):
		return ErrExpired
	case now.Before(time.UnixMilli(issued).Add(s.cfg.MinAge)):
		return ErrTooSoon
	case !hmac.Equal([]byte(v[2]), []byte(s.mac(user, campaign, challengeID, answer))):
		return ErrWrongAnswer
	}
	return nil
}
