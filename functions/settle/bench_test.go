package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/receipt"
)

// winN leaves in Redis what prededuct and enqueue leave for n won claims
// (a reserved claim, an inflight entry, a pending token) and returns their
// receipts.
func winN(b *testing.B, rdb *redis.Client, keys keyspace.Space, n int) []receipt.Receipt {
	b.Helper()
	ctx := context.Background()
	out := make([]receipt.Receipt, n)
	camp := keys.Campaign("double11")
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range out {
			user := fmt.Sprintf("u%d", i)
			r := receipt.Receipt{TokenID: keyspace.ClaimID("double11", user), OrderNo: receipt.OrderNo("double11", "phone-x", user, 1),
				CampaignID: "double11", SKU: "phone-x", UserID: user}
			out[i] = r
			p.HSet(ctx, camp.Claim(r.TokenID), claim.FieldUser, user, claim.FieldState, claim.Reserved, claim.FieldOrderNo, r.OrderNo)
			p.HSet(ctx, camp.Inflight(), r.TokenID, 1)
			p.HSet(ctx, keys.User(user).Pending(), r.OrderNo, "token")
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// started is a started settle function on a fresh database and key space.
func started(b *testing.B) (*Function, *redis.Client, keyspace.Space) {
	b.Helper()
	env := servertest.Fresh(b, deps)
	rdb := servertest.Redis(b, env, 0)
	pool := servertest.Postgres(b, env, 2)
	signer, err := receipt.NewSigner(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	keys := keyspace.New(env.KeyPrefix)
	f, err := New(Config{Redis: rdb, Postgres: pool, Keys: keys, Verifier: receipt.NewVerifier(signer.Public())})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Start(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Stop(context.Background()) })
	return f, rdb, keys
}

// BenchmarkClear is settle's Redis clean-up of one settled win, one at a
// time.
func BenchmarkClear(b *testing.B) {
	f, rdb, keys := started(b)
	wins := winN(b, rdb, keys, b.N)
	ctx := context.Background()
	at := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.clear(ctx, wins[i], at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClearConcurrent is the clean-up of wins settled by 64
// concurrent Handle calls, as a group commit answers them.
func BenchmarkClearConcurrent(b *testing.B) {
	f, rdb, keys := started(b)
	wins := winN(b, rdb, keys, b.N)
	ctx := context.Background()
	at := time.Now()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f.clear(ctx, wins[next.Add(1)-1], at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
