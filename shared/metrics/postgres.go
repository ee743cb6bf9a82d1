package metrics

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/prometheus/client_golang/prometheus"
)

var pgSeconds = latency("surge_postgres_query_duration_seconds",
	"PostgreSQL statements, by operation: the statement's verb and, for a write, its table (\"insert orders\"); \"batch\" for a pipelined batch.",
	"operation")

// TracePostgres makes cfg's connections time every statement and batch
// (pgxpool.Config.ConnConfig for a pool). pgx takes one tracer: one set
// already (OpenTelemetry's, say) is kept, both run through pgx's
// multitracer.
func TracePostgres(cfg *pgx.ConnConfig) {
	t := &PostgresTracer{}
	if cfg.Tracer == nil {
		cfg.Tracer = t
		return
	}
	cfg.Tracer = multitracer.New(cfg.Tracer, t)
}

// PostgresTracer times every statement and batch of a pgx connection
// (TracePostgres sets it).
type PostgresTracer struct {
	ops sync.Map // SQL text → prometheus.Observer, up to maxOps texts
	n   int      // texts in ops (guarded by mu)
	mu  sync.Mutex
}

var (
	_ pgx.QueryTracer = (*PostgresTracer)(nil)
	_ pgx.BatchTracer = (*PostgresTracer)(nil)
)

// maxOps bounds the SQL texts a tracer remembers the operation of; the
// statements of Surge are constants, far fewer.
const maxOps = 1024

type startKey struct{}

// started is what TraceQueryStart leaves for TraceQueryEnd.
type started struct {
	at time.Time
	op prometheus.Observer
}

// TraceQueryStart notes the start of a Query, QueryRow or Exec.
func (t *PostgresTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, startKey{}, &started{at: time.Now(), op: t.observer(data.SQL)})
}

// TraceQueryEnd observes the statement's duration.
func (t *PostgresTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(startKey{}).(*started); ok {
		s.op.Observe(time.Since(s.at).Seconds())
	}
}

// TraceBatchStart notes the start of a SendBatch.
func (t *PostgresTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return context.WithValue(ctx, startKey{}, &started{at: time.Now(), op: pgSeconds.WithLabelValues("batch")})
}

// TraceBatchQuery is not timed alone: the batch is one round trip.
func (t *PostgresTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd observes the batch's duration.
func (t *PostgresTracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchEndData) {
	t.TraceQueryEnd(ctx, conn, pgx.TraceQueryEndData{})
}

// observer is the histogram of sql's operation, remembered per text.
func (t *PostgresTracer) observer(sql string) prometheus.Observer {
	if o, ok := t.ops.Load(sql); ok {
		return o.(prometheus.Observer)
	}
	o := pgSeconds.WithLabelValues(Operation(sql))
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n < maxOps {
		t.ops.Store(sql, o)
		t.n++
	}
	return o
}

// Operation names a statement by its verb in lower case, and a write by
// its table too: "select", "insert orders", "update campaigns",
// "delete stock_slots", "with", "begin", "commit". A name that is not a
// plain identifier (a quoted or odd one) is left out, and an unknown verb
// is "other", so the set stays as small as the code's statements.
func Operation(sql string) string {
	words := strings.Fields(strings.ToLower(sql))
	if len(words) == 0 {
		return "other"
	}
	verb, table := words[0], ""
	switch {
	case verb == "insert" && len(words) > 2 && words[1] == "into":
		table = words[2]
	case verb == "update" && len(words) > 1:
		table = words[1]
	case verb == "delete" && len(words) > 2 && words[1] == "from":
		table = words[2]
	case verb == "select", verb == "with", verb == "begin", verb == "commit", verb == "rollback",
		verb == "create", verb == "alter", verb == "drop", verb == "lock", verb == "set", verb == "copy":
		return verb
	case verb == "insert", verb == "update", verb == "delete":
		return verb
	default:
		return "other"
	}
	table, _, _ = strings.Cut(table, "(")
	if !identifier(table) {
		return verb
	}
	return verb + " " + table
}

// identifier reports a plain lower-case SQL name, schema-qualified or not.
func identifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
