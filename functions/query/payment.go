package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/stock"
)

// paid is the answer to a payment; a replay under the same key gets the
// very same answer.
type paid struct {
	OrderNo string `json:"order_no"`
	State   string `json:"state"`
}

// pay answers POST /v1/orders/{order_no}/payment: the caller pays one of
// its orders before its pay_by, under an Idempotency-Key. Another user's
// order is "not found", exactly like a missing one. An order still
// pending settlement is settled first (payment.Closer calls settle). The
// decision is Redis's (stock.Window: a payment and a release racing, the
// first wins), then the order is marked paid in PostgreSQL and order.paid
// published.
func (f *Function) pay(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r, "a payment")
	if err != nil {
		return err
	}
	orderNo := r.PathValue("order_no")
	notFound := httpapi.Errorf(http.StatusNotFound, "order_not_found", "no order %q of yours", orderNo)
	if owner(orderNo) != user {
		return notFound
	}
	ctx, cancel := context.WithTimeout(r.Context(), 4*f.cfg.Timeout)
	defer cancel()
	claimID, err := f.claimOf(ctx, user, orderNo)
	if err != nil {
		return err
	}
	if claimID == "" {
		return notFound
	}
	fate, err := f.payments.Pay(ctx, claimID, key, time.Time{})
	if errors.Is(err, stock.ErrNoClaim) { // Redis has no record of it (yet, or again: a rebuild restores it)
		return settling(orderNo)
	}
	if err != nil {
		return fmt.Errorf("payment of %s: %w", orderNo, err)
	}
	switch fate.Outcome {
	case stock.Paid, stock.Replay:
		httpapi.WriteJSON(w, http.StatusOK, paid{OrderNo: orderNo, State: fate.State})
		return nil
	case stock.Expired:
		return httpapi.Errorf(http.StatusConflict, "payment_expired", "the payment window of %s has passed", orderNo)
	case stock.AlreadyPaid:
		return httpapi.Errorf(http.StatusConflict, "already_paid", "%s is paid already, under another Idempotency-Key", orderNo)
	case stock.NotSettled:
		return settling(orderNo)
	default:
		return httpapi.Errorf(http.StatusConflict, "not_payable", "%s is %s", orderNo, fate.State)
	}
}

// claimOf finds the claim of one of user's orders: in PostgreSQL once
// settled, else on the user's pending list (a verified receipt); "" when
// the user has no such order.
func (f *Function) claimOf(ctx context.Context, user, orderNo string) (string, error) {
	var claimID string
	err := f.cfg.DB.QueryRow(ctx, `SELECT token_id FROM orders WHERE order_no = $1 AND user_id = $2`, orderNo, user).Scan(&claimID)
	if err == nil {
		return claimID, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("payment of %s: %w", orderNo, err)
	}
	tokens, err := f.pending.List(ctx, user)
	if err != nil {
		return "", fmt.Errorf("payment of %s: %w", orderNo, err)
	}
	tok, ok := tokens[orderNo]
	if !ok {
		return "", nil
	}
	for _, r := range f.verified(user, map[string]string{orderNo: tok}) {
		return r.TokenID, nil
	}
	return "", nil
}

func settling(orderNo string) error {
	return httpapi.Errorf(http.StatusConflict, "not_settled", "%s is still being settled; retry", orderNo).WithRetryAfter(time.Second)
}

// owner is the user of an order number campaign:sku:user:seq ("" when it
// is not one); campaign and sku ids hold no ':', a user id may.
func owner(orderNo string) string {
	parts := strings.Split(orderNo, ":")
	if len(parts) < 4 {
		return ""
	}
	return strings.Join(parts[2:len(parts)-1], ":")
}
