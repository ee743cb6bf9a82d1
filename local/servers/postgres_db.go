package servers

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// validName accepts the database names we hand out: a lower-case
// identifier, so URLs need no escaping.
var validName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateDatabase creates database name and returns its URL.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("create database %q: name must match %s", name, validName)
	}
	if _, err := pg.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
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
