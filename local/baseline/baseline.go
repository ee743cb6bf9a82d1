// Package baseline measures what this machine can do without Surge: the
// pre-deduct Lua script alone through go-redis, a bare HTTP handler, a bare
// CloudEvents receiver, a batched idempotent PostgreSQL insert and the
// local broker's publish-and-deliver, each at a given concurrency with the
// same kind of client the crowd uses. A stage's figure divided by its
// baseline's, measured in the same run, is a ratio that survives the drift
// of a shared machine; Stage drives one function directly for that ratio.
//
// Every measurement is closed-loop: Concurrency workers each send the next
// operation as soon as the previous one is answered.
package baseline

import (
	"context"
	"net/http"
	"time"
)

// Target is what a baseline runs against and how hard.
type Target struct {
	Ops         int          // operations per run: claims, requests, rows or events (default 10,000)
	Concurrency int          // closed-loop workers (default 64)
	Batch       int          // claims per Redis pipeline (default 64); rows per insert use InsertBatch
	InsertBatch int          // rows per PostgreSQL insert (default 500)
	HTTP        *http.Client // the crowd's client; nil: Client(Concurrency)
	RedisURL    string       // redis://host:port/db, for RedisDeduct*
	KeyPrefix   string       // key space of every Redis key written (default "bench")
	DatabaseURL string       // for PostgresInsert: a scratch table is created and dropped
	Stock       int          // units on sale in the Redis baselines (default Ops/10: most claims sell out)
	Dir         string       // where BrokerDeliver keeps its store ("" = a temp dir, removed)
}

func (t Target) filled() Target {
	t.Ops = or(t.Ops, 10_000)
	t.Concurrency = or(t.Concurrency, 64)
	t.Batch = or(t.Batch, 64)
	t.InsertBatch = or(t.InsertBatch, 500)
	t.Stock = or(t.Stock, max(t.Ops/10, 1))
	if t.HTTP == nil {
		t.HTTP = Client(t.Concurrency)
	}
	if t.KeyPrefix == "" {
		t.KeyPrefix = "bench"
	}
	return t
}

func or(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Figure is one measured run.
type Figure struct {
	Name        string        `json:"name"`
	Unit        string        `json:"unit"` // what one op is: claim, request, event, row
	Ops         int           `json:"ops"`  // completed without error
	Errors      int           `json:"errors"`
	Concurrency int           `json:"concurrency"`
	Batch       int           `json:"batch,omitempty"` // ops per call when calls are batched
	Elapsed     time.Duration `json:"elapsed_ns"`
	PerSecond   float64       `json:"per_second"` // Ops / Elapsed
	// Latency is of one call: a request, a pipeline or insert batch, or an
	// event from its publish to its delivery.
	Latency  Latency     `json:"latency"`
	Statuses map[int]int `json:"statuses,omitempty"` // HTTP status counts, where HTTP is spoken
}

// Latency holds percentiles of call latency.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Func is one baseline.
type Func func(ctx context.Context, t Target) (Figure, error)

// Named is a baseline and the name its Figure carries.
type Named struct {
	Name string
	Run  Func
}

// All lists every baseline, in the order make bench prints them. The HTTP
// ones need nothing; the others need t.RedisURL or t.DatabaseURL.
func All() []Named {
	return []Named{
		{NameRedisDeduct, RedisDeduct},
		{NameRedisDeductPipelined, RedisDeductPipelined},
		{NameHTTP, HTTP},
		{NameCloudEvents, CloudEvents},
		{NamePostgresInsert, PostgresInsert},
		{NameBroker, BrokerDeliver},
	}
}

// Names of the baseline figures.
const (
	NameRedisDeduct          = "redis.deduct"
	NameRedisDeductPipelined = "redis.deduct.pipelined"
	NameHTTP                 = "http.bare"
	NameCloudEvents          = "cloudevents.bare"
	NamePostgresInsert       = "postgres.insert"
	NameBroker               = "broker.deliver"
)
