package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
)

// started is a query function of at most maxWaiters waiters, started (its
// hub subscribed) and served at fx.srv; it is stopped at cleanup.
func (fx *fixture) started(t *testing.T, maxWaiters int) *Function {
	t.Helper()
	f, err := New(fx.config(maxWaiters))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	fx.srv = fntest.Serve(t, f)
	until(t, "subscribed", func() bool { return f.hub.Stats().Subscriptions >= 1 })
	return f
}

func (fx *fixture) config(maxWaiters int) Config {
	return Config{
		Redis: fx.rdb, DB: fx.db, Keys: fx.keys, Users: auth.NewUsers(jwtSecret),
		Receipts: receipt.NewVerifier(fx.signer.Public()), MaxWaiters: maxWaiters, Log: slog.New(slog.DiscardHandler),
	}
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // generous: a race-enabled run on a loaded CI machine is slow
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after a minute", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pendingClaim creates alice's pending claim double11.<unique>.
func (fx *fixture) pendingClaim(t *testing.T, unique string) string {
	t.Helper()
	id := keyspace.ClaimID("double11", unique)
	r := claim.Record{ID: id, UserID: "alice", SKU: "phone-x", Qty: 1, CreatedAt: t0}
	if _, err := claim.NewStore(fx.rdb, fx.keys).CreatePending(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return id
}

// answer is one GET's outcome.
type answer struct {
	status int
	rec    claim.Record
	took   time.Duration
}

// getAsync GETs path as user in the background.
func (fx *fixture) getAsync(t *testing.T, path, user string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		start := time.Now()
		var a answer
		a.status = fx.get(t, path, user, &a.rec)
		a.took = time.Since(start)
		out <- a
	}()
	return out
}

// hgetalls is how many HGETALL Redis has served (INFO commandstats): the
// reads of a claim record.
func (fx *fixture) hgetalls(t *testing.T) int {
	t.Helper()
	info, err := fx.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`cmdstat_hgetall:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestWaitIsWokenByTheDecision: a 20 s wait returns as soon as the claim
// is decided, with the new state, whichever writer decides it (the
// pre-deduct script, the claim store). It is woken by the claim event, not
// by polling: the hub counts the wake, and the record is read three times
// (first read, re-read after registering, read after the wake).
func TestWaitIsWokenByTheDecision(t *testing.T) {
	fx := newFixture(t)
	f := fx.started(t, 0)
	ctx := context.Background()
	sale := &campaign.Campaign{ID: "double11", Kind: campaign.KindSale, PerUserLimit: 100, StartsAt: t0, EndsAt: t0.Add(time.Hour),
		Items: []campaign.Item{{SKU: "phone-x", Stock: 1000, Price: 100}}}
	if err := stock.Warm(ctx, fx.rdb, fx.keys.Campaign("double11"), sale, nil); err != nil {
		t.Fatal(err)
	}
	claims, deducter := claim.NewStore(fx.rdb, fx.keys), stock.NewDeducter(fx.rdb, fx.keys)
	tests := []struct {
		name   string
		before func(id string) // before the request
		decide func(id string) error
		want   string
	}{
		{"pre-deduct reserves", nil, func(id string) error {
			_, err := deducter.Deduct(ctx, stock.Request{ClaimID: id, CampaignID: "double11", UserID: "alice", SKU: "phone-x", Qty: 1, Now: t0.Add(time.Minute)})
			return err
		}, claim.Reserved},
		{"pre-deduct rejects", nil, func(id string) error {
			_, err := deducter.Deduct(ctx, stock.Request{ClaimID: id, CampaignID: "double11", UserID: "alice", SKU: "phone-x", Qty: 1, Now: t0.Add(2 * time.Hour)})
			return err
		}, claim.Rejected},
		{"dead letter rejects", nil, func(id string) error { return claims.SetRejected(ctx, id, "failed", t0) }, claim.Rejected},
		{"settle settles", func(id string) {
			if err := fx.rdb.HSet(ctx, fx.keys.Campaign("double11").Claim(id), claim.FieldState, claim.Reserved).Err(); err != nil {
				t.Fatal(err)
			}
		}, func(id string) error { return claims.SetSettled(ctx, id, t0) }, claim.Settled},
		{"settle's batched clean-up settles", func(id string) {
			if err := fx.rdb.HSet(ctx, fx.keys.Campaign("double11").Claim(id), claim.FieldState, claim.Reserved).Err(); err != nil {
				t.Fatal(err)
			}
		}, func(id string) error { return claims.SettleAll(ctx, []claim.Settlement{{ClaimID: id, At: t0}}, nil)[0] }, claim.Settled},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fx.pendingClaim(t, fmt.Sprintf("w%d", i))
			if tt.before != nil {
				tt.before(id)
			}
			wakes, reads := f.hub.Stats().Wakes, fx.hgetalls(t)
			got := fx.getAsync(t, "/v1/claims/"+id+"?wait=20s", "alice")
			until(t, "waiting", func() bool { return f.hub.Stats().Waiting == 1 })
			time.Sleep(200 * time.Millisecond)
			decided := time.Now()
			if err := tt.decide(id); err != nil {
				t.Fatal(err)
			}
			var a answer
			select {
			case a = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("no answer 5 s after the decision")
			}
			if after := time.Since(decided); a.status != http.StatusOK || a.rec.State != tt.want || after > 2*time.Second {
				t.Fatalf("answer %d %q %s after the decision; want 200 %q within 2s", a.status, a.rec.State, after, tt.want)
			}
			if woke := f.hub.Stats().Wakes - wakes; woke != 1 {
				t.Errorf("hub woke %d waiters, want 1: the answer did not come through the subscription", woke)
			}
			if n := fx.hgetalls(t) - reads; n > 3 {
				t.Errorf("%d reads of the record during the wait, want at most 3: that is polling", n)
			}
		})
	}
}

// TestWaitAnswersAtOnce: a final claim, a claim already away from the
// client's ?state= hint, another user's claim and a missing one are
// answered at once, whatever the wait.
func TestWaitAnswersAtOnce(t *testing.T) {
	fx := newFixture(t)
	f := fx.started(t, 0)
	pending, rejected := fx.pendingClaim(t, "p"), fx.pendingClaim(t, "r")
	if err := claim.NewStore(fx.rdb, fx.keys).SetRejected(context.Background(), rejected, "failed", t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, user string
		status           int
		state            string
	}{
		{"final", "/v1/claims/" + rejected + "?wait=20s", "alice", http.StatusOK, claim.Rejected},
		{"moved on from the hint", "/v1/claims/" + pending + "?wait=20s&state=reserved", "alice", http.StatusOK, claim.Pending},
		{"another user's claim", "/v1/claims/" + pending + "?wait=20s", "bob", http.StatusNotFound, ""},
		{"missing claim", "/v1/claims/double11.none?wait=20s", "alice", http.StatusNotFound, ""},
		{"no wait", "/v1/claims/" + pending, "alice", http.StatusOK, claim.Pending},
		{"zero wait", "/v1/claims/" + pending + "?wait=0s", "alice", http.StatusOK, claim.Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := <-fx.getAsync(t, tt.path, tt.user)
			if a.status != tt.status || a.rec.State != tt.state || a.took > time.Second {
				t.Fatalf("answer %d %q after %s; want %d %q at once", a.status, a.rec.State, a.took, tt.status, tt.state)
			}
		})
	}
	if n := f.hub.Stats().Waiting; n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

// TestWaitRunsOut: with no change the answer comes when the wait ends,
// with the state unchanged; a ?state= hint equal to the state waits too.
func TestWaitRunsOut(t *testing.T) {
	fx := newFixture(t)
	fx.started(t, 0)
	id := fx.pendingClaim(t, "p")
	for _, q := range []string{"?wait=300ms", "?wait=300ms&state=pending"} {
		a := <-fx.getAsync(t, "/v1/claims/"+id+q, "alice")
		if a.status != http.StatusOK || a.rec.State != claim.Pending || a.took < 300*time.Millisecond || a.took > 2*time.Second {
			t.Fatalf("%s: answer %d %q after %s; want 200 pending after 300ms", q, a.status, a.rec.State, a.took)
		}
	}
}

func TestWaitRejectsBadValues(t *testing.T) {
	fx := newFixture(t)
	fx.started(t, 0)
	id := fx.pendingClaim(t, "p")
	for _, v := range []string{"abc", "-1s", "5", "1x"} {
		resp := fx.request(t, "/v1/claims/"+id+"?wait="+v, "alice")
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body.Error.Code != "invalid_wait" {
			t.Errorf("wait=%s: %d %q, want 400 invalid_wait", v, resp.StatusCode, body.Error.Code)
		}
	}
	if d, err := parseWait("1h"); err != nil || d != MaxWait {
		t.Errorf("parseWait(1h) = %s, %v; want %s (capped)", d, err, MaxWait)
	}
}

// TestWaitersAreBounded: past MaxWaiters a request is answered at once
// with the current state, never an error.
func TestWaitersAreBounded(t *testing.T) {
	fx := newFixture(t)
	f := fx.started(t, 2)
	id := fx.pendingClaim(t, "p")
	held := []<-chan answer{fx.getAsync(t, "/v1/claims/"+id+"?wait=20s", "alice"), fx.getAsync(t, "/v1/claims/"+id+"?wait=20s", "alice")}
	until(t, "2 waiting", func() bool { return f.hub.Stats().Waiting == 2 })
	a := <-fx.getAsync(t, "/v1/claims/"+id+"?wait=20s", "alice")
	if a.status != http.StatusOK || a.rec.State != claim.Pending || a.took > time.Second {
		t.Fatalf("third waiter: %d %q after %s; want 200 pending at once", a.status, a.rec.State, a.took)
	}
	if err := claim.NewStore(fx.rdb, fx.keys).SetRejected(context.Background(), id, "failed", t0); err != nil {
		t.Fatal(err)
	}
	for _, h := range held {
		if a := <-h; a.rec.State != claim.Rejected {
			t.Fatalf("held waiter answered %q, want rejected", a.rec.State)
		}
	}
}

// TestStopReleasesEveryWaiter: 1,000 requests waiting 30 s are all
// answered with the current state as soon as the function stops (Stop, or
// the end of Start's context: SIGTERM under fn.Run), and no goroutine is
// left behind.
func TestStopReleasesEveryWaiter(t *testing.T) {
	const waiters = 1000
	fx := newFixture(t)
	ids := make([]string, waiters)
	for i := range ids {
		ids[i] = fx.pendingClaim(t, fmt.Sprintf("s%d", i))
	}
	tok, err := auth.SignUser(jwtSecret, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fx.config(0)
	// 1,000 claim reads at once queue behind each other on a loaded
	// race-enabled run: past the default 2s one would answer 503 early
	// and never wait
	cfg.Timeout = 30 * time.Second
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	answers := make([]*httptest.ResponseRecorder, waiters)
	var wg sync.WaitGroup
	var stopping atomic.Bool
	var mu sync.Mutex
	var early []string // the answers given before Stop
	for i, id := range ids {
		answers[i] = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v1/claims/"+id+"?wait=30s", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		wg.Go(func() {
			f.ServeHTTP(answers[i], req)
			if !stopping.Load() { // answered before Stop: it never waited
				mu.Lock()
				early = append(early, fmt.Sprintf("%d %s", answers[i].Code, bytes.TrimSpace(answers[i].Body.Bytes())))
				mu.Unlock()
			}
		})
	}
	until(t, "1,000 waiting", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(early) > 0 {
			t.Fatalf("%d of the waiters answered before Stop, the first: %s", len(early), early[0])
		}
		return f.hub.Stats().Waiting == waiters
	})
	stopping.Store(true)
	stopped := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if took := time.Since(stopped); took > 25*time.Second {
		t.Fatalf("waiters answered %s after Stop, want long before their 30s wait ends", took)
	}
	for i, a := range answers {
		var rec claim.Record
		if err := json.Unmarshal(a.Body.Bytes(), &rec); a.Code != http.StatusOK || err != nil || rec.ID != ids[i] || rec.State != claim.Pending {
			t.Fatalf("waiter %d answered %d %s, want 200 with pending %s", i, a.Code, a.Body, ids[i])
		}
	}
	until(t, "goroutines back", func() bool { return runtime.NumGoroutine() <= before+3 })
}

// TestEndOfStartContextReleasesWaiters: the SIGTERM path. fn.Run cancels
// the context it gave Start before it drains the server, so a long poll
// never holds the drain up.
func TestEndOfStartContextReleasesWaiters(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := New(fx.config(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	fx.srv = fntest.Serve(t, g)
	until(t, "subscribed", func() bool { return g.hub.Stats().Subscriptions >= 1 })
	id := fx.pendingClaim(t, "p")
	got := fx.getAsync(t, "/v1/claims/"+id+"?wait=20s", "alice")
	until(t, "waiting", func() bool { return g.hub.Stats().Waiting == 1 })
	cancel()
	select {
	case a := <-got:
		if a.status != http.StatusOK || a.rec.State != claim.Pending {
			t.Fatalf("answer %d %q, want 200 pending", a.status, a.rec.State)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter still waits 2 s after Start's context ended")
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
