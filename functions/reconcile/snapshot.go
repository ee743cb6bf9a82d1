package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// readSnapshot reads, in one MULTI (the pre-deduct and payment-window
// scripts change them atomically), the stock and free slots of skus and
// the inflight and releasing hashes of a campaign; then the SKU of each of
// those claims.
func readSnapshot(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, skus []string) (snapshot, error) {
	stocks := make(map[string]*redis.StringCmd, len(skus))
	frees := make(map[string]*redis.StringSliceCmd, len(skus))
	var inflight, releasing *redis.MapStringStringCmd
	var meta, packets *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.Exists(ctx, keys.Meta())
		packets = p.Exists(ctx, keys.Packets())
		for _, sku := range skus {
			stocks[sku] = p.Get(ctx, keys.Stock(sku))
			frees[sku] = p.ZRange(ctx, keys.Free(sku), 0, -1)
		}
		inflight = p.HGetAll(ctx, keys.Inflight())
		releasing = p.HGetAll(ctx, keys.Releasing())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return snapshot{}, fmt.Errorf("redis snapshot: %w", err)
	}
	s := snapshot{meta: meta.Val() == 1, packets: packets.Val() == 1, remaining: map[string]int{}, free: map[string]map[int]bool{}}
	if err := s.fill(stocks, frees); err != nil {
		return snapshot{}, err
	}
	if s.inflight, err = units("inflight", inflight.Val()); err != nil {
		return snapshot{}, err
	}
	if s.releasing, err = units("releasing", releasing.Val()); err != nil {
		return snapshot{}, err
	}
	s.claimSKU, err = claimSKUs(ctx, rdb, keys, s.inflight, s.releasing)
	return s, err
}

func (s *snapshot) fill(stocks map[string]*redis.StringCmd, frees map[string]*redis.StringSliceCmd) error {
	for sku, cmd := range stocks {
		if errors.Is(cmd.Err(), redis.Nil) {
			continue
		}
		n, err := cmd.Int()
		if err != nil {
			return fmt.Errorf("stock %s: %w", sku, err)
		}
		s.remaining[sku] = n
	}
	for sku, cmd := range frees {
		for _, v := range cmd.Val() {
			slot, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("free slot of %s: %w", sku, err)
			}
			if s.free[sku] == nil {
				s.free[sku] = map[int]bool{}
			}
			s.free[sku][slot] = true
		}
	}
	return nil
}

// units parses a hash claim id → units.
func units(name string, h map[string]string) (map[string]int, error) {
	out := make(map[string]int, len(h))
	for claimID, v := range h {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", name, claimID, err)
		}
		out[claimID] = n
	}
	return out, nil
}

// claimSKUs reads the sku field of each claim record ("" when gone).
func claimSKUs(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, claims ...map[string]int) (map[string]string, error) {
	cmds := map[string]*redis.StringCmd{}
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ids := range claims {
			for id := range ids {
				cmds[id] = p.HGet(ctx, keys.Claim(id), claim.FieldSKU)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("inflight claims: %w", err)
	}
	out := make(map[string]string, len(cmds))
	for id, cmd := range cmds {
		out[id] = cmd.Val()
	}
	return out, nil
}
