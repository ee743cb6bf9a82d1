package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/receipt"
)

// wallet is the body of GET /v1/wallet, in cents: Settled is the packets
// PostgreSQL holds, Pending those whose tokens are not in it yet, Balance
// Settled + Pending − Withdrawn. Entries lists every packet once.
type wallet struct {
	Settled   int64           `json:"settled"`
	Pending   int64           `json:"pending"`
	Withdrawn int64           `json:"withdrawn"`
	Balance   int64           `json:"balance"`
	Entries   []pending.Entry `json:"entries"`
}

// wallet answers GET /v1/wallet: the caller's rain packets, the settled
// ledger merged with the pending tokens at read time (invariant 4), less
// what was withdrawn. Under reads_cache_only it is 503 cache_only: the
// ledger is in PostgreSQL.
func (f *Function) wallet(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	if f.cacheOnly(w) {
		return errNotCached
	}
	v, err := f.readWallet(r.Context(), user)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

// readWallet reads the pending tokens FIRST (see merged), then the
// settled orders and the withdrawals in one snapshot, so a withdrawal
// committing meanwhile is either in both its debit and the credits it
// forced, or in neither.
func (f *Function) readWallet(ctx context.Context, user string) (wallet, error) {
	tokens, err := f.pendingTokens(ctx, user)
	if err != nil {
		return wallet{}, err
	}
	var settled []pending.Order
	var out int64
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	err = pgx.BeginTxFunc(ctx, f.cfg.DB, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if settled, err = settledIn(ctx, tx, user, f.cfg.Timeout); err != nil {
			return err
		}
		out, err = ledger.Withdrawn(ctx, tx, user)
		return err
	})
	if err != nil {
		return wallet{}, fmt.Errorf("wallet of %s: %w", user, err)
	}
	v := wallet{Withdrawn: out, Entries: []pending.Entry{}}
	for _, e := range pending.Merge(settled, f.verified(user, tokens)) {
		if e.Kind != campaign.KindRain || e.State == pending.StateReleased {
			continue
		}
		v.Entries = append(v.Entries, e)
		if e.State == pending.StatePending {
			v.Pending += e.Amount
		} else {
			v.Settled += e.Amount
		}
	}
	v.Balance = v.Settled + v.Pending - v.Withdrawn
	return v, nil
}

// withdrawalBody is the body of POST /v1/wallet/withdrawals: cents, a
// JSON integer.
type withdrawalBody struct {
	Amount *int64 `json:"amount"`
}

// withdraw answers POST /v1/wallet/withdrawals under an Idempotency-Key:
// the caller's pending packets are settled first (settle called directly,
// the seed's 强制入账), so the whole balance can be withdrawn, then the
// amount is debited in one transaction that never overdraws (Wallets).
// A replay of the key gets the first answer.
//
//	201 the withdrawal, with the balance left
//	400 invalid_amount, idempotency_key_required, malformed_json
//	409 insufficient_balance, idempotency_key_reused
//	503 settling: pending packets could not be settled and are needed
func (f *Function) withdraw(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r, "a withdrawal")
	if err != nil {
		return err
	}
	var body withdrawalBody
	if err := httpapi.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Amount == nil || *body.Amount <= 0 {
		return httpapi.Errorf(http.StatusBadRequest, "invalid_amount", "amount must be a positive whole number of cents")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 4*f.cfg.Timeout)
	defer cancel()
	unsettled, err := f.forceSettle(ctx, user)
	if err != nil {
		return err
	}
	wd, _, err := f.wallets.Withdraw(ctx, user, key, *body.Amount)
	switch {
	case errors.Is(err, ledger.ErrInsufficient) && unsettled > 0:
		return httpapi.Errorf(http.StatusServiceUnavailable, "settling",
			"%d pending packets could not be settled yet; retry", unsettled).WithRetryAfter(time.Second)
	case errors.Is(err, ledger.ErrInsufficient):
		return httpapi.Errorf(http.StatusConflict, "insufficient_balance",
			"amount %d is over the balance %d", *body.Amount, wd.Balance)
	case errors.Is(err, ledger.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, "idempotency_key_reused",
			"this Idempotency-Key withdrew %d, not %d", wd.Amount, *body.Amount)
	case err != nil:
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, wd)
	return nil
}

func idempotencyKey(r *http.Request, what string) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 200 {
		return "", httpapi.Errorf(http.StatusBadRequest, "idempotency_key_required", "%s needs an Idempotency-Key header (1-200 bytes)", what)
	}
	return key, nil
}

// forceSettles bounds the settle calls of one withdrawal at once.
const forceSettles = 8

// forceSettle sends each of user's pending rain tokens to settle and
// returns how many did not settle. A token settle refuses (poison) is
// skipped: it never becomes money, so it is owed nothing. Only rain tokens
// count: a sale's pending token is not in the wallet, so it must not turn
// an insufficient balance into a "settling" answer.
func (f *Function) forceSettle(ctx context.Context, user string) (int, error) {
	tokens, err := f.pendingTokens(ctx, user)
	if err != nil {
		return 0, err
	}
	rains := rainReceipts(f.verified(user, tokens))
	if f.cfg.Settle == nil {
		return len(rains), nil
	}
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, forceSettles)
	var wg sync.WaitGroup
	for _, rc := range rains {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f.settleToken(ctx, rc, tokens[rc.OrderNo]); err != nil && !fn.Refused(err) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failed, nil
}

