package captcha

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of Issue.
var (
	ErrNoBank        = errors.New("campaign has no challenge bank")
	ErrBankExhausted = errors.New("every challenge of the bank is in use")
)

// lease takes one free entry of the bank for challenge ARGV[3] until
// ARGV[2] (ms) and returns {'ok', entry, answer}, or {'none'} when the
// campaign has no bank, or {'exhausted'} when every entry is held. Before
// it takes one, it puts back up to 64 entries whose lease ended by ARGV[1]
// (ms), the challenges of users who never answered: more than it takes, so
// ended leases never starve the free set.
//
// KEYS[1] free set, KEYS[2] leases (entry → lease end), KEYS[3] holders
// (entry → challenge id), KEYS[4] answers; all in the campaign's slot.
var lease = redis.NewScript(`
local ended = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 64)
for _, e in ipairs(ended) do
  redis.call('ZREM', KEYS[2], e)
  redis.call('HDEL', KEYS[3], e)
  redis.call('SADD', KEYS[1], e)
end
local e = redis.call('SPOP', KEYS[1])
if not e then
  if redis.call('EXISTS', KEYS[4]) == 0 then return {'none'} end
  return {'exhausted'}
end
redis.call('ZADD', KEYS[2], ARGV[2], e)
redis.call('HSET', KEYS[3], e, ARGV[3])
return {'ok', e, redis.call('HGET', KEYS[4], e)}`)

// leaseEntry takes an entry of campaign's bank for challengeID until until.
func (s *Service) leaseEntry(ctx context.Context, campaign, challengeID string, now, until time.Time) (entry, answer string, err error) {
	keys := s.keys.Campaign(campaign)
	v, err := lease.Run(ctx, s.rdb, []string{keys.BankFree(), keys.BankLeases(), keys.BankHolders(), keys.BankAnswers()},
		now.UnixMilli(), until.UnixMilli(), challengeID).StringSlice()
	if err != nil {
		return "", "", fmt.Errorf("lease challenge: %w", err)
	}
	switch {
	case len(v) == 3 && v[0] == "ok":
		return v[1], v[2], nil
	case len(v) == 1 && v[0] == "none":
		return "", "", ErrNoBank
	case len(v) == 1 && v[0] == "exhausted":
		return "", "", ErrBankExhausted
	}
	return "", "", fmt.Errorf("lease challenge: unexpected reply %q", v)
}
