package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/receipt"
)

func TestSettles(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	e := fx.win(t, "alice", 1, 1)
	status, body := fx.post(t, e)
	if status != http.StatusOK {
		t.Fatalf("status = %d (%s); want 200", status, body)
	}
	d := settledData(t, body)
	if d.OrderNo != "double11:phone-x:alice:1" || d.SettledAt.IsZero() {
		t.Errorf("reply = %+v; want order double11:phone-x:alice:1 with settled_at", d)
	}
	if n := fx.orders(t); n != 1 {
		t.Errorf("orders = %d; want 1", n)
	}
	if left, _ := fx.pending.List(ctx, "alice"); len(left) != 0 {
		t.Errorf("pending tokens = %v; want none", left)
	}
	if n := fx.rdb.HLen(ctx, fx.keys.Campaign("double11").Inflight()).Val(); n != 0 {
		t.Errorf("inflight entries = %d; want 0", n)
	}
	if r, err := fx.claims.Get(ctx, "double11.c-alice"); err != nil || r.State != claim.Settled {
		t.Errorf("claim = %+v, %v; want settled", r, err)
	}
}

func TestDuplicateDeliveryOneRow(t *testing.T) {
	fx := newFixture(t)
	e := fx.win(t, "bob", 1, 2)
	_, first := fx.post(t, e)
	status, again := fx.post(t, e)
	if status != http.StatusOK {
		t.Fatalf("redelivery status = %d (%s); want 200", status, again)
	}
	if a, b := settledData(t, first), settledData(t, again); !a.SettledAt.Equal(b.SettledAt) {
		t.Errorf("settled_at %v then %v; want the same on redelivery", a.SettledAt, b.SettledAt)
	}
	if n := fx.orders(t); n != 1 {
		t.Errorf("orders = %d; want 1", n)
	}
}

// TestRejectedChangeNothing: each of these is a 400 and leaves the ledger
// and the Redis records as they were.
func TestRejectedChangeNothing(t *testing.T) {
	forger, err := receipt.NewSigner(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(d *events.OrderQueuedData)
	}{
		{"forged token", func(d *events.OrderQueuedData) { d.Token = resign(t, forger, mintedBy7(t, d.Token)) }},
		{"tampered token", func(d *events.OrderQueuedData) { d.Token = tamper(d.Token) }},
		{"not a token", func(d *events.OrderQueuedData) { d.Token = "garbage" }},
		{"token of another order", func(d *events.OrderQueuedData) { d.OrderNo = "double11:phone-x:carol:2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			e := fx.win(t, "carol", 1, 3)
			var d events.OrderQueuedData
			must(t, e.DataAs(&d))
			tc.mutate(&d)
			must(t, e.SetData("application/json", d))
			if status, body := fx.post(t, e); status != http.StatusBadRequest {
				t.Errorf("status = %d (%s); want 400", status, body)
			}
			fx.assertUntouched(t, "carol")
		})
	}
}

// TestOverLimitChangesNothing: carol already holds her one unit (limit 1)
// in PostgreSQL; a second win is refused by the user units, 400, and
// leaves everything as it was.
func TestOverLimitChangesNothing(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	_, err := fx.pool.Exec(ctx, `INSERT INTO orders (order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
		VALUES ('double11:phone-x:carol:1', 'double11.old', 'double11', 'phone-x', 'carol', 1, 1, 1, 99900, now(), now());
		INSERT INTO user_units VALUES ('double11', 'carol', 1, 'double11:phone-x:carol:1')`)
	must(t, err)
	if status, body := fx.post(t, fx.win(t, "carol", 2, 4)); status != http.StatusBadRequest {
		t.Errorf("status = %d (%s); want 400", status, body)
	}
	if n := fx.orders(t); n != 1 {
		t.Errorf("orders = %d; want 1 (the first)", n)
	}
	if left, _ := fx.pending.List(ctx, "carol"); len(left) == 0 {
		t.Error("pending token removed; want kept")
	}
	if r, _ := fx.claims.Get(ctx, "double11.c-carol"); r.State != claim.Reserved {
		t.Errorf("claim state = %q; want reserved", r.State)
	}
}

func (fx *fixture) assertUntouched(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	if n := fx.orders(t); n != 0 {
		t.Errorf("orders = %d; want 0", n)
	}
	if left, _ := fx.pending.List(ctx, user); len(left) == 0 {
		t.Error("pending token removed; want kept")
	}
	if r, _ := fx.claims.Get(ctx, "double11.c-"+user); r.State != claim.Reserved {
		t.Errorf("claim state = %q; want reserved", r.State)
	}
}

func TestMalformedCloudEvent(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
	}{
		{"no cloudevent headers", map[string]string{"Content-Type": "application/json"}, `{}`},
		{"wrong type", ceHeaders("dev.surgekit.claim.requested.v1"), `{"claim_id":"x"}`},
		{"bad data", ceHeaders(events.TypeOrderQueued), `{"claim_id":`},
		{"missing fields", ceHeaders(events.TypeOrderQueued), `{"claim_id":"double11.x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, fx.srv.URL, strings.NewReader(tc.body))
			must(t, err)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if status, body := fntest.Body(t, req); status != http.StatusBadRequest {
				t.Errorf("status = %d (%s); want 400", status, body)
			}
		})
	}
}

func ceHeaders(typ string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Ce-Specversion": "1.0",
		"Ce-Id": "e-1", "Ce-Source": "/test", "Ce-Type": typ}
}

// fx0 reads a token minted by the fixture's signer (seed 7…7).
func mintedBy7(t *testing.T, token string) receipt.Receipt {
	t.Helper()
	s, err := receipt.NewSigner(bytes.Repeat([]byte{7}, 32))
	must(t, err)
	r, err := receipt.NewVerifier(s.Public()).Verify(token)
	must(t, err)
	return r
}

func resign(t *testing.T, s *receipt.Signer, r receipt.Receipt) string {
	t.Helper()
	token, err := s.Sign(r)
	must(t, err)
	return token
}

// tamper changes one character in the middle of the payload without
// re-signing it.
func tamper(token string) string {
	payload, sig, _ := strings.Cut(token, ".")
	b := []byte(payload)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b) + "." + sig
}
