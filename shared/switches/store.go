package switches

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Switch is a switch as recorded: where it applies, its value, the
// version of its last change and who made it, why and when.
type Switch struct {
	Target
	Value     json.RawMessage `json:"value"`
	Version   int64           `json:"version"`
	ChangedBy string          `json:"changed_by,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	ChangedAt time.Time       `json:"changed_at"`
}

// Store is the record of the switches in PostgreSQL (tables switches and
// switch_changes, migration 0007).
type Store struct{ pool *pgxpool.Pool }

// NewStore returns the store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// versionLock is the advisory lock every change holds: the versions are
// handed out in the order the changes commit, so they only grow.
const versionLock = `SELECT pg_advisory_xact_lock(hashtextextended('surge:switches', 0))`

// Set records a change of t to value (checked by Target.Check) with the
// next version, and the change in the history.
func (s *Store) Set(ctx context.Context, t Target, value json.RawMessage, by, reason string) (Switch, error) {
	value, err := t.Check(value)
	if err != nil {
		return Switch{}, err
	}
	sw := Switch{Target: t, Value: value, ChangedBy: by, Reason: reason}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, versionLock); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1, now() FROM switch_changes`).Scan(&sw.Version, &sw.ChangedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO switch_changes (version, name, campaign_id, sku, value, changed_by, reason, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, sw.Version, t.Name, t.Campaign, t.SKU, []byte(value), by, reason, sw.ChangedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO switches (name, campaign_id, sku, value, version, changed_by, reason, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (name, campaign_id, sku) DO UPDATE SET value = excluded.value, version = excluded.version,
				changed_by = excluded.changed_by, reason = excluded.reason, changed_at = excluded.changed_at`,
			t.Name, t.Campaign, t.SKU, []byte(value), sw.Version, by, reason, sw.ChangedAt)
		return err
	})
	if err != nil {
		return Switch{}, fmt.Errorf("set switch %s: %w", t.field(), err)
	}
	return sw, nil
}

// State is every recorded switch and the version of the last change (0
// when none was ever made).
func (s *Store) State(ctx context.Context) (int64, []Switch, error) {
	var (
		version int64
		out     []Switch
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM switch_changes`).Scan(&version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT name, campaign_id, sku, value, version, changed_by, reason, changed_at
			FROM switches ORDER BY name, campaign_id, sku`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Switch, error) {
			var sw Switch
			var value []byte
			err := r.Scan(&sw.Name, &sw.Campaign, &sw.SKU, &value, &sw.Version, &sw.ChangedBy, &sw.Reason, &sw.ChangedAt)
			sw.Value = value
			return sw, err
		})
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read switches: %w", err)
	}
	return version, out, nil
}
