package stock_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/stock"
)

// benchStock is more units than any benchmark run claims: every call
// takes the winning path.
const benchStock = 100_000_000

// BenchmarkDeduct measures the pre-deduct call path (validation, EVALSHA,
// decode) against the real Redis, one claim of a distinct user per call:
// the winning path, and the sold-out path once the single unit is gone.
func BenchmarkDeduct(b *testing.B) {
	for _, bc := range []struct {
		name  string
		stock int
	}{{"reserved", benchStock}, {"sold_out", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			f, id := benchFixture(b, bc.stock)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if _, err := f.d.Deduct(ctx, benchReq(id, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeductParallel is the same call from GOMAXPROCS×16 goroutines,
// the shape of a prededuct instance under a crowd.
func BenchmarkDeductParallel(b *testing.B) {
	f, id := benchFixture(b, benchStock)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := f.d.Deduct(ctx, benchReq(id, int(next.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDeductBatch measures DeductBatch with 64 claims per pipeline;
// ns/op is per claim.
func BenchmarkDeductBatch(b *testing.B) {
	const batch = 64
	f, id := benchFixture(b, benchStock)
	ctx := context.Background()
	reqs := make([]stock.Request, 0, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		reqs = reqs[:0]
		for j := i; j < min(i+batch, b.N); j++ {
			reqs = append(reqs, benchReq(id, j))
		}
		if _, err := f.d.DeductBatch(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFixture warms a fresh one-SKU sale with per-user limit 1.
func benchFixture(b *testing.B, units int) (*fixture, string) {
	f := newFixture(b)
	c := sale("bench", 1, campaign.Item{SKU: "phone", Stock: units, Price: 100})
	f.warm(b, c, nil)
	return f, c.ID
}

// benchReq is claim i, of user i: every call is a new claim.
func benchReq(campaignID string, i int) stock.Request {
	s := strconv.Itoa(i)
	return req(campaignID, "c"+s, "u"+s, "phone", 1, start.Add(time.Minute))
}
