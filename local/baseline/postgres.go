package baseline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/connect"
)

// PostgresInsert measures the raw batched idempotent insert settle is
// built on: order-shaped rows, t.InsertBatch per statement
// (INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING), from
// t.Concurrency connections, into a scratch table created and dropped
// here. Ops are rows; latency is of one batch.
func PostgresInsert(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	pool, table, err := openScratch(ctx, t)
	if err != nil {
		return Figure{}, fmt.Errorf("%s: %w", NamePostgresInsert, err)
	}
	defer dropScratch(pool, table)
	insert := fmt.Sprintf(insertRows, table)
	now := time.Now()
	calls := (t.Ops + t.InsertBatch - 1) / t.InsertBatch
	r := closed(ctx, calls, t.Concurrency, func(ctx context.Context, i int) (int, error) {
		cols := orderColumns(i*t.InsertBatch, min((i+1)*t.InsertBatch, t.Ops), now)
		if _, err := pool.Exec(ctx, insert, cols...); err != nil {
			return 0, err
		}
		return cols.rows(), nil
	})
	return r.figure(NamePostgresInsert, "row", t.Concurrency, t.InsertBatch)
}

// scratchTable has the shape of settle's orders table, unique keys and all,
// without the guards of the campaign tables.
const scratchTable = `CREATE TABLE %s (
	order_no    text PRIMARY KEY,
	token_id    text NOT NULL UNIQUE,
	campaign_id text NOT NULL,
	sku         text NOT NULL,
	user_id     text NOT NULL,
	seq         int NOT NULL,
	qty         int NOT NULL,
	first_slot  int NOT NULL,
	amount      bigint NOT NULL,
	reserved_at timestamptz NOT NULL,
	pay_by      timestamptz NOT NULL,
	settled_at  timestamptz NOT NULL DEFAULT now())`

const insertRows = `
INSERT INTO %s (order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[],
                     $9::bigint[], $10::timestamptz[], $11::timestamptz[])
ON CONFLICT DO NOTHING`

func openScratch(ctx context.Context, t Target) (*pgxpool.Pool, string, error) {
	pool, err := connect.Postgres(ctx, t.DatabaseURL, int32(t.Concurrency))
	if err != nil {
		return nil, "", err
	}
	table, err := scratchID()
	if err != nil {
		pool.Close()
		return nil, "", err
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(scratchTable, table)); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("create scratch table: %w", err)
	}
	return pool, table, nil
}

func dropScratch(pool *pgxpool.Pool, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
	pool.Close()
}

// columns are the 11 arrays of a batch, in insertRows order.
type columns []any

func (c columns) rows() int { return len(c[0].([]string)) }

// orderColumns builds rows from..to-1: order i is user i's first win.
func orderColumns(from, to int, now time.Time) columns {
	n := to - from
	var (
		orderNo, token, camp, sku, user = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, qty, slot                  = make([]int32, n), make([]int32, n), make([]int32, n)
		amount                          = make([]int64, n)
		reserved, payBy                 = make([]time.Time, n), make([]time.Time, n)
	)
	for k := range n {
		i := strconv.Itoa(from + k)
		orderNo[k], token[k] = "bench:phone-x:u"+i+":1", "bench.b"+i
		camp[k], sku[k], user[k] = "bench", benchSKU, "u"+i
		seq[k], qty[k], slot[k], amount[k] = 1, 1, int32(from+k+1), 99900
		reserved[k], payBy[k] = now, now.Add(10*time.Minute)
	}
	return columns{orderNo, token, camp, sku, user, seq, qty, slot, amount, reserved, payBy}
}
