package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Order states in PostgreSQL (orders.state).
const (
	StateReserved = "reserved" // settled, not paid yet
	StatePaid     = "paid"
	StateReleased = "released" // its payment window passed; units given back
)

// Errors of Payments.
var (
	// ErrNotFound: no order has that number.
	ErrNotFound = errors.New("order not found")
	// ErrConflict: the order is already in the other final state (paid
	// when released, released when paid).
	ErrConflict = errors.New("order state conflict")
)

// Payments moves settled orders to their final state. Redis decides which
// of payment and release wins an order (one atomic script); PostgreSQL
// follows, each move idempotent and refusing the other's state, so an
// order is never both.
type Payments struct{ pool *pgxpool.Pool }

// NewPayments returns Payments on pool.
func NewPayments(pool *pgxpool.Pool) *Payments { return &Payments{pool: pool} }

// Pay marks a reserved order paid at (now if zero) and returns when it was
// paid: an order paid already answers its first time.
func (p *Payments) Pay(ctx context.Context, orderNo string, at time.Time) (time.Time, error) {
	var paidAt time.Time
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		state, err := lockState(ctx, tx, orderNo)
		if err != nil {
			return err
		}
		switch state {
		case StateReleased:
			return fmt.Errorf("pay order %s: %w: released", orderNo, ErrConflict)
		case StateReserved:
			if _, err := tx.Exec(ctx, `UPDATE orders SET state = 'paid', paid_at = coalesce($2, now()) WHERE order_no = $1`,
				orderNo, nullTime(at)); err != nil {
				return fmt.Errorf("pay order %s: %w", orderNo, err)
			}
		}
		return tx.QueryRow(ctx, `SELECT paid_at FROM orders WHERE order_no = $1`, orderNo).Scan(&paidAt)
	})
	return paidAt, err
}

// Release marks a reserved order released at (now if zero) and deletes its
// stock slots and user units in the same transaction, so they can be sold
// again. Releasing an order released already changes nothing.
func (p *Payments) Release(ctx context.Context, orderNo string, at time.Time) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		state, err := lockState(ctx, tx, orderNo)
		if err != nil || state == StateReleased {
			return err
		}
		if state == StatePaid {
			return fmt.Errorf("release order %s: %w: paid", orderNo, ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET state = 'released', released_at = coalesce($2, now()) WHERE order_no = $1`,
			orderNo, nullTime(at)); err != nil {
			return fmt.Errorf("release order %s: %w", orderNo, err)
		}
		for _, table := range []string{"stock_slots", "user_units"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE order_no = $1`, orderNo); err != nil {
				return fmt.Errorf("release order %s: %s: %w", orderNo, table, err)
			}
		}
		return nil
	})
	return err
}

// lockState reads an order's state and locks its row until the end of tx.
func lockState(ctx context.Context, tx pgx.Tx, orderNo string) (string, error) {
	var state string
	err := tx.QueryRow(ctx, `SELECT state FROM orders WHERE order_no = $1 FOR UPDATE`, orderNo).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("order %s: %w", orderNo, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("order %s: %w", orderNo, err)
	}
	return state, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
