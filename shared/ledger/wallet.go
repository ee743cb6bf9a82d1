package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors of Withdraw.
var (
	// ErrInsufficient: the amount is more than the balance.
	ErrInsufficient = errors.New("amount over the balance")
	// ErrKeyReused: the idempotency key named a withdrawal of another
	// amount.
	ErrKeyReused = errors.New("idempotency key used for another withdrawal")
)

// Withdrawal is one withdrawal from a user's wallet.
type Withdrawal struct {
	Key       string    `json:"idempotency_key"`
	Amount    int64     `json:"amount"`  // cents
	Balance   int64     `json:"balance"` // cents left after it
	CreatedAt time.Time `json:"created_at"`
}

// Wallets keeps withdrawals. A user's credits are their settled rain
// packets (orders of rain campaigns not released): settle writes them and
// nothing here updates them.
type Wallets struct{ pool *pgxpool.Pool }

// NewWallets returns Wallets on pool.
func NewWallets(pool *pgxpool.Pool) *Wallets { return &Wallets{pool: pool} }

// credited sums a user's settled rain packets.
const credited = `SELECT coalesce(sum(o.amount), 0)::bigint FROM orders o JOIN campaigns c ON c.id = o.campaign_id
WHERE o.user_id = $1 AND c.kind = 'rain' AND o.state <> 'released'`

// withdrawn sums a user's withdrawals.
const withdrawn = `SELECT coalesce(sum(amount), 0)::bigint FROM withdrawals WHERE user_id = $1`

// Withdraw debits amount from user's settled balance under key, in one
// transaction holding the user's advisory lock, so concurrent withdrawals
// of one user are taken one at a time and none overdraws. A key already
// used returns its withdrawal (replay true) without debiting again. The
// balance returned with ErrInsufficient is what could be withdrawn.
func (w *Wallets) Withdraw(ctx context.Context, user, key string, amount int64) (out Withdrawal, replay bool, err error) {
	err = pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('wallet:' || $1, 0))`, user); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT idempotency_key, amount, balance_after, created_at FROM withdrawals
			WHERE user_id = $1 AND idempotency_key = $2`, user, key).Scan(&out.Key, &out.Amount, &out.Balance, &out.CreatedAt)
		if err == nil {
			replay = true
			if out.Amount != amount {
				return ErrKeyReused
			}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		balance, err := balanceIn(ctx, tx, user)
		if err != nil {
			return err
		}
		if amount > balance {
			out.Balance = balance
			return ErrInsufficient
		}
		out = Withdrawal{Key: key, Amount: amount}
		return tx.QueryRow(ctx, `INSERT INTO withdrawals (user_id, idempotency_key, amount, balance_after)
			VALUES ($1, $2, $3, $4) RETURNING balance_after, created_at`, user, key, amount, balance-amount).
			Scan(&out.Balance, &out.CreatedAt)
	})
	out.CreatedAt = out.CreatedAt.UTC()
	if err != nil && !errors.Is(err, ErrInsufficient) && !errors.Is(err, ErrKeyReused) {
		return out, false, fmt.Errorf("withdraw for %s: %w", user, err)
	}
	return out, replay, err
}

func balanceIn(ctx context.Context, tx pgx.Tx, user string) (int64, error) {
	var in, out int64
	if err := tx.QueryRow(ctx, credited, user).Scan(&in); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, withdrawn, user).Scan(&out); err != nil {
		return 0, err
	}
	return in - out, nil
}

// Withdrawn sums user's withdrawals in tx (the snapshot a wallet read
// takes its orders in).
func Withdrawn(ctx context.Context, tx pgx.Tx, user string) (int64, error) {
	var out int64
	if err := tx.QueryRow(ctx, withdrawn, user).Scan(&out); err != nil {
		return 0, fmt.Errorf("withdrawn by %s: %w", user, err)
	}
	return out, nil
}
