package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors of the store, translated from the driver's.
var (
	ErrNotFound = errors.New("campaign not found")
	ErrExists   = errors.New("campaign already exists")
)

// Store keeps campaigns in PostgreSQL.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store on pool (schema.Migrate must have run).
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Create inserts c and its lots in one transaction.
func (s *Store) Create(ctx context.Context, c *Campaign) error {
	spec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (id, kind, per_user_limit, spec) VALUES ($1, $2, $3, $4)`,
			c.ID, c.Kind, c.PerUserLimit, spec); err != nil {
			return err
		}
		for _, it := range c.Lots() {
			if _, err := tx.Exec(ctx, `INSERT INTO campaign_items (campaign_id, sku, stock, price) VALUES ($1, $2, $3, $4)`,
				c.ID, it.SKU, it.Stock, it.Price); err != nil {
				return err
			}
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("create campaign %s: %w", c.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	return nil
}

// Get returns the campaign with id.
func (s *Store) Get(ctx context.Context, id string) (*Campaign, error) {
	var spec []byte
	err := s.pool.QueryRow(ctx, `SELECT spec FROM campaigns WHERE id = $1`, id).Scan(&spec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("get campaign %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get campaign %s: %w", id, err)
	}
	var c Campaign
	if err := json.Unmarshal(spec, &c); err != nil {
		return nil, fmt.Errorf("get campaign %s: %w", id, err)
	}
	return &c, nil
}

// IDs lists every campaign id, oldest first.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM campaigns ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return ids, nil
}

// MarkWarmed records that campaign id was warmed up (the first time only).
func (s *Store) MarkWarmed(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE campaigns SET warmed_at = coalesce(warmed_at, now()) WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark campaign %s warmed: %w", id, err)
	}
	return nil
}

// Warmed reports whether campaign id was ever warmed up: its Redis state
// is then PostgreSQL's copy, never to be loaded from the configured stock
// again.
func (s *Store) Warmed(ctx context.Context, id string) (bool, error) {
	var warmed bool
	err := s.pool.QueryRow(ctx, `SELECT warmed_at IS NOT NULL FROM campaigns WHERE id = $1`, id).Scan(&warmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("campaign %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("campaign %s: %w", id, err)
	}
	return warmed, nil
}
