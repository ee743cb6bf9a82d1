package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/ledger"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var at = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)

// fixture is one reconcile function on a fresh database, key space and
// bucket, with campaign "sale" (sku phone, stock 10) in PostgreSQL.
type fixture struct {
	srv       *httptest.Server
	rdb       *redis.Client
	pool      *pgxpool.Pool
	s3        *s3.Client
	bucket    string
	keys      keyspace.Space
	claims    *claim.Store
	committer *ledger.Committer
	alerts    *alertSink
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	env := servertest.Fresh(t, deps)
	fx := &fixture{keys: keyspace.New(env.KeyPrefix), bucket: env.S3Bucket + "-reports"}
	fx.rdb = servertest.Redis(t, env, 0)
	fx.pool = servertest.Postgres(t, env, 4)
	must(t, schema.Migrate(ctx, fx.pool))
	var err error
	fx.committer, err = ledger.NewCommitter(fx.pool, ledger.Config{})
	must(t, err)
	t.Cleanup(func() { _ = fx.committer.Close() })
	fx.s3 = servertest.S3(env)
	fx.claims = claim.NewStore(fx.rdb, fx.keys)
	fx.alerts = newAlertSink(t)
	fx.srv = fx.serve(t)
	c := &campaign.Campaign{ID: "sale", Kind: campaign.KindSale, PerUserLimit: 1,
		Items: []campaign.Item{{SKU: "phone", Stock: 10, Price: 100}}, StartsAt: at, EndsAt: at.Add(time.Hour)}
	must(t, campaign.NewStore(fx.pool).Create(ctx, c))
	return fx
}

// adminToken is the operator's token of the fixture's server.
const adminToken = "test-admin-token"

// serve starts the function as main serves it, the same function on both
// planes; its bucket does not exist yet, so Start must create it.
func (fx *fixture) serve(t *testing.T) *httptest.Server {
	t.Helper()
	sink := fx.alerts.Sink
	f, err := New(Config{Redis: fx.rdb, Postgres: fx.pool, S3: fx.s3, Bucket: fx.bucket, Keys: fx.keys,
		Log: slog.New(slog.DiscardHandler), EventKey: eventsigtest.Key(t), Sink: sink, RebuildQuiet: 50 * time.Millisecond})
	must(t, err)
	must(t, f.Start(context.Background(), nil))
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	srv, err := newServer(slog.New(slog.DiscardHandler), plane.Each[*Function]{f, f}, auth.NewAdmin(adminToken))
	must(t, err)
	return fntest.Serve(t, srv)
}

// reserve records what prededuct leaves for a won claim of one unit:
// the claim record and the inflight entry.
func (fx *fixture) reserve(t *testing.T, user string) string {
	t.Helper()
	ctx := context.Background()
	id := keyspace.ClaimID("sale", user)
	_, err := fx.claims.CreatePending(ctx, claim.Record{ID: id, UserID: user, SKU: "phone", Qty: 1, CreatedAt: at})
	must(t, err)
	must(t, fx.rdb.HSet(ctx, fx.keys.Campaign("sale").Inflight(), id, 1).Err())
	return id
}

// settle writes user's order (slot n) to PostgreSQL.
func (fx *fixture) settle(t *testing.T, user string, slot int) {
	t.Helper()
	_, err := fx.committer.Submit(context.Background(), ledger.Order{
		OrderNo: "sale:phone:" + user + ":1", TokenID: keyspace.ClaimID("sale", user), CampaignID: "sale",
		SKU: "phone", UserID: user, Seq: 1, Qty: 1, FirstSlot: slot, Amount: 100, ReservedAt: at, PayBy: at.Add(time.Hour)})
	must(t, err)
}

func (fx *fixture) setRemaining(t *testing.T, n int) {
	t.Helper()
	must(t, fx.rdb.Set(context.Background(), fx.keys.Campaign("sale").Stock("phone"), n, 0).Err())
}

// ping runs a pass and returns the status and the report it wrote.
func (fx *fixture) ping(t *testing.T, id string) (int, Report) {
	t.Helper()
	return fx.pingAt(t, id, at)
}

// pingAt is ping sent at when, which names its report.
func (fx *fixture) pingAt(t *testing.T, id string, when time.Time) (int, Report) {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetType("dev.knative.sources.ping")
	e.SetSource("/apis/v1/namespaces/surge/pingsources/reconcile")
	e.SetTime(when)
	status, body := fx.post(t, "/", e)
	if status != http.StatusOK {
		t.Fatalf("ping status = %d (%s); want 200", status, body)
	}
	var d struct {
		ReportKey string `json:"report_key"`
	}
	must(t, json.Unmarshal(body, &d))
	return status, fx.report(t, d.ReportKey)
}

func (fx *fixture) report(t *testing.T, key string) Report {
	t.Helper()
	out, err := fx.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &fx.bucket, Key: &key})
	if err != nil {
		t.Fatalf("report %q not in bucket %s: %v", key, fx.bucket, err)
	}
	defer out.Body.Close()
	var r Report
	must(t, json.NewDecoder(out.Body).Decode(&r))
	return r
}

func (fx *fixture) post(t *testing.T, path string, e event.Event) (int, []byte) {
	t.Helper()
	return fntest.Body(t, fntest.Request(t, fx.srv.URL+path, e))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
