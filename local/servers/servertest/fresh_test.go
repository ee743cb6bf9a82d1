package servertest_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func TestFreshIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := servertest.Fresh(t, deps), servertest.Fresh(t, deps)
	for _, f := range []struct{ name, a, b string }{
		{"DatabaseURL", a.DatabaseURL, b.DatabaseURL},
		{"KeyPrefix", a.KeyPrefix, b.KeyPrefix},
		{"S3Bucket", a.S3Bucket, b.S3Bucket},
	} {
		if f.a == f.b {
			t.Errorf("both envs have %s %q; want different", f.name, f.a)
		}
	}
	exec(ctx, t, a.DatabaseURL, "CREATE TABLE only_in_a (id int)")
	var n int
	err := conn(ctx, t, b.DatabaseURL).QueryRow(ctx, "SELECT count(*) FROM only_in_a").Scan(&n)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("table of env a seen from env b: err = %v; want undefined_table (42P01)", err)
	}
	putObject(ctx, t, a, "x")
	if _, err := servertest.S3(b).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.S3Bucket, Key: aws.String("x")}); err == nil {
		t.Fatal("object of env a seen in the bucket of env b")
	}
}

func TestFreshDropsDatabase(t *testing.T) {
	ctx := context.Background()
	var env servertest.Env
	t.Run("user", func(t *testing.T) {
		env = servertest.Fresh(t, deps)
		conn(ctx, t, env.DatabaseURL) // left open: the drop must force it
	})
	c, err := pgx.Connect(ctx, env.DatabaseURL)
	if err == nil {
		c.Close(ctx)
		t.Fatalf("database %s still exists after its test ended", env.DatabaseURL)
	}
}

func conn(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	return c
}

func exec(ctx context.Context, t *testing.T, url, sql string) {
	t.Helper()
	c := conn(ctx, t, url)
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func putObject(ctx context.Context, t *testing.T, env servertest.Env, key string) {
	t.Helper()
	_, err := servertest.S3(env).PutObject(ctx, &s3.PutObjectInput{Bucket: &env.S3Bucket, Key: &key})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
}