// rainReceipts keeps the receipts of rain packets, the wallet's tokens.
func rainReceipts(rcs []receipt.Receipt) []receipt.Receipt {
	out := rcs[:0]
	for _, rc := range rcs {
		if rc.Kind == campaign.KindRain {
			out = append(out, rc)
		}
	}
	return out
}

// settleToken has settle take a token's order, as of its reservation, as
// enqueue would have (payment.Closer.SettleOrder).
func (f *Function) settleToken(ctx context.Context, rc receipt.Receipt, token string) error {
	return f.payments.SettleOrder(ctx, events.OrderQueuedData{ClaimID: rc.TokenID, CampaignID: rc.CampaignID, UserID: rc.UserID,
		OrderNo: rc.OrderNo, Token: token}, rc.ReservedAt)
}

// presentBody is the body of POST /v1/wallet/tokens.
type presentBody struct {
	Token string `json:"token"`
}

// presented is the answer to a token presented: its order as PostgreSQL
// holds it.
type presented struct {
	OrderNo   string    `json:"order_no"`
	ClaimID   string    `json:"claim_id"`
	State     string    `json:"state"`
	Amount    int64     `json:"amount"`
	SettledAt time.Time `json:"settled_at"`
}

// presentToken answers POST /v1/wallet/tokens: a receipt token the client
// kept (the seed's 容灾互备: stored on the client and the server) is
// settled through settle, once, whatever Redis still knows of it. A token
// that is not one, does not verify, or is another user's changes nothing.
//
//	200 the token's order (settled now or before)
//	400 missing_token, malformed_token; 403 forged_token, foreign_token
//	409 token_refused: settle's guards refuse it (its unit is another's)
//	409 payment_expired: a sale's token past its payment deadline
//	503 settling: settle did not answer; retry
func (f *Function) presentToken(w http.ResponseWriter, r *http.Request) error {
	user, err := f.user(r)
	if err != nil {
		return err
	}
	var body presentBody
	if err := httpapi.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	rc, err := f.ownToken(user, body.Token)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 4*f.cfg.Timeout)
	defer cancel()
	if p, err := f.orderOfToken(ctx, rc.TokenID); err == nil {
		httpapi.WriteJSON(w, http.StatusOK, p)
		return nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if rc.Kind == "" && rc.Expired(time.Now()) {
		return httpapi.Errorf(http.StatusConflict, "payment_expired", "the payment window of %s has passed", rc.OrderNo)
	}
	if f.cfg.Settle == nil {
		return errSettling
	}
	if err := f.settleToken(ctx, rc, body.Token); fn.Refused(err) {
		return httpapi.Errorf(http.StatusConflict, "token_refused", "settle refused %s: %v", rc.OrderNo, err)
	} else if err != nil {
		f.cfg.Log.Warn("presented token not settled", "order_no", rc.OrderNo, "error", err.Error())
		return errSettling
	}
	p, err := f.orderOfToken(ctx, rc.TokenID)
	if err != nil {
		return fmt.Errorf("presented %s: %w", rc.OrderNo, err)
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
	return nil
}

var errSettling = httpapi.Errorf(http.StatusServiceUnavailable, "settling", "settlement is unavailable; retry").WithRetryAfter(time.Second)

// ownToken verifies a presented token as the caller's, of this plane.
func (f *Function) ownToken(user, token string) (receipt.Receipt, error) {
	if token == "" {
		return receipt.Receipt{}, httpapi.Errorf(http.StatusBadRequest, "missing_token", "token is required")
	}
	rc, err := f.cfg.Receipts.Verify(token)
	switch {
	case errors.Is(err, receipt.ErrMalformed):
		return rc, httpapi.Errorf(http.StatusBadRequest, "malformed_token", "not a receipt token: %v", err)
	case err != nil:
		return rc, httpapi.Errorf(http.StatusForbidden, "forged_token", "the token does not verify")
	case rc.UserID != user || rc.Shadow != (f.cfg.Plane == plane.Shadow):
		return rc, httpapi.Errorf(http.StatusForbidden, "foreign_token", "the token is not yours")
	}
	return rc, nil
}

// orderOfToken reads the order a token settled as.
func (f *Function) orderOfToken(ctx context.Context, tokenID string) (presented, error) {
	var p presented
	var state string
	err := f.cfg.DB.QueryRow(ctx, `SELECT order_no, token_id, state, amount, settled_at FROM orders WHERE token_id = $1`, tokenID).
		Scan(&p.OrderNo, &p.ClaimID, &state, &p.Amount, &p.SettledAt)
	if err != nil {
		return presented{}, err
	}
	p.SettledAt = p.SettledAt.UTC()
	p.State = pending.StateOf(state)
	return p, nil
}
