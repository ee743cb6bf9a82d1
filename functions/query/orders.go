package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

// orderList is the body of GET /v1/orders.
type orderList struct {
	Orders []pending.Entry `json:"orders"`
	pending.Totals
}

// orders answers GET /v1/orders: the caller's settled orders plus the
// pending tokens not yet settled, each order once. Under reads_cache_only
// only the pending tokens (Redis), marked by the Surge-Degraded header.
func (f *Function) orders(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	entries, err := f.merged(r.Context(), user, f.cacheOnly(w))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, orderList{Orders: entries, Totals: pending.Total(entries)})
	return nil
}

// merged reads the pending tokens FIRST and the settled orders SECOND.
// Settle commits PostgreSQL before it removes the pending token, so a win
// settling between the two reads shows in both (Merge keeps it once);
// reading PostgreSQL first could find it in neither and miss it.
// cacheOnly reads the pending tokens alone.
func (f *Function) merged(ctx context.Context, user string, cacheOnly bool) ([]pending.Entry, error) {
	tokens, err := f.pendingTokens(ctx, user)
	if err != nil || cacheOnly {
		return pending.Merge(nil, f.verified(user, tokens)), err
	}
	settled, err := f.settled(ctx, user)
	if err != nil {
		return nil, err
	}
	return pending.Merge(settled, f.verified(user, tokens)), nil
}

func (f *Function) pendingTokens(ctx context.Context, user string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	return f.pending.List(ctx, user)
}

// verified returns the receipts of the tokens that verify and belong where
// they are filed, on this plane; any other is skipped and logged: it is
// not a win.
func (f *Function) verified(user string, tokens map[string]string) []receipt.Receipt {
	out := make([]receipt.Receipt, 0, len(tokens))
	for orderNo, tok := range tokens {
		r, err := f.cfg.Receipts.Verify(tok)
		if err == nil && (r.OrderNo != orderNo || r.UserID != user || r.Shadow != (f.cfg.Plane == plane.Shadow)) {
			err = fmt.Errorf("%w: token of %s/%s (shadow %v) filed as %s/%s on the %v plane",
				receipt.ErrForged, r.UserID, r.OrderNo, r.Shadow, user, orderNo, f.cfg.Plane)
		}
		if err != nil {
			f.cfg.Log.Warn("pending token skipped", "user_id", user, "order_no", orderNo, "error", err.Error())
			continue
		}
		out = append(out, r)
	}
	return out
}

// selectSettled lists a user's orders, columns in the order of
// pending.Order's fields.
const selectSettled = `
SELECT o.order_no, o.token_id, o.campaign_id, o.sku, o.seq, o.qty, o.first_slot, o.amount, o.reserved_at, o.pay_by, o.settled_at,
       o.state, o.paid_at, o.released_at, c.kind
FROM orders o JOIN campaigns c ON c.id = o.campaign_id WHERE o.user_id = $1`

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (f *Function) settled(ctx context.Context, user string) ([]pending.Order, error) {
	return settledIn(ctx, f.cfg.DB, user, f.cfg.Timeout)
}

func settledIn(ctx context.Context, db querier, user string, timeout time.Duration) ([]pending.Order, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := db.Query(ctx, selectSettled, user)
	if err != nil {
		return nil, fmt.Errorf("settled orders of %s: %w", user, err)
	}
	orders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pending.Order])
	if err != nil {
		return nil, fmt.Errorf("settled orders of %s: %w", user, err)
	}
	for i := range orders {
		o := &orders[i]
		o.ReservedAt, o.PayBy, o.SettledAt = o.ReservedAt.UTC(), o.PayBy.UTC(), o.SettledAt.UTC()
		o.PaidAt, o.ReleasedAt = utc(o.PaidAt), utc(o.ReleasedAt)
	}
	return orders, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
