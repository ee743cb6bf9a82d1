// Package stock holds a sale's stock in Redis: Warm loads it from the
// campaign (once: a second warm-up never resets it), Remaining reads it, and
// a Deducter runs the pre-deduct script, the one atomic decision of a claim.
package stock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/keyspace"
)

// Fields of the campaign meta hash (keyspace.Campaign.Meta). The pre-deduct
// script reads them under the same names.
const (
	MetaSpec        = "spec"          // the campaign JSON
	MetaKind        = "kind"          // sale or rain
	MetaStartsMS    = "starts_ms"     // window start, unix ms
	MetaEndsMS      = "ends_ms"       // window end (exclusive), unix ms
	MetaLimit       = "limit"         // per-user limit, units
	MetaPayWindowMS = "pay_window_ms" // payment window of a reservation, ms
	MetaStockPrefix = "stock:"        // + sku: the configured stock of the sku
)

// Warm writes c's meta hash and sets each item's stock key to its stock
// minus settled[sku] (never below zero), but only where the stock key is
// absent: a warm-up during the sale never resets stock. Everything is
// written in one MULTI (all keys share the campaign's slot).
func Warm(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, c *campaign.Campaign, settled map[string]int) error {
	meta, err := metaFields(c)
	if err != nil {
		return err
	}
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keys.Meta(), meta...)
		for _, it := range c.Lots() {
			p.SetNX(ctx, keys.Stock(it.SKU), max(it.Stock-settled[it.SKU], 0), 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("warm campaign %s: %w", c.ID, err)
	}
	return nil
}

// metaFields lays c out as field, value pairs of the meta hash.
func metaFields(c *campaign.Campaign) ([]any, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("campaign %s spec: %w", c.ID, err)
	}
	f := []any{
		MetaSpec, string(spec), MetaKind, c.Kind,
		MetaStartsMS, c.StartsAt.UnixMilli(), MetaEndsMS, c.EndsAt.UnixMilli(),
		MetaLimit, c.PerUserLimit, MetaPayWindowMS, c.PaymentWindow.Milliseconds(),
	}
	for _, it := range c.Lots() {
		f = append(f, MetaStockPrefix+it.SKU, it.Stock)
	}
	return f, nil
}

// Remaining returns the remaining units of each sku whose stock key exists.
// warm is true when the campaign's meta hash and every listed stock key
// exist; a sku missing from the map is sold out (fail closed).
func Remaining(ctx context.Context, rdb redis.UniversalClient, keys keyspace.Campaign, skus []string) (map[string]int, bool, error) {
	stockKeys := make([]string, len(skus))
	for i, sku := range skus {
		stockKeys[i] = keys.Stock(sku)
	}
	var meta *redis.IntCmd
	var vals *redis.SliceCmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.Exists(ctx, keys.Meta())
		if len(stockKeys) > 0 {
			vals = p.MGet(ctx, stockKeys...)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read stock: %w", err)
	}
	left, err := parseRemaining(skus, vals)
	if err != nil {
		return nil, false, err
	}
	return left, meta.Val() == 1 && len(left) == len(skus), nil
}

func parseRemaining(skus []string, vals *redis.SliceCmd) (map[string]int, error) {
	left := make(map[string]int, len(skus))
	if vals == nil {
		return left, nil
	}
	for i, v := range vals.Val() {
		s, ok := v.(string)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%w: stock of %s: %v", ErrCorrupt, skus[i], err)
		}
		left[skus[i]] = n
	}
	return left, nil
}

// ErrCorrupt marks a Redis value that is not what Surge wrote.
var ErrCorrupt = errors.New("corrupt stock value")
