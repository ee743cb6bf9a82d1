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

// insertOrders inserts the orders of known campaigns and lots that are
// new; unique keys make a duplicate a no-op. The stock and per-user guards
// are the slot and unit inserts after it. A rain's order is one packet
// and must carry that packet's amount from its split: with each packet
// settled at most once (its stock slot), the money a rain issues can never
// exceed its budget, in PostgreSQL too.
const insertOrders = `
INSERT INTO orders (order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by, slots)
SELECT i.order_no, i.token_id, i.campaign_id, i.sku, i.user_id, i.seq, i.qty, i.first_slot, i.amount, i.reserved_at, i.pay_by,
       string_to_array(nullif(i.slots, ''), ',')::int[]
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::bigint[],
            $10::timestamptz[], $11::timestamptz[], $12::text[])
     AS i(order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by, slots)
JOIN campaign_items ci ON ci.campaign_id = i.campaign_id AND ci.sku = i.sku
JOIN campaigns c ON c.id = i.campaign_id
WHERE c.kind <> 'rain'
   OR (i.qty = 1 AND i.amount = (SELECT p.amount FROM packets p WHERE p.campaign_id = i.campaign_id AND p.packet = i.first_slot))
ORDER BY i.campaign_id, i.sku, i.first_slot
ON CONFLICT DO NOTHING
RETURNING order_no, token_id, settled_at`

// insertSlots claims one slot row per unit of the orders just inserted,
// in slot order (unnest keeps it), each within its SKU's stock. A slot
// another order holds, or one over stock, is skipped: its order comes back
// short.
const insertSlots = `
INSERT INTO stock_slots (campaign_id, sku, slot, order_no)
SELECT s.campaign_id, s.sku, s.slot, s.order_no
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) WITH ORDINALITY AS s(campaign_id, sku, slot, order_no, n)
JOIN campaign_items ci ON ci.campaign_id = s.campaign_id AND ci.sku = s.sku
WHERE s.slot <= ci.stock
ORDER BY s.n
ON CONFLICT DO NOTHING
RETURNING order_no`

// insertUnits gives each order just inserted qty user units: the lowest
// free units 1..per_user_limit of its user, read now. A user short of free
// units, or whose unit another transaction took meanwhile, comes back
// short.
const insertUnits = `
WITH want AS (
    SELECT i.campaign_id, i.user_id, i.order_no,
           row_number() OVER (PARTITION BY i.campaign_id, i.user_id ORDER BY i.order_no, k) AS n
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS i(campaign_id, user_id, order_no, qty),
         generate_series(1, i.qty) AS k
), free AS (
    SELECT u.campaign_id, u.user_id, s AS unit,
           row_number() OVER (PARTITION BY u.campaign_id, u.user_id ORDER BY s) AS n
    FROM (SELECT DISTINCT campaign_id, user_id FROM want) u
    JOIN campaigns c ON c.id = u.campaign_id,
         generate_series(1, c.per_user_limit) AS s
    WHERE NOT EXISTS (SELECT 1 FROM user_units t
                      WHERE t.campaign_id = u.campaign_id AND t.user_id = u.user_id AND t.unit = s)
)
INSERT INTO user_units (campaign_id, user_id, unit, order_no)
SELECT w.campaign_id, w.user_id, f.unit, w.order_no
FROM want w JOIN free f USING (campaign_id, user_id, n)
ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING
RETURNING order_no`

// heldUnits counts a user's live units (those of orders not released).
const heldUnits = `SELECT count(*)::int, max(c.per_user_limit) FROM campaigns c
LEFT JOIN user_units u ON u.campaign_id = c.id AND u.user_id = $2 WHERE c.id = $1`

// stored reads back the rows of a batch's order numbers.
const stored = `SELECT order_no, token_id, settled_at FROM orders WHERE order_no = ANY($1::text[])`

// row is what the table holds for one order number after the batch.
type row struct {
	tokenID   string
	settledAt time.Time
}

