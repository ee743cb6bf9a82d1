package metrics_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/metrics"
)

// A client connect opens (as servertest's do) times every Redis command
// by its name and a pipeline as one round trip (a new connection's
// handshake is not a pipeline of the code's).
func TestRedisCallsTimedByCommand(t *testing.T) {
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	ctx := context.Background()
	sets := delta(t, func() {
		for range 3 {
			if err := rdb.Set(ctx, env.KeyPrefix+"k", "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}, "surge_redis_command_duration_seconds", "command", "set")
	pipes := delta(t, func() {
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Get(ctx, env.KeyPrefix+"k")
			p.Incr(ctx, env.KeyPrefix+"n")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}, "surge_redis_command_duration_seconds", "command", "pipeline")
	if sets != 3 || pipes != 1 {
		t.Errorf("timed %v SETs and %v pipelines; want 3 and 1", sets, pipes)
	}
}

// counting is another pgx tracer, as OpenTelemetry's would be.
type counting struct{ starts, batches int }

func (c *counting) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.starts++
	return ctx
}
func (c *counting) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counting) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches++
	return ctx
}
func (c *counting) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counting) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// PostgreSQL statements are timed by operation and a batch as one; a
// tracer set before keeps tracing beside it (pgx takes one: a
// multitracer holds both).
func TestPostgresCallsTimedByOperation(t *testing.T) {
	env := servertest.Fresh(t, deps)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // the other tracer counts without a lock
	other := &counting{}
	cfg.ConnConfig.Tracer = other
	metrics.TracePostgres(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec := func(sql string) func() {
		return func() {
			if _, err := pool.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec("CREATE TABLE gauges (n int)")()
	tests := []struct {
		op   string
		do   func()
		want float64
	}{
		{"insert gauges", exec("INSERT INTO gauges (n) VALUES (1)"), 1},
		{"select", exec("SELECT n FROM gauges"), 1},
		{"update gauges", exec("UPDATE gauges SET n = 2"), 1},
		{"batch", func() {
			b := &pgx.Batch{}
			b.Queue("SELECT 1")
			b.Queue("SELECT 2")
			if err := pool.SendBatch(ctx, b).Close(); err != nil {
				t.Fatal(err)
			}
		}, 1},
	}
	for _, tt := range tests {
		if got := delta(t, tt.do, "surge_postgres_query_duration_seconds", "operation", tt.op); got != tt.want {
			t.Errorf("operation %q timed %v times; want %v", tt.op, got, tt.want)
		}
	}
	if other.starts < 4 || other.batches != 1 {
		t.Errorf("the tracer set before saw %d statements and %d batches; want at least 4 and 1", other.starts, other.batches)
	}
}

func TestOperation(t *testing.T) {
	for sql, want := range map[string]string{
		"\nINSERT INTO orders (order_no) VALUES ($1)": "insert orders",
		"update campaigns set x = 1":                  "update campaigns",
		"DELETE FROM stock_slots WHERE order_no = $1": "delete stock_slots",
		"SELECT 1":                          "select",
		"WITH want AS (SELECT 1) ...":       "with",
		`INSERT INTO "Odd Name" VALUES (1)`: "insert",
		"VACUUM":                            "other",
		"":                                  "other",
		"begin":                             "begin",
	} {
		if got := metrics.Operation(sql); got != want {
			t.Errorf("Operation(%q) = %q; want %q", sql, got, want)
		}
	}
}

// S3 calls of a client connect builds are timed by operation.
func TestS3CallsTimedByOperation(t *testing.T) {
	env := servertest.Fresh(t, deps)
	client := servertest.S3(env)
	ctx := context.Background()
	puts := delta(t, func() {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(env.S3Bucket), Key: aws.String("a"),
			Body: bytes.NewReader([]byte("x"))}); err != nil {
			t.Fatal(err)
		}
	}, "surge_s3_request_duration_seconds", "operation", "PutObject")
	gets := delta(t, func() {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(env.S3Bucket), Key: aws.String("a")})
		if err != nil {
			t.Fatal(err)
		}
		out.Body.Close()
	}, "surge_s3_request_duration_seconds", "operation", "GetObject")
	if puts != 1 || gets != 1 {
		t.Errorf("timed %v PutObject and %v GetObject; want 1 and 1", puts, gets)
	}
}
