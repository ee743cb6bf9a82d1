package rain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// ErrNoPackets: the rain's split is not in Redis (not warmed yet, or lost
// with Redis until reconcile rebuilds it).
var ErrNoPackets = errors.New("rain has no packets in redis")

// Load writes amounts (packet n is amounts[n-1]) as the rain's split in
// Redis unless a split is there already: a second warm-up never reloads
// it. It reports whether this call wrote it.
func Load(ctx context.Context, rdb redis.Cmdable, keys keyspace.Campaign, amounts []int64) (bool, error) {
	var b strings.Builder
	b.Grow(len(amounts) * 5)
	for i, a := range amounts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(a, 10))
	}
	ok, err := rdb.SetNX(ctx, keys.Packets(), b.String(), 0).Result()
	if err != nil {
		return false, fmt.Errorf("load packets: %w", err)
	}
	return ok, nil
}

// Amounts reads rains' splits from Redis, once per campaign: a split never
// changes, so a win costs no Redis round trip for its amount.
type Amounts struct {
	rdb  redis.UniversalClient
	keys keyspace.Space

	mu     sync.Mutex
	splits map[string][]int64
}

// NewAmounts returns an Amounts reading key space keys.
func NewAmounts(rdb redis.UniversalClient, keys keyspace.Space) *Amounts {
	return &Amounts{rdb: rdb, keys: keys, splits: make(map[string][]int64)}
}

// Of returns the amount of packets (numbers 1..N) of rain campaign.
func (a *Amounts) Of(ctx context.Context, campaign string, packets []int) (int64, error) {
	split, err := a.split(ctx, campaign)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, n := range packets {
		if n < 1 || n > len(split) {
			return 0, fmt.Errorf("packet %d of %s: the rain has %d", n, campaign, len(split))
		}
		sum += split[n-1]
	}
	return sum, nil
}

func (a *Amounts) split(ctx context.Context, campaign string) ([]int64, error) {
	a.mu.Lock()
	split, ok := a.splits[campaign]
	a.mu.Unlock()
	if ok {
		return split, nil
	}
	raw, err := a.rdb.Get(ctx, a.keys.Campaign(campaign).Packets()).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", campaign, ErrNoPackets)
	}
	if err != nil {
		return nil, fmt.Errorf("packets of %s: %w", campaign, err)
	}
	split, err = parse(raw)
	if err != nil {
		return nil, fmt.Errorf("packets of %s: %w", campaign, err)
	}
	a.mu.Lock()
	a.splits[campaign] = split
	a.mu.Unlock()
	return split, nil
}

func parse(raw string) ([]int64, error) {
	parts := strings.Split(raw, ",")
	out := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("packet %d: bad amount %q", i+1, p)
		}
		out[i] = v
	}
	return out, nil
}
