package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var (
	jwtSecret = []byte("query-test-secret")
	t0        = time.Date(2025, 11, 11, 0, 0, 0, 0, time.UTC)
)

// fixture is one query function on a fresh database (migrated, holding
// sale "double11") and key space.
type fixture struct {
	srv     *httptest.Server
	rdb     *redis.Client
	db      *pgxpool.Pool
	keys    keyspace.Space
	pending *pending.Store
	signer  *receipt.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	db := servertest.Postgres(t, env, 8)
	createSale(ctx, t, db)
	signer, _ := receipt.NewSigner(bytes.Repeat([]byte{5}, 32))
	keys := keyspace.New(env.KeyPrefix)
	fx := &fixture{rdb: rdb, db: db, keys: keys, pending: pending.NewStore(rdb, keys), signer: signer}
	fx.srv = fx.serve(t)
	return fx
}

func createSale(ctx context.Context, t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := &campaign.Campaign{ID: "double11", Kind: campaign.KindSale, PerUserLimit: 100, StartsAt: t0, EndsAt: t0.Add(time.Hour),
		Items: []campaign.Item{{SKU: "phone-x", Stock: 1000, Price: 100}}}
	if err := campaign.NewStore(db).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) serve(t *testing.T) *httptest.Server {
	t.Helper()
	f, err := New(Config{
		Redis: fx.rdb, DB: fx.db, Keys: fx.keys, Users: auth.NewUsers(jwtSecret),
		Receipts: receipt.NewVerifier(fx.signer.Public()), Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return fntest.Serve(t, f)
}

// win is alice's seq-th win: 1 unit at slot seq, amount seq×100.
func win(seq int) receipt.Receipt {
	return receipt.Receipt{
		TokenID: keyspace.ClaimID("double11", string(rune('a'+seq))), OrderNo: receipt.OrderNo("double11", "phone-x", "alice", seq),
		CampaignID: "double11", SKU: "phone-x", UserID: "alice", Qty: 1, Seq: seq, FirstSlot: seq,
		Amount: int64(seq) * 100, ReservedAt: t0.Add(time.Duration(seq) * time.Second), PayBy: t0.Add(time.Hour),
	}
}

// queue does what enqueue does: the token goes on alice's pending list.
func (fx *fixture) queue(t testing.TB, r receipt.Receipt) {
	t.Helper()
	tok, err := fx.signer.Sign(r)
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := fx.pending.Add(context.Background(), r.UserID, r.OrderNo, tok); err != nil {
		t.Error(err)
	}
}

// commit does settle's first half: the order row in PostgreSQL.
func (fx *fixture) commit(t testing.TB, r receipt.Receipt) {
	t.Helper()
	_, err := fx.db.Exec(context.Background(), `INSERT INTO orders
		(order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.OrderNo, r.TokenID, r.CampaignID, r.SKU, r.UserID, r.Seq, r.Qty, r.FirstSlot, r.Amount, r.ReservedAt, r.PayBy)
	if err != nil {
		t.Error(err)
	}
}

// unqueue does settle's second half, after the commit.
func (fx *fixture) unqueue(t testing.TB, r receipt.Receipt) {
	t.Helper()
	if err := fx.pending.Remove(context.Background(), r.UserID, r.OrderNo); err != nil {
		t.Error(err)
	}
}

// get GETs path as user and decodes a 200 answer into out (if not nil).
func (fx *fixture) get(t testing.TB, path, user string, out any) int {
	t.Helper()
	resp := fx.request(t, path, user)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// request GETs path as user (no JWT for ""); the caller closes the body.
func (fx *fixture) request(t testing.TB, path, user string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fx.srv.URL+path, nil)
	fx.authorize(t, req, user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// authorize adds user's JWT to req (none for "").
func (fx *fixture) authorize(t testing.TB, req *http.Request, user string) {
	t.Helper()
	if user == "" {
		return
	}
	tok, err := auth.SignUser(jwtSecret, user, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
}