// writeBatch writes orders in one transaction and returns the rows their
// order numbers hold afterwards, and how many of them it wrote (committed
// now: not there before, nor refused by a guard). An integrity error that
// aborts the whole batch (it should not happen: Submit validates) is
// isolated by writing each order alone, so one bad order never fails its
// neighbours.
func writeBatch(ctx context.Context, pool *pgxpool.Pool, orders []Order) (map[string]row, int, error) {
	rows, fresh, err := writeTx(ctx, pool, orders)
	if !isIntegrity(err) || len(orders) == 1 {
		return rows, fresh, translate(err)
	}
	rows, fresh = make(map[string]row, len(orders)), 0
	for _, o := range orders {
		one, n, err := writeTx(ctx, pool, []Order{o})
		if err != nil && !isIntegrity(err) {
			return nil, fresh, translate(err)
		}
		fresh += n
		for k, v := range one {
			rows[k] = v
		}
	}
	return rows, fresh, nil
}

// writeTx is one transaction of writeBatch; fresh counts its orders
// written, once it committed.
func writeTx(ctx context.Context, pool *pgxpool.Pool, orders []Order) (rows map[string]row, fresh int, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		inserted, written, err := queryInserted(ctx, tx, orders)
		if err != nil {
			return fmt.Errorf("insert orders: %w", err)
		}
		short, err := claimGuards(ctx, tx, inserted)
		if err != nil {
			return err
		}
		for _, no := range short {
			delete(written, no)
		}
		for _, o := range inserted { // short may name an order twice (no slot, no unit)
			if _, ok := written[o.OrderNo]; ok {
				fresh++
			}
		}
		rows, err = readMissing(ctx, tx, orders, written)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, fresh, nil
}

// claimGuards inserts the slots and user units of the inserted orders,
// removes again, and returns, every order that did not get all of them.
// An order short of user units while its user had enough free ones (a
// concurrent batch took one) aborts the batch with ErrContention.
func claimGuards(ctx context.Context, tx pgx.Tx, inserted []Order) ([]string, error) {
	if len(inserted) == 0 {
		return nil, nil
	}
	gotSlots, err := queryOrderNos(ctx, tx, insertSlots, slotColumns(inserted)...)
	if err != nil {
		return nil, fmt.Errorf("insert slots: %w", err)
	}
	gotUnits, err := queryOrderNos(ctx, tx, insertUnits, unitColumns(inserted)...)
	if err != nil {
		return nil, fmt.Errorf("insert user units: %w", err)
	}
	shortSlots, shortUnits := shortOrders(inserted, gotSlots), shortOrders(inserted, gotUnits)
	short := append(append([]string(nil), shortSlots...), shortUnits...)
	if len(short) == 0 {
		return nil, nil
	}
	for _, table := range []string{"stock_slots", "user_units", "orders"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE order_no = ANY($1::text[])`, short); err != nil {
			return nil, fmt.Errorf("undo %s: %w", table, err)
		}
	}
	if err := unitsRaced(ctx, tx, inserted, shortUnits); err != nil {
		return nil, err
	}
	return short, nil
}

// unitsRaced returns ErrContention if an order short of user units would
// fit its user's limit now: another transaction took a unit it read as
// free, and a retry will find another.
func unitsRaced(ctx context.Context, tx pgx.Tx, inserted []Order, short []string) error {
	byNo := make(map[string]Order, len(inserted))
	for _, o := range inserted {
		byNo[o.OrderNo] = o
	}
	for _, no := range short {
		o := byNo[no]
		var held, limit int
		if err := tx.QueryRow(ctx, heldUnits, o.CampaignID, o.UserID).Scan(&held, &limit); err != nil {
			return fmt.Errorf("read user units: %w", err)
		}
		if held+o.Qty <= limit {
			return fmt.Errorf("user units of %s: %w", o.OrderNo, ErrContention)
		}
	}
	return nil
}

// shortOrders lists the inserted orders that got fewer rows than units.
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

// queryInserted runs insertOrders and returns the orders it inserted and
// their rows.
func queryInserted(ctx context.Context, tx pgx.Tx, orders []Order) ([]Order, map[string]row, error) {
	rows, err := tx.Query(ctx, insertOrders, columns(orders)...)
	if err != nil {
		return nil, nil, err
	}
	written := make(map[string]row, len(orders))
	var no string
	var r row
	if _, err := pgx.ForEachRow(rows, []any{&no, &r.tokenID, &r.settledAt}, func() error {
		written[no] = r
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var out []Order
	seen := make(map[string]bool, len(written))
	for _, o := range orders {
		if r, ok := written[o.OrderNo]; ok && r.tokenID == o.TokenID && !seen[o.OrderNo] {
			seen[o.OrderNo] = true
			out = append(out, o)
		}
	}
	return out, written, nil
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
