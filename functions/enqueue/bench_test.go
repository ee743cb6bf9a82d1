package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/receipt"
)

// reserveN writes n reserved claims double11.b<i> of users u<i>, as the
// pre-deduct script leaves them, and returns their reservations.
func reserveN(b *testing.B, rdb *redis.Client, keys keyspace.Space, n int) []reservedClaim {
	b.Helper()
	out := make([]reservedClaim, n)
	c := keys.Campaign("double11")
	_, err := rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for i := range out {
			d := reservation()
			d.ClaimID, d.UserID = fmt.Sprintf("double11.b%d", i), fmt.Sprintf("u%d", i)
			out[i] = reservedClaim{d: d, orderNo: receipt.OrderNo(d.CampaignID, d.SKU, d.UserID, d.Seq)}
			p.HSet(context.Background(), c.Claim(d.ClaimID), claim.FieldUser, d.UserID, claim.FieldState, claim.Reserved)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkRecord is enqueue's Redis work for one new reservation: the
// pending add and the claim update (the token is a stand-in; signing is
// not measured).
func BenchmarkRecord(b *testing.B) {
	env := servertest.Fresh(b, deps)
	rdb := servertest.Redis(b, env, 0)
	signer, err := receipt.NewSigner(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	keys := keyspace.New(env.KeyPrefix)
	f, err := New(Config{Redis: rdb, Keys: keys, Signer: signer, EventKey: eventsigtest.Key(b)})
	if err != nil {
		b.Fatal(err)
	}
	claims := reserveN(b, rdb, keys, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.record(ctx, claims[i].d, claims[i].orderNo, "token"); err != nil {
			b.Fatal(err)
		}
	}
}

type reservedClaim struct {
	d       events.ClaimReservedData
	orderNo string
}
