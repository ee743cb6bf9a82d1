package baseline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// RedisDeduct measures the real pre-deduct script through
// stock.Deducter.Deduct, one claim per call, unpipelined: t.Ops claims of
// distinct users against t.Stock units (so both the winning and the
// sold-out path run), on a client as prededuct opens it with a pool of
// t.Concurrency connections.
func RedisDeduct(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	s, err := openSale(ctx, t)
	if err != nil {
		return Figure{}, fmt.Errorf("%s: %w", NameRedisDeduct, err)
	}
	defer s.close()
	r := closed(ctx, t.Ops, t.Concurrency, func(ctx context.Context, i int) (int, error) {
		_, err := s.d.Deduct(ctx, s.req(i))
		return 1, err
	})
	return r.figure(NameRedisDeduct, "claim", t.Concurrency, 0)
}

// RedisDeductPipelined is RedisDeduct with t.Batch claims per go-redis
// pipeline (stock.Deducter.DeductBatch: EVALSHA of the same script).
// Latency is of one pipeline.
func RedisDeductPipelined(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	s, err := openSale(ctx, t)
	if err != nil {
		return Figure{}, fmt.Errorf("%s: %w", NameRedisDeductPipelined, err)
	}
	defer s.close()
	calls := (t.Ops + t.Batch - 1) / t.Batch
	r := closed(ctx, calls, t.Concurrency, func(ctx context.Context, i int) (int, error) {
		reqs := make([]stock.Request, 0, t.Batch)
		for j := i * t.Batch; j < min((i+1)*t.Batch, t.Ops); j++ {
			reqs = append(reqs, s.req(j))
		}
		_, err := s.d.DeductBatch(ctx, reqs)
		return len(reqs), err
	})
	return r.figure(NameRedisDeductPipelined, "claim", t.Concurrency, t.Batch)
}

// sale is a warm scratch campaign of one SKU, per-user limit 1.
type sale struct {
	rdb  *redis.Client
	keys keyspace.Campaign
	d    *stock.Deducter
	id   string
}

const benchSKU = "phone-x"

func openSale(ctx context.Context, t Target) (*sale, error) {
	rdb, err := connect.Redis(ctx, t.RedisURL, t.Concurrency)
	if err != nil {
		return nil, err
	}
	id, err := scratchID()
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	now := time.Now()
	c := &campaign.Campaign{
		ID: id, Kind: campaign.KindSale, Title: id, PerUserLimit: 1,
		Items:    []campaign.Item{{SKU: benchSKU, Stock: t.Stock, Price: 99900}},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute},
	}
	space := keyspace.New(t.KeyPrefix)
	s := &sale{rdb: rdb, keys: space.Campaign(id), d: stock.NewDeducter(rdb, space), id: id}
	if err := stock.Warm(ctx, rdb, s.keys, c, nil); err != nil {
		s.close()
		return nil, fmt.Errorf("warm: %w", err)
	}
	return s, nil
}

// req is claim i, by user i.
func (s *sale) req(i int) stock.Request {
	n := strconv.Itoa(i)
	return stock.Request{ClaimID: keyspace.ClaimID(s.id, "b"+n), CampaignID: s.id,
		UserID: "u" + n, SKU: benchSKU, Qty: 1, Now: time.Now()}
}

// close deletes the campaign's keys (claim records expire alone) and
// closes the client.
func (s *sale) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.rdb.Del(ctx, s.keys.Meta(), s.keys.Stock(benchSKU), s.keys.Held(), s.keys.Wins(), s.keys.Inflight()).Err()
	_ = s.rdb.Close()
}

// scratchID is a fresh campaign id (or table name): "bench" + 12 hex digits.
func scratchID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "bench" + hex.EncodeToString(b), nil
}
