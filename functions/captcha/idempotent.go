package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi"
)

// replay answers a click retried with the same Idempotency-Key: found is
// true when the claim exists, and the caller answers 202 with the same
// claim id without asking for the captcha again (the first attempt used it
// up). A claim still pending is published again: the event is identical
// (same id and time) and every stage is idempotent on it, so a 202 always
// means the broker holds the claim, even when the first attempt's publish
// outcome is unknown. A claim already decided is not republished; a
// refused one is not found (the retry is a new attempt).
func (f *Function) replay(ctx context.Context, id, user string, b claimBody) (found bool, err error) {
	rec, err := f.d.Claims.Join(ctx, id)
	if errors.Is(err, claim.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.resume(ctx, rec, user, b.SKU, b.Qty)
}

// errKeyReused: a retried click that is not the claim its key made.
var errKeyReused = httpapi.Errorf(http.StatusConflict, "idempotency_key_reused", "Idempotency-Key already used for a different claim")

// resume answers a retried click from the claim's record: a different
// claim under the same key is refused, a pending one republished. A
// pending claim counted this attempt (claim.Store.Join, CreateOrGet), so
// the attempt publishes it or abandons it.
func (f *Function) resume(ctx context.Context, rec claim.Record, user, sku string, qty int) error {
	reused := rec.UserID != user || rec.SKU != sku || rec.Qty != qty
	switch {
	case rec.State != claim.Pending && reused:
		return errKeyReused
	case rec.State != claim.Pending:
		return nil
	case reused:
		_, err := f.abandon(rec.ID)
		return errors.Join(errKeyReused, err)
	}
	if err := f.publish(ctx, rec); err != nil {
		return f.unpublished(rec.ID, err)
	}
	return nil
}
