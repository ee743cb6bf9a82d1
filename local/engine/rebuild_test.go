package engine_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/shared/plane"
)

const (
	rebuildStock = 500
	rebuildQuiet = "SURGE_REBUILD_QUIET=1s"
)

// FLUSHALL of Redis in the middle of a sale of 500 units to 2,000 users.
// See saleThroughRedisLoss.
func TestFlushAllMidSaleRebuilds(t *testing.T) {
	s := startEngineWith(t, engine.Config{Env: []string{rebuildQuiet}})
	rdb := s.redis(t)
	saleThroughRedisLoss(t, s, func() {
		if err := rdb.FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// The same when redis-server dies (kill -9) and comes back without its
// AOF: frozen (SIGSTOP) so it writes nothing more, its AOF removed, then
// killed; its supervisor starts it again on the same port, empty.
func TestRedisRestartWithoutAOFRebuilds(t *testing.T) {
	own, err := servers.StartRedis(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Stop() })
	s := startEngineWith(t, engine.Config{Env: []string{rebuildQuiet}, Deps: engine.Deps{RedisURL: own.URL()}})
	rdb := s.redis(t)
	saleThroughRedisLoss(t, s, func() {
		pid := own.PID()
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(own.Dir())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "redis.log" {
				if err := os.RemoveAll(filepath.Join(own.Dir(), e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); own.PID() == pid || rdb.Ping(context.Background()).Err() != nil; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("redis-server not back within a minute")
			}
		}
		if rdb.Exists(context.Background(), s.env.KeyPrefix+":{c:lost}:meta").Val() != 0 {
			t.Fatal("redis-server came back with the sale's state; want it lost with the AOF")
		}
	})
}

// saleThroughRedisLoss: 300 users win while Redis loses everything
// (lose), with their claims in flight; 400 more click before reconcile
// has rebuilt the campaign: none of them is reserved; an operator's
// warm-up is refused (409 rebuild_required); a pass rebuilds from
// PostgreSQL after the broker drained; 1,300 more click. At the end the
// winners are exactly the stock, every 202 claim is final, nobody has two
// orders, Redis and PostgreSQL agree.
func saleThroughRedisLoss(t *testing.T, s *stack, lose func()) {
	t.Helper()
	s.api.openSale(t, sale{ID: "lost", SKU: "cup", Stock: rebuildStock, Limit: 1})
	first := s.clickAll(t, "lost", "first", 300)
	lose()
	before := s.clickAll(t, "lost", "before", 400)
	beforeClaims := accepted202(before)
	final := func(st claimStatus) bool {
		return st.State == "settled" || st.State == "rejected" || st.State == "paid" || st.State == "released"
	}
	for user, st := range s.api.await(t, beforeClaims, final) {
		if st.State != "rejected" {
			t.Errorf("%s clicked after Redis lost the sale, before the rebuild: %+v; want rejected", user, st)
		}
	}
	s.api.must(t, http.StatusConflict, http.MethodPost, "/v1/campaigns/lost/warmup", s.api.admin, nil, nil)

	if got := s.ping(t, plane.Real); got.Mismatches != 0 {
		t.Errorf("the rebuilding pass reports %d mismatches; want 0 (rebuilt)", got.Mismatches)
	}
	if !s.redis(t).HExists(context.Background(), s.env.KeyPrefix+":{c:lost}:meta", "rebuilt_ms").Val() {
		t.Fatal("the pass did not rebuild the campaign")
	}
	after := s.clickAll(t, "lost", "after", 1300)
	all := merge(merge(accepted202(first), beforeClaims), accepted202(after))
	decided := s.api.await(t, all, final)
	won := 0
	for _, st := range decided {
		if st.State == "settled" {
			won++
		}
	}
	rows, units, users := s.ordersInDB(t, "lost")
	if rows != rebuildStock || units != rebuildStock || users != rebuildStock || won != rebuildStock {
		t.Fatalf("%d orders, %d units, %d users in PostgreSQL, %d claims settled; want %d each", rows, units, users, won, rebuildStock)
	}
	if left := s.remaining(t, "lost", "cup"); left != 0 {
		t.Errorf("Redis remaining %d, want 0", left)
	}
	assertReconciled(t, s)
	t.Logf("202s: %d of the first 300, %d of the 400 before the rebuild, %d of the 1,300 after", len(accepted202(first)), len(beforeClaims), len(accepted202(after)))
}

// accepted202 maps the users whose click was accepted to their claim.
func accepted202(clicks map[string]answer) map[string]string {
	out := map[string]string{}
	for user, a := range clicks {
		if a.status == http.StatusAccepted {
			out[user] = a.claimID
		}
	}
	return out
}
