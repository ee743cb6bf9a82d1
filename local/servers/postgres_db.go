package servers

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrDatabaseExists is returned by CreateDatabase when the database is
// already there (e.g. on the second `make up`).
var ErrDatabaseExists = errors.New("database already exists")

// duplicateDatabase is PostgreSQL's SQLSTATE duplicate_database.
const duplicateDatabase = "42P04"

// validName accepts the database names we hand out: a lower-case
// identifier, so URLs need no escaping.
var validName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateDatabase creates database name and returns its URL. When it
// exists already, the error wraps ErrDatabaseExists and the URL is still
// returned.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("create database %q: name must match %s", name, validName)
	}
	_, err := pg.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == duplicateDatabase {
		return pg.URL(name), fmt.Errorf("create database %s: %w", name, ErrDatabaseExists)
	}
	if err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return pg.URL(name), nil
}

// DropDatabase drops database name if it exists, disconnecting its
// sessions (WITH (FORCE)).
func (pg *Postgres) DropDatabase(ctx context.Context, name string) error {
	q := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if _, err := pg.admin.Exec(ctx, q); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}
