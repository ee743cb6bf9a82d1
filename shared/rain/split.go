// Package rain keeps a rain campaign's packets: the budget split once, at
// its first warm-up, written to PostgreSQL (the system of record) before
// anything is loaded into Redis.
package rain

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/redpacket"
)

// ErrNotRain: the campaign is not a rain.
var ErrNotRain = errors.New("not a rain campaign")

// Split returns rain c's packet amounts (packet n is amounts[n-1]),
// splitting its budget the first time only: a seed is drawn and recorded
// with the campaign, and the packets are inserted in the same
// transaction, with their count and sum checked against the campaign. A
// second call, or two at once, read the same split back.
func Split(ctx context.Context, pool *pgxpool.Pool, c *campaign.Campaign) ([]int64, error) {
	if c.Kind != campaign.KindRain {
		return nil, fmt.Errorf("split %s: %w", c.ID, ErrNotRain)
	}
	var amounts []int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var seed *int64
		// the row lock serialises two first warm-ups: the second reads
		// the first's split
		if err := tx.QueryRow(ctx, `SELECT split_seed FROM campaigns WHERE id = $1 FOR UPDATE`, c.ID).Scan(&seed); err != nil {
			return err
		}
		if seed != nil {
			return readPackets(ctx, tx, c.ID, &amounts)
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		s := int64(binary.BigEndian.Uint64(b[:]) >> 1)
		split, err := redpacket.Split(c.Budget, c.Packets, c.PacketCap(), uint64(s))
		if err != nil {
			return err
		}
		numbers := make([]int32, len(split))
		for i := range numbers {
			numbers[i] = int32(i + 1)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO packets (campaign_id, packet, amount)
			SELECT $1, n, a FROM unnest($2::int[], $3::bigint[]) AS p (n, a)
			WHERE (SELECT sum(x) FROM unnest($3::bigint[]) AS x) = $4 AND cardinality($2::int[]) = $5`,
			c.ID, numbers, split, c.Budget, c.Packets)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(c.Packets) {
			return fmt.Errorf("packets of %s: %d written, want %d summing to %d", c.ID, tag.RowsAffected(), c.Packets, c.Budget)
		}
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET split_seed = $2 WHERE id = $1`, c.ID, s); err != nil {
			return err
		}
		amounts = split
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("split %s: %w", c.ID, err)
	}
	return amounts, nil
}

func readPackets(ctx context.Context, tx pgx.Tx, id string, out *[]int64) error {
	rows, err := tx.Query(ctx, `SELECT amount FROM packets WHERE campaign_id = $1 ORDER BY packet`, id)
	if err != nil {
		return err
	}
	*out, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	return err
}
