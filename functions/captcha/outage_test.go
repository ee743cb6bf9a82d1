package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// TestRedisOutage kills redis-server (kill -9, as a new user tried under
// make up) in the middle of a sale, on a Redis of the test's own: while it
// is down a challenge and a claim are answered 503 store_unavailable with
// Retry-After, never 500; once the keeper has restarted it from its AOF
// the same client works again without being reopened. The keeper restarts
// Redis within a few hundred milliseconds, which go-redis's own retries
// would hide, so the test holds the port meanwhile (the keeper's restarts
// fail, address in use, and back off) and lets it go to end the outage.
func TestRedisOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := servers.StartRedis(ctx, filepath.Join(t.TempDir(), "redis"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	env := servertest.Fresh(t, deps)
	env.RedisURL = r.URL()
	fx := newFixtureOn(t, env, captcha.Config{}, func(*Deps) {})
	fx.warm(t, "open", false)
	fx.warm(t, "guarded", true)
	claim := func(user string) *httptest.ResponseRecorder {
		return fx.call(t, "/v1/campaigns/open/claims", token(t, user), map[string]any{"sku": "cup", "qty": 1})
	}
	if got := claim("before").Code; got != http.StatusAccepted {
		t.Fatalf("claim before the outage: %d, want 202", got)
	}

	pid := r.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	release := holdPort(ctx, t, r.Addr())
	for name, w := range map[string]*httptest.ResponseRecorder{
		"claim":     claim("during"),
		"challenge": fx.call(t, "/v1/campaigns/guarded/challenges", token(t, "during"), nil),
	} {
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s while Redis is down: %d %s Retry-After %q, want 503 with Retry-After", name, w.Code, w.Body, w.Header().Get("Retry-After"))
		}
		if code := httpapitest.ErrorCode(w); code != "store_unavailable" {
			t.Errorf("%s while Redis is down: code %q, want store_unavailable", name, code)
		}
	}

	release()
	for i := 0; ; i++ { // until the keeper's restart answers: 503 meanwhile, never 500
		w := claim("after" + strconv.Itoa(i))
		if w.Code == http.StatusAccepted {
			break
		}
		if w.Code != http.StatusServiceUnavailable || ctx.Err() != nil {
			t.Fatalf("claim %d after the kill: %d %s, want 503 until Redis is back, then 202", i, w.Code, w.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for r.PID() == pid { // the keeper records the new process once its PING answers
		if ctx.Err() != nil {
			t.Fatalf("redis-server pid still %d: not restarted", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := fx.claimKeys(t); got < 2 {
		t.Fatalf("%d claim records after the restart, want the one from before the kill (AOF) and the new one", got)
	}
}

// holdPort binds addr as soon as the killed server has let it go and
// closes every connection made to it, a dead store's port, until release.
func holdPort(ctx context.Context, t *testing.T, addr string) (release func()) {
	t.Helper()
	var l net.Listener
	for {
		var err error
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("port %s never freed after the kill: %v", addr, err)
		}
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // released
			}
			c.Close()
		}
	}()
	return func() { l.Close(); <-done }
}
