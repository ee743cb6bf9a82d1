package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/receipt"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var reservedAt = time.Date(2030, 11, 11, 0, 0, 1, 500e6, time.UTC)

// fixture is one settle function on a fresh database and key space, with
// campaign "double11" (sku phone-x, stock 10, limit 1) in PostgreSQL.
type fixture struct {
	srv     *httptest.Server
	rdb     *redis.Client
	pool    *pgxpool.Pool
	keys    keyspace.Space
	claims  *claim.Store
	pending *pending.Store
	signer  *receipt.Signer
	shadow  bool // win mints shadow receipts
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	pool := servertest.Postgres(t, env, 4)
	signer, err := receipt.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys := keyspace.New(env.KeyPrefix)
	fx := &fixture{rdb: rdb, pool: pool, keys: keys, signer: signer,
		claims: claim.NewStore(rdb, keys), pending: pending.NewStore(rdb, keys)}
	fx.srv = fx.serve(t)
	fx.createCampaign(t)
	return fx
}

func (fx *fixture) serve(t *testing.T) *httptest.Server {
	t.Helper()
	f, err := New(Config{Redis: fx.rdb, Postgres: fx.pool, Keys: fx.keys, Verifier: receipt.NewVerifier(fx.signer.Public())})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	return fntest.Serve(t, f)
}

func (fx *fixture) createCampaign(t *testing.T) {
	t.Helper()
	c := &campaign.Campaign{ID: "double11", Kind: campaign.KindSale, PerUserLimit: 1,
		Items:    []campaign.Item{{SKU: "phone-x", Stock: 10, Price: 99900}},
		StartsAt: reservedAt.Add(-time.Hour), EndsAt: reservedAt.Add(time.Hour)}
	if err := campaign.NewStore(fx.pool).Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// win records in Redis what prededuct and enqueue leave for a won claim
// of user (a reserved claim, an inflight entry, a pending token) and
// returns its order.queued event.
func (fx *fixture) win(t *testing.T, user string, seq, slot int) event.Event {
	t.Helper()
	ctx := context.Background()
	claimID := keyspace.ClaimID("double11", "c-"+user)
	r := receipt.Receipt{TokenID: claimID, OrderNo: receipt.OrderNo("double11", "phone-x", user, seq),
		CampaignID: "double11", SKU: "phone-x", UserID: user, Qty: 1, Seq: seq, FirstSlot: slot,
		Amount: 99900, ReservedAt: reservedAt, PayBy: reservedAt.Add(10 * time.Minute), Shadow: fx.shadow}
	token, err := fx.signer.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.claims.CreatePending(ctx, claim.Record{ID: claimID, UserID: user, SKU: "phone-x", Qty: 1, CreatedAt: reservedAt}); err != nil {
		t.Fatal(err)
	}
	camp := fx.keys.Campaign("double11")
	must(t, fx.rdb.HSet(ctx, camp.Claim(claimID), claim.FieldState, claim.Reserved).Err())
	must(t, fx.claims.SetQueued(ctx, claimID, r.OrderNo, token, reservedAt))
	must(t, fx.rdb.HSet(ctx, camp.Inflight(), claimID, 1).Err())
	if _, err := fx.pending.Add(ctx, user, r.OrderNo, token); err != nil {
		t.Fatal(err)
	}
	return events.OrderQueued(events.OrderQueuedData{ClaimID: claimID, CampaignID: "double11", UserID: user,
		OrderNo: r.OrderNo, Token: token}, reservedAt)
}

// post delivers e in binary mode and returns the status and body.
func (fx *fixture) post(t *testing.T, e event.Event) (int, []byte) {
	t.Helper()
	return fntest.Body(t, fntest.Request(t, fx.srv.URL, e))
}

func (fx *fixture) orders(t *testing.T) int {
	t.Helper()
	var n int
	must(t, fx.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n))
	return n
}

func settledData(t *testing.T, body []byte) events.OrderSettledData {
	t.Helper()
	var d events.OrderSettledData
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("reply body %s: %v", body, err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
