package pending_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func newStore(t *testing.T) *pending.Store {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	return pending.NewStore(redis.UniversalClient(rdb), keyspace.New(env.KeyPrefix))
}

func TestStoreAddIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i, want := range []bool{true, false} {
		added, err := s.Add(ctx, "alice", "c:s:alice:1", "tok-1")
		if err != nil || added != want {
			t.Fatalf("Add #%d = %v, %v; want %v, nil", i+1, added, err, want)
		}
	}
	if _, err := s.Add(ctx, "alice", "c:s:alice:1", "another"); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "alice")
	if err != nil || fmt.Sprint(got) != fmt.Sprint(map[string]string{"c:s:alice:1": "tok-1"}) {
		t.Fatalf("List = %v, %v; want the first token only", got, err)
	}
}

func TestStoreRemoveAndIsolation(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, o := range []struct{ user, no string }{{"alice", "a1"}, {"alice", "a2"}, {"bob", "b1"}} {
		if _, err := s.Add(ctx, o.user, o.no, "tok-"+o.no); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove(ctx, "alice", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "alice", "a1"); err != nil {
		t.Fatalf("second Remove = %v, want nil", err)
	}
	tests := []struct{ user, want string }{
		{"alice", "map[a2:tok-a2]"}, {"bob", "map[b1:tok-b1]"}, {"carol", "map[]"},
	}
	for _, tt := range tests {
		got, err := s.List(ctx, tt.user)
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("List(%s) = %v, %v; want %s", tt.user, got, err, tt.want)
		}
	}
}
