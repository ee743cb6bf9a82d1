package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
)

// settled records a settled order of alice's seq-th win, due at payBy:
// its row in PostgreSQL and its claim record in Redis.
func (fx *fixture) settled(t *testing.T, seq int, payBy time.Time) receipt.Receipt {
	t.Helper()
	r := win(seq)
	r.PayBy = payBy
	fx.commit(t, r)
	key := fx.keys.Campaign("double11").Claim(r.TokenID)
	if err := fx.rdb.HSet(context.Background(), key, claim.FieldUser, r.UserID, claim.FieldSKU, r.SKU, claim.FieldQty, 1,
		claim.FieldState, claim.Settled, claim.FieldOrderNo, r.OrderNo, stock.FieldPayBy, strconv.FormatInt(payBy.UnixMilli(), 10)).Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// pay POSTs a payment of orderNo as user under key and returns the status
// and the error code (or the state paid).
func (fx *fixture) pay(t *testing.T, orderNo, user, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fx.srv.URL+"/v1/orders/"+orderNo+"/payment", nil)
	fx.authorize(t, req, user)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		State string `json:"state"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if body.Error.Code != "" {
		return resp.StatusCode, body.Error.Code
	}
	return resp.StatusCode, body.State
}

func TestPayment(t *testing.T) {
	fx := newFixture(t)
	open := fx.settled(t, 1, time.Now().Add(time.Hour))
	late := fx.settled(t, 2, time.Now().Add(-time.Second))
	queued := win(3)
	fx.queue(t, queued)
	for _, tc := range []struct {
		name, orderNo, user, key string
		status                   int
		code                     string
	}{
		{"no key", open.OrderNo, "alice", "", http.StatusBadRequest, "idempotency_key_required"},
		{"another user's", open.OrderNo, "bob", "k1", http.StatusNotFound, "order_not_found"},
		{"unknown", "double11:phone-x:alice:9", "alice", "k1", http.StatusNotFound, "order_not_found"},
		{"not an order number", "nonsense", "alice", "k1", http.StatusNotFound, "order_not_found"},
		{"paid", open.OrderNo, "alice", "k1", http.StatusOK, claim.Paid},
		{"replayed", open.OrderNo, "alice", "k1", http.StatusOK, claim.Paid},
		{"again with another key", open.OrderNo, "alice", "k2", http.StatusConflict, "already_paid"},
		{"after pay_by", late.OrderNo, "alice", "k3", http.StatusConflict, "payment_expired"},
		{"still settling", queued.OrderNo, "alice", "k4", http.StatusConflict, "not_settled"},
		{"no JWT", open.OrderNo, "", "k1", http.StatusUnauthorized, ""},
	} {
		status, code := fx.pay(t, tc.orderNo, tc.user, tc.key)
		if status != tc.status || (tc.code != "" && code != tc.code) {
			t.Errorf("%s: %d %q; want %d %q", tc.name, status, code, tc.status, tc.code)
		}
	}
	states := map[string]string{}
	rows, err := fx.db.Query(context.Background(), `SELECT order_no, state FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var no, state string
		if err := rows.Scan(&no, &state); err != nil {
			t.Fatal(err)
		}
		states[no] = state
	}
	if states[open.OrderNo] != "paid" || states[late.OrderNo] != "reserved" || len(states) != 2 {
		t.Errorf("orders = %v; want %s paid, %s reserved (nothing else)", states, open.OrderNo, late.OrderNo)
	}
}
