package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/pending"
	"github.com/surgekit/surge/shared/receipt"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var reservedAt = time.Date(2025, 11, 11, 0, 0, 1, 500e6, time.UTC)

// fixture is one enqueue function on a fresh key space, with a warmed
// sale "double11" (sku phone-x at 99900) and a reserved claim.
type fixture struct {
	srv     *httptest.Server
	rdb     *redis.Client
	keys    keyspace.Space
	claims  *claim.Store
	pending *pending.Store
	signer  *receipt.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	signer, err := receipt.NewSigner(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys := keyspace.New(env.KeyPrefix)
	fx := &fixture{rdb: rdb, keys: keys, claims: claim.NewStore(rdb, keys), pending: pending.NewStore(rdb, keys), signer: signer}
	fx.srv = serve(t, Config{Redis: rdb, Keys: keys, Signer: signer})
	fx.warm(t)
	return fx
}

// serve serves enqueue with cfg; the tests' event key when it has none.
func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	if cfg.EventKey == nil {
		cfg.EventKey = eventsigtest.Key(t)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fntest.Serve(t, f)
}

func (fx *fixture) warm(t *testing.T) {
	t.Helper()
	c := campaign.Campaign{ID: "double11", Kind: campaign.KindSale, Items: []campaign.Item{{SKU: "phone-x", Stock: 10, Price: 99900}}}
	spec, _ := json.Marshal(c)
	ctx := context.Background()
	if err := fx.rdb.HSet(ctx, fx.keys.Campaign("double11").Meta(), stock.MetaSpec, spec).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.claims.CreatePending(ctx, claim.Record{ID: "double11.c1", UserID: "alice", SKU: "phone-x", Qty: 2, CreatedAt: reservedAt}); err != nil {
		t.Fatal(err)
	}
	fx.setState(t, claim.Reserved)
}

// setState writes the claim's state as the pre-deduct script or settle do.
func (fx *fixture) setState(t *testing.T, state string) {
	t.Helper()
	key := fx.keys.Campaign("double11").Claim("double11.c1")
	if err := fx.rdb.HSet(context.Background(), key, claim.FieldState, state).Err(); err != nil {
		t.Fatal(err)
	}
}

// reserved is the reservation's event as prededuct replies it: signed.
func reserved(t *testing.T) event.Event {
	return eventsigtest.Signed(t, events.ClaimReserved(reservation()))
}

func reservation() events.ClaimReservedData {
	return events.ClaimReservedData{
		ClaimID: "double11.c1", CampaignID: "double11", UserID: "alice", SKU: "phone-x",
		Qty: 2, Seq: 1, FirstSlot: 7, ReservedAt: reservedAt, PayBy: reservedAt.Add(10 * time.Minute),
	}
}

func TestEnqueueMintsRecordsAndReplies(t *testing.T) {
	fx := newFixture(t)
	status, reply := fntest.Post(t, fx.srv.URL, reserved(t))
	if status != http.StatusOK || reply == nil {
		t.Fatalf("status %d, want 200 with a reply", status)
	}
	q, err := events.Decode[events.OrderQueuedData](*reply, events.TypeOrderQueued)
	if err != nil {
		t.Fatal(err)
	}
	wantNo := "double11:phone-x:alice:1"
	if q.OrderNo != wantNo || reply.ID() != "double11.c1/queued" || !reply.Time().Equal(reservedAt) {
		t.Fatalf("reply %s at %v with order %s; want id double11.c1/queued at %v, order %s", reply.ID(), reply.Time(), q.OrderNo, reservedAt, wantNo)
	}
	r, err := receipt.NewVerifier(fx.signer.Public()).Verify(q.Token)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	want := receipt.Receipt{
		TokenID: "double11.c1", OrderNo: wantNo, CampaignID: "double11", SKU: "phone-x", UserID: "alice",
		Qty: 2, Seq: 1, FirstSlot: 7, Amount: 2 * 99900, ReservedAt: reservedAt,
		PayBy: reservedAt.Add(10 * time.Minute), KeyID: fx.signer.KeyID(),
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("receipt = %+v, want %+v", r, want)
	}
	fx.assertRecorded(t, wantNo, q.Token)
}

// assertRecorded checks the pending list holds exactly orderNo → token and
// the claim record carries both.
func (fx *fixture) assertRecorded(t *testing.T, orderNo, token string) {
	t.Helper()
	ctx := context.Background()
	list, err := fx.pending.List(ctx, "alice")
	if err != nil || len(list) != 1 || list[orderNo] != token {
		t.Fatalf("pending = %v, %v; want only %s", list, err, orderNo)
	}
	rec, err := fx.claims.Get(ctx, "double11.c1")
	if err != nil || rec.OrderNo != orderNo || rec.Token != token || rec.State != claim.Reserved {
		t.Fatalf("claim = %+v, %v; want reserved with order %s and the token", rec, err, orderNo)
	}
}

func TestEnqueueDuplicateDeliveryIsIdempotent(t *testing.T) {
	fx := newFixture(t)
	in := reserved(t)
	_, first := fntest.Post(t, fx.srv.URL, in)
	before, _ := fx.claims.Get(context.Background(), "double11.c1")
	// A second instance (cold cache, same key) gets the redelivery.
	other := serve(t, Config{Redis: fx.rdb, Keys: fx.keys, Signer: fx.signer, Now: func() time.Time { return reservedAt.Add(time.Hour) }})
	status, second := fntest.Post(t, other.URL, in)
	if status != http.StatusOK || second == nil {
		t.Fatalf("redelivery: status %d, want 200 with a reply", status)
	}
	if second.ID() != first.ID() || !bytes.Equal(second.Data(), first.Data()) || !second.Time().Equal(first.Time()) {
		t.Fatalf("redelivery replied %s %s, want the identical %s %s", second.ID(), second.Data(), first.ID(), first.Data())
	}
	after, _ := fx.claims.Get(context.Background(), "double11.c1")
	if after != before {
		t.Fatalf("redelivery changed the claim: %+v → %+v", before, after)
	}
	var q events.OrderQueuedData
	_ = json.Unmarshal(first.Data(), &q)
	fx.assertRecorded(t, q.OrderNo, q.Token)
}

func TestEnqueueAfterSettleDoesNotResurrectPending(t *testing.T) {
	fx := newFixture(t)
	in := reserved(t)
	_, first := fntest.Post(t, fx.srv.URL, in)
	var q events.OrderQueuedData
	_ = json.Unmarshal(first.Data(), &q)
	fx.setState(t, claim.Settled)
	if err := fx.pending.Remove(context.Background(), "alice", q.OrderNo); err != nil {
		t.Fatal(err)
	}
	status, second := fntest.Post(t, fx.srv.URL, in)
	if status != http.StatusOK || second == nil || !bytes.Equal(second.Data(), first.Data()) {
		t.Fatalf("late redelivery: status %d; want 200 and the identical reply", status)
	}
	if list, _ := fx.pending.List(context.Background(), "alice"); len(list) != 0 {
		t.Fatalf("pending = %v after settle, want empty", list)
	}
}

func TestEnqueueRejectsBadEventsAndChangesNothing(t *testing.T) {
	mutate := func(f func(*events.ClaimReservedData)) event.Event {
		d := reservation()
		f(&d)
		return eventsigtest.Signed(t, events.ClaimReserved(d))
	}
	wrongType := events.ClaimReserved(reservation())
	wrongType.SetType(events.TypeClaimRequested)
	garbage := events.ClaimReserved(reservation())
	_ = garbage.SetData(event.ApplicationJSON, map[string]any{"claim_id": 7})
	tampered := reserved(t)
	_ = tampered.SetData(event.ApplicationJSON, bytes.Replace(tampered.Data(), []byte(`"seq":1`), []byte(`"seq":2`), 1))
	tests := []struct {
		name string
		in   event.Event
		want int
	}{
		{"not signed by prededuct", events.ClaimReserved(reservation()), http.StatusBadRequest},
		{"changed after prededuct signed", tampered, http.StatusBadRequest},
		{"wrong type", eventsigtest.Signed(t, wrongType), http.StatusBadRequest},
		{"garbage data", eventsigtest.Signed(t, garbage), http.StatusBadRequest},
		{"missing sku", mutate(func(d *events.ClaimReservedData) { d.SKU = "" }), http.StatusBadRequest},
		{"zero seq", mutate(func(d *events.ClaimReservedData) { d.Seq = 0 }), http.StatusBadRequest},
		{"claim of another campaign", mutate(func(d *events.ClaimReservedData) { d.ClaimID = "other.c1" }), http.StatusBadRequest},
		{"no pay_by", mutate(func(d *events.ClaimReservedData) { d.PayBy = time.Time{} }), http.StatusBadRequest},
		{"unknown sku", mutate(func(d *events.ClaimReservedData) { d.SKU = "tablet" }), http.StatusBadRequest},
		{"campaign not warmed", mutate(func(d *events.ClaimReservedData) { d.CampaignID, d.ClaimID = "cold", "cold.c1" }), http.StatusConflict},
	}
	fx := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _ := fntest.Post(t, fx.srv.URL, tt.in); status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
			fx.assertUntouched(t)
		})
	}
}

func (fx *fixture) assertUntouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if list, err := fx.pending.List(ctx, "alice"); err != nil || len(list) != 0 {
		t.Fatalf("pending = %v, %v; want empty", list, err)
	}
	if rec, err := fx.claims.Get(ctx, "double11.c1"); err != nil || rec.OrderNo != "" || rec.Token != "" {
		t.Fatalf("claim = %+v, %v; want no order", rec, err)
	}
}

func TestEnqueueRedisDownIsRetried(t *testing.T) {
	signer, _ := receipt.NewSigner(bytes.Repeat([]byte{9}, 32))
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	srv := serve(t, Config{Redis: down, Keys: keyspace.New("x"), Signer: signer})
	if status, _ := fntest.Post(t, srv.URL, reserved(t)); status != http.StatusInternalServerError {
		t.Fatalf("status %d with Redis down, want 500", status)
	}
}
