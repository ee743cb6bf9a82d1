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

// readSnapshot reads the stock of skus and the inflight hash of a campaign
// in one MULTI (the pre-deduct script changes both atomically), then the
// SKU of each inflight claim.
func readSnapshot(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, skus []string) (snapshot, error) {
	stocks := make(map[string]*redis.StringCmd, len(skus))
	var inflight *redis.MapStringStringCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, sku := range skus {
			stocks[sku] = p.Get(ctx, keys.Stock(sku))
		}
		inflight = p.HGetAll(ctx, keys.Inflight())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return snapshot{}, fmt.Errorf("redis snapshot: %w", err)
	}
	s := snapshot{remaining: map[string]int{}, inflight: map[string]int{}}
	if err := s.fill(stocks, inflight.Val()); err != nil {
		return snapshot{}, err
	}
	s.inflightSKU, err = claimSKUs(ctx, rdb, keys, s.inflight)
	return s, err
}

func (s *snapshot) fill(stocks map[string]*redis.StringCmd, inflight map[string]string) error {
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
	for claimID, v := range inflight {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("inflight %s: %w", claimID, err)
		}
		s.inflight[claimID] = n
	}
	return nil
}

// claimSKUs reads the sku field of each claim record ("" when gone).
func claimSKUs(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, claims map[string]int) (map[string]string, error) {
	cmds := make(map[string]*redis.StringCmd, len(claims))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for id := range claims {
			cmds[id] = p.HGet(ctx, keys.Claim(id), claim.FieldSKU)
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
