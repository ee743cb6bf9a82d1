package ratelimit_test

import (
	"context"
	"os"
	"testing"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ratelimit"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// Two instances share the Redis bucket: together they admit the burst, no
// more; a refusal by one limit takes nothing from the others.
func TestLimiterSharedAcrossInstances(t *testing.T) {
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	keys := keyspace.New(env.KeyPrefix)
	a, b := ratelimit.New(rdb, keys, 100), ratelimit.New(rdb, keys, 100)
	user := ratelimit.Limit{Who: "user:alice", Rate: ratelimit.Rate{PerSec: 0.1, Burst: 5}}
	ctx := context.Background()
	admitted := 0
	for i := range 20 {
		lim := a
		if i%2 == 1 {
			lim = b
		}
		ref, err := lim.Take(ctx, "sale", "claim", user)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			admitted++
		} else if ref.Limit.Who != "user:alice" || ref.Wait <= 0 {
			t.Fatalf("refusal %+v; want alice's limit with a wait", ref)
		}
	}
	if admitted != 5 {
		t.Fatalf("%d admitted across two instances; want the burst, 5", admitted)
	}
	bob := ratelimit.Limit{Who: "user:bob", Rate: user.Rate}
	all := ratelimit.Limit{Who: "all", Rate: ratelimit.Rate{PerSec: 0.1, Burst: 1}}
	if ref, err := a.Take(ctx, "sale", "claim", bob, all); ref != nil || err != nil {
		t.Fatalf("bob's first: %v, %v; want admitted", ref, err)
	}
	if ref, err := b.Take(ctx, "sale", "claim", bob, all); err != nil || ref == nil || ref.Limit.Who != "all" {
		t.Fatalf("bob's second: %+v, %v; want refused by the campaign's ceiling", ref, err)
	}
	carol := ratelimit.Limit{Who: "user:carol", Rate: ratelimit.Rate{PerSec: 0.1, Burst: 1}}
	if ref, _ := b.Take(ctx, "sale", "claim", carol, all); ref == nil {
		t.Fatal("carol admitted over the campaign's ceiling")
	}
	if ref, err := b.Take(ctx, "sale", "claim", carol); ref != nil || err != nil {
		t.Fatalf("carol alone: %+v, %v; want admitted (the refused take took nothing)", ref, err)
	}
}
