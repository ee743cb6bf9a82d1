package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertOrders inserts the orders that pass the guards of the campaign
// tables (seq within the per-user limit, last slot within the SKU's stock)
// and are new; unique keys make a duplicate a no-op.
const insertOrders = `
INSERT INTO orders (order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
SELECT i.order_no, i.token_id, i.campaign_id, i.sku, i.user_id, i.seq, i.qty, i.first_slot, i.amount, i.reserved_at, i.pay_by
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::bigint[],
            $10::timestamptz[], $11::timestamptz[])
     AS i(order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
JOIN campaigns c ON c.id = i.campaign_id
JOIN campaign_items ci ON ci.campaign_id = i.campaign_id AND ci.sku = i.sku
WHERE i.seq <= c.per_user_limit AND i.first_slot + i.qty - 1 <= ci.stock
ORDER BY i.campaign_id, i.sku, i.first_slot
ON CONFLICT DO NOTHING
RETURNING order_no, campaign_id, sku, first_slot, qty, token_id, settled_at`

// insertSlots claims one slot row per unit of the orders just inserted,
// in slot order (unnest keeps it). A slot another order holds is skipped:
// its order comes back short.
const insertSlots = `
INSERT INTO stock_slots (campaign_id, sku, slot, order_no)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
ON CONFLICT DO NOTHING
RETURNING order_no`

// stored reads back the rows of a batch's order numbers.
const stored = `SELECT order_no, token_id, settled_at FROM orders WHERE order_no = ANY($1::text[])`

// row is what the table holds for one order number after the batch.
type row struct {
	tokenID   string
	settledAt time.Time
}

// writeBatch writes orders in one transaction and returns the rows their
// order numbers hold afterwards. An integrity error that aborts the whole
// batch (it should not happen: Submit validates) is isolated by writing
// each order alone, so one bad order never fails its neighbours.
func writeBatch(ctx context.Context, pool *pgxpool.Pool, orders []Order) (map[string]row, error) {
	rows, err := writeTx(ctx, pool, orders)
	if !isIntegrity(err) || len(orders) == 1 {
		return rows, translate(err)
	}
	rows = make(map[string]row, len(orders))
	for _, o := range orders {
		one, err := writeTx(ctx, pool, []Order{o})
		if err != nil && !isIntegrity(err) {
			return nil, translate(err)
		}
		for k, v := range one {
			rows[k] = v
		}
	}
	return rows, nil
}

func writeTx(ctx context.Context, pool *pgxpool.Pool, orders []Order) (map[string]row, error) {
	var rows map[string]row
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		inserted, written, err := queryInserted(ctx, tx, orders)
		if err != nil {
			return fmt.Errorf("insert orders: %w", err)
		}
		short, err := claimSlots(ctx, tx, inserted)
		if err != nil {
			return err
		}
		for _, no := range short {
			delete(written, no)
		}
		rows, err = readMissing(ctx, tx, orders, written)
		return err
	})
	return rows, err
}

// claimSlots inserts the slots of the inserted orders and removes again,
// and returns, every order that did not get all of its slots.
func claimSlots(ctx context.Context, tx pgx.Tx, inserted []Order) ([]string, error) {
	if len(inserted) == 0 {
		return nil, nil
	}
	got, err := queryOrderNos(ctx, tx, insertSlots, slotColumns(inserted)...)
	if err != nil {
		return nil, fmt.Errorf("insert slots: %w", err)
	}
	short := shortOrders(inserted, got)
	if len(short) == 0 {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM stock_slots WHERE order_no = ANY($1::text[])`, short); err != nil {
		return nil, fmt.Errorf("undo slots: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM orders WHERE order_no = ANY($1::text[])`, short); err != nil {
		return nil, fmt.Errorf("undo orders: %w", err)
	}
	return short, nil
}

// shortOrders lists the inserted orders that got fewer slots than units.
func shortOrders(inserted []Order, slotOwners []string) []string {
	got := make(map[string]int, len(inserted))
	for _, no := range slotOwners {
		got[no]++
	}
	var short []string
	for _, o := range inserted {
		if got[o.OrderNo] != o.Qty {
			short = append(short, o.OrderNo)
		}
	}
	return short
}

// queryInserted runs insertOrders and returns the orders it inserted (the
// fields the slots need) and their rows.
func queryInserted(ctx context.Context, tx pgx.Tx, orders []Order) ([]Order, map[string]row, error) {
	rows, err := tx.Query(ctx, insertOrders, columns(orders)...)
	if err != nil {
		return nil, nil, err
	}
	var out []Order
	written := make(map[string]row, len(orders))
	var o Order
	var r row
	_, err = pgx.ForEachRow(rows, []any{&o.OrderNo, &o.CampaignID, &o.SKU, &o.FirstSlot, &o.Qty, &r.tokenID, &r.settledAt}, func() error {
		out = append(out, o)
		written[o.OrderNo] = r
		return nil
	})
	return out, written, err
}

// readMissing adds to written the rows of the batch's order numbers this
// batch did not write (duplicates, or a guard refused them): rare, so the
// common batch reads nothing back.
func readMissing(ctx context.Context, tx pgx.Tx, orders []Order, written map[string]row) (map[string]row, error) {
	var missing []string
	for _, o := range orders {
		if _, ok := written[o.OrderNo]; !ok {
			missing = append(missing, o.OrderNo)
		}
	}
	if len(missing) == 0 {
		return written, nil
	}
	found, err := readRows(ctx, tx, missing)
	for no, r := range found {
		written[no] = r
	}
	return written, err
}

func queryOrderNos(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func readRows(ctx context.Context, tx pgx.Tx, nos []string) (map[string]row, error) {
	rows, err := tx.Query(ctx, stored, nos)
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	out := make(map[string]row, len(nos))
	var no string
	var r row
	_, err = pgx.ForEachRow(rows, []any{&no, &r.tokenID, &r.settledAt}, func() error {
		out[no] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	return out, nil
}

// answer is one order's outcome: success when its order number holds its
// token (just written or written before), ErrGuard otherwise.
func answer(o Order, rows map[string]row, err error) outcome {
	if err != nil {
		return outcome{err: fmt.Errorf("settle order %s: %w", o.OrderNo, err)}
	}
	r, ok := rows[o.OrderNo]
	if !ok || r.tokenID != o.TokenID {
		return outcome{err: fmt.Errorf("settle order %s: %w", o.OrderNo, ErrGuard)}
	}
	return outcome{settledAt: r.settledAt}
}

// isIntegrity reports an integrity constraint violation (class 23).
func isIntegrity(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code[:2] == "23"
}

// translate turns driver errors into the package's.
func translate(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001"):
		return fmt.Errorf("write batch: %w: %v", ErrContention, err)
	case isIntegrity(err):
		return fmt.Errorf("write batch: %w: %v", ErrGuard, err)
	default:
		return fmt.Errorf("write batch: %w", err)
	}
}
