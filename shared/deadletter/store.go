package deadletter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/metrics"
)

// ErrNotFound: no dead letter has that id.
var ErrNotFound = errors.New("dead letter not found")

// MaxLimit bounds the letters one List returns.
const MaxLimit = 1000

// Filter selects dead letters; a zero field selects any. After is the
// cursor: only letters with a greater id (they are listed by id).
type Filter struct {
	Type     string
	Campaign string
	Since    *time.Time // received at or after
	Until    *time.Time // received before
	After    int64
	Limit    int // 1..MaxLimit; 0 is MaxLimit
}

// Store reads and writes dead_letters of one plane's schema.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns the store of pool's dead letters.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const insert = `
INSERT INTO dead_letters (event_id, event_type, source, campaign_id, error_code, error_dest, event)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (source, event_id, event_type) DO NOTHING`

// Put stores e once: a dead letter already stored (the same source, id and
// type, as after a redrive that died again) is left as it is. One newly
// stored is counted (metrics.DeadLetter).
func (s *Store) Put(ctx context.Context, e event.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", e.ID(), err)
	}
	tag, err := s.pool.Exec(ctx, insert, e.ID(), e.Type(), e.Source(), campaignOf(e),
		ErrorCode(e), extString(e, ExtErrorDest), body)
	if err != nil {
		return fmt.Errorf("dead letter %s: %w", e.ID(), err)
	}
	if tag.RowsAffected() == 1 {
		metrics.DeadLetter(e.Type())
	}
	return nil
}

const columns = `id, event_id, event_type, source, campaign_id, error_code, error_dest, received_at, redriven_at, redrive_count, event`

const list = `SELECT ` + columns + ` FROM dead_letters
WHERE id > $1 AND ($2 = '' OR event_type = $2) AND ($3 = '' OR campaign_id = $3)
  AND ($4::timestamptz IS NULL OR received_at >= $4) AND ($5::timestamptz IS NULL OR received_at < $5)
ORDER BY id LIMIT $6`

// List returns the letters f selects, by id.
func (s *Store) List(ctx context.Context, f Filter) ([]Letter, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	rows, err := s.pool.Query(ctx, list, f.After, f.Type, f.Campaign, f.Since, f.Until, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

const get = `SELECT ` + columns + ` FROM dead_letters WHERE id = $1`

// Get returns letter id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Letter, error) {
	return s.one(ctx, get, id)
}

const markRedriven = `UPDATE dead_letters SET redriven_at = $2, redrive_count = redrive_count + 1
WHERE id = $1 RETURNING ` + columns

// MarkRedriven records that letter id was republished at at, and returns
// it as recorded.
func (s *Store) MarkRedriven(ctx context.Context, id int64, at time.Time) (Letter, error) {
	return s.one(ctx, markRedriven, id, at)
}

func (s *Store) one(ctx context.Context, sql string, args ...any) (Letter, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return Letter{}, fmt.Errorf("dead letter %v: %w", args[0], err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Letter{}, ErrNotFound
	}
	if err != nil {
		return Letter{}, fmt.Errorf("dead letter %v: %w", args[0], err)
	}
	return l, nil
}

func scan(row pgx.CollectableRow) (Letter, error) {
	var l Letter
	err := row.Scan(&l.ID, &l.EventID, &l.EventType, &l.Source, &l.CampaignID, &l.ErrorCode, &l.ErrorDest,
		&l.ReceivedAt, &l.RedrivenAt, &l.RedriveCount, &l.Event)
	return l, err
}

// Counts is how many dead letters a campaign has.
type Counts struct {
	Total   int `json:"total"`
	Waiting int `json:"waiting"` // never redriven
}

const count = `SELECT count(*), count(*) FILTER (WHERE redriven_at IS NULL) FROM dead_letters WHERE campaign_id = $1`

// Count counts campaign's dead letters.
func (s *Store) Count(ctx context.Context, campaign string) (Counts, error) {
	var c Counts
	if err := s.pool.QueryRow(ctx, count, campaign).Scan(&c.Total, &c.Waiting); err != nil {
		return Counts{}, fmt.Errorf("count dead letters of %s: %w", campaign, err)
	}
	return c, nil
}
