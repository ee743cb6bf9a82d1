package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/surgekit/surge/shared/pending"
)

func (fx *fixture) orderList(t testing.TB, user string) orderList {
	t.Helper()
	var l orderList
	if status := fx.get(t, "/v1/orders", user, &l); status != http.StatusOK {
		t.Fatalf("GET /v1/orders: status %d", status)
	}
	return l
}

func states(l orderList) map[string]string {
	out := make(map[string]string)
	for _, o := range l.Orders {
		out[o.OrderNo] += o.State // a twice-listed order reads "pendingsettled"
	}
	return out
}

// TestOrdersMergeAcrossSettlement walks two wins through settlement: at
// every step each is listed exactly once and the totals add up.
func TestOrdersMergeAcrossSettlement(t *testing.T) {
	fx := newFixture(t)
	one, two := win(1), win(2)
	steps := []struct {
		name   string
		do     func()
		want   map[string]string
		totals pending.Totals
	}{
		{"nothing yet", func() {}, map[string]string{}, pending.Totals{}},
		{"both pending", func() { fx.queue(t, one); fx.queue(t, two) },
			map[string]string{one.OrderNo: "pending", two.OrderNo: "pending"}, pending.Totals{Pending: 2, PendingAmount: 300}},
		{"one committed, token still pending", func() { fx.commit(t, one) },
			map[string]string{one.OrderNo: "settled", two.OrderNo: "pending"}, pending.Totals{Settled: 1, Pending: 1, SettledAmount: 100, PendingAmount: 200}},
		{"one settled", func() { fx.unqueue(t, one) },
			map[string]string{one.OrderNo: "settled", two.OrderNo: "pending"}, pending.Totals{Settled: 1, Pending: 1, SettledAmount: 100, PendingAmount: 200}},
		{"both settled", func() { fx.commit(t, two); fx.unqueue(t, two) },
			map[string]string{one.OrderNo: "settled", two.OrderNo: "settled"}, pending.Totals{Settled: 2, SettledAmount: 300}},
	}
	for _, s := range steps {
		s.do()
		l := fx.orderList(t, "alice")
		if got := states(l); fmt.Sprint(got) != fmt.Sprint(s.want) || len(l.Orders) != len(s.want) {
			t.Errorf("%s: orders %v, want %v", s.name, got, s.want)
		}
		if l.Totals != s.totals {
			t.Errorf("%s: totals %+v, want %+v", s.name, l.Totals, s.totals)
		}
	}
	if l := fx.orderList(t, "bob"); len(l.Orders) != 0 {
		t.Fatalf("bob sees %v, want nothing", states(l))
	}
}

// TestOrdersNeverMissAWinWhileSettling settles wins one by one, as settle
// does (commit, then remove the token), while readers list the orders
// without pause: every read must list every win exactly once. Reading
// PostgreSQL before Redis would miss a win settling between the reads.
func TestOrdersNeverMissAWinWhileSettling(t *testing.T) {
	const wins = 60
	fx := newFixture(t)
	for seq := 1; seq <= wins; seq++ {
		fx.queue(t, win(seq))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { fx.readUntil(t, done, wins) })
	}
	for seq := 1; seq <= wins; seq++ {
		fx.commit(t, win(seq))
		fx.unqueue(t, win(seq))
	}
	close(done)
	wg.Wait()
	if l := fx.orderList(t, "alice"); l.Settled != wins || l.Pending != 0 {
		t.Fatalf("after settling: %d settled, %d pending; want %d, 0", l.Settled, l.Pending, wins)
	}
}

func (fx *fixture) readUntil(t *testing.T, done <-chan struct{}, wins int) {
	for {
		select {
		case <-done:
			return
		default:
		}
		l := fx.orderList(t, "alice")
		if len(l.Orders) != wins || l.Settled+l.Pending != wins {
			t.Errorf("a read listed %d orders (%d settled + %d pending), want %d", len(l.Orders), l.Settled, l.Pending, wins)
			return
		}
	}
}

// TestOrdersSkipTokensThatAreNotWins: forged tokens, garbage and tokens
// filed under the wrong order or user are not listed.
func TestOrdersSkipTokensThatAreNotWins(t *testing.T) {
	fx := newFixture(t)
	fx.queue(t, win(1))
	good, _ := fx.signer.Sign(win(2))
	bobs := win(3)
	bobs.UserID = "bob"
	bobsTok, _ := fx.signer.Sign(bobs)
	shadow := win(4)
	shadow.Shadow = true
	shadowTok, _ := fx.signer.Sign(shadow)
	ctx, key := context.Background(), fx.keys.User("alice").Pending()
	junk := map[string]string{
		shadow.OrderNo:             shadowTok, // a load test's win, in the real plane's list
		"double11:phone-x:alice:9": "garbage",
		"double11:phone-x:alice:8": good[:len(good)-3] + "AAA",
		"double11:phone-x:alice:7": good, // filed under the wrong order number
		bobs.OrderNo:               bobsTok,
	}
	for no, tok := range junk {
		if err := fx.rdb.HSet(ctx, key, no, tok).Err(); err != nil {
			t.Fatal(err)
		}
	}
	l := fx.orderList(t, "alice")
	if got := states(l); len(l.Orders) != 1 || got[win(1).OrderNo] != "pending" {
		t.Fatalf("orders %v, want only %s pending", got, win(1).OrderNo)
	}
}

func TestOrdersNeedAuth(t *testing.T) {
	fx := newFixture(t)
	for _, path := range []string{"/v1/orders", "/v1/claims/double11.x"} {
		if status := fx.get(t, path, "", nil); status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: status %d, want 401", path, status)
		}
	}
}
