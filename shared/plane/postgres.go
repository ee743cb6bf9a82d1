package plane

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/surgekit/surge/shared/connect"
)

// Postgres opens one pool per plane on the database at url, each of
// maxConns connections (0: pgx's default): the real plane's on the
// database's own search_path, the shadow plane's on ShadowSchema, created
// first when missing. The same migrations (shared/schema) then make the
// same tables in each, with a schema_migrations of its own.
func Postgres(ctx context.Context, url string, maxConns int32) (Each[*pgxpool.Pool], error) {
	var pools Each[*pgxpool.Pool]
	real, err := connect.Postgres(ctx, url, maxConns)
	if err != nil {
		return pools, err
	}
	pools[Real] = real
	if err := createSchema(ctx, real, ShadowSchema); err != nil {
		real.Close()
		return pools, err
	}
	if pools[Shadow], err = connect.PostgresIn(ctx, url, Shadow.Schema(), maxConns); err != nil {
		real.Close()
		return pools, err
	}
	return pools, nil
}

// Close closes every pool of pools.
func Close(pools Each[*pgxpool.Pool]) {
	for _, p := range pools {
		if p != nil {
			p.Close()
		}
	}
}

// createSchema creates schema unless it exists. Functions start together,
// and two concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the
// catalog's unique index: the loser finds the schema made, which is fine.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	_, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") { // unique_violation, duplicate_schema
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	return nil
}
