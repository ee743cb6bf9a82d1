package main

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

func (fx *fixture) stock(t *testing.T, id string) StockView {
	t.Helper()
	w := fx.call(t, http.MethodGet, "/v1/campaigns/"+id+"/stock", "", nil)
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=1" {
		t.Fatalf("stock: %d %v %s; want 200 with max-age=1", w.Code, w.Header(), w.Body)
	}
	return httpapitest.Decode[StockView](t, w)
}

func (fx *fixture) warmup(t *testing.T, id string) Warmed {
	t.Helper()
	w := fx.call(t, http.MethodPost, "/v1/campaigns/"+id+"/warmup", adminToken, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("warmup: %d %s", w.Code, w.Body)
	}
	return httpapitest.Decode[Warmed](t, w)
}

func TestWarmupThenStock(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	before := fx.stock(t, "double11")
	if before.State != "sold_out" || before.Items[0].Remaining != 0 {
		t.Fatalf("stock before warm-up %+v; want sold_out with 0 (fail closed)", before)
	}
	got := fx.warmup(t, "double11")
	if want := map[string]int{"phone-x": 10, "case": 3}; got.CampaignID != "double11" || !reflect.DeepEqual(got.Stock, want) {
		t.Fatalf("warmup %+v; want double11 %v", got, want)
	}
	fx.clock.Add(time.Second) // past the local cache
	want := StockView{CampaignID: "double11", State: "open", Items: []Remaining{{"phone-x", 10}, {"case", 3}}}
	if v := fx.stock(t, "double11"); !reflect.DeepEqual(v, want) {
		t.Fatalf("stock %+v; want %+v", v, want)
	}
}

// Stock sold during the sale stays sold when the campaign is warmed again.
func TestSecondWarmupKeepsStock(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	fx.warmup(t, "double11")
	if err := fx.rdb.DecrBy(context.Background(), fx.keys.Campaign("double11").Stock("phone-x"), 4).Err(); err != nil {
		t.Fatal(err)
	}
	if got := fx.warmup(t, "double11"); got.Stock["phone-x"] != 6 || got.Stock["case"] != 3 {
		t.Fatalf("second warmup %v; want phone-x 6, case 3", got.Stock)
	}
}

// A first warm-up of a campaign that has orders already (a database
// restored into a new deployment) subtracts what PostgreSQL settled.
func TestWarmupSubtractsSettled(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	now := time.Now()
	for i, qty := range []int{1, 2} {
		fx.exec(`INSERT INTO orders (order_no, token_id, campaign_id, sku, user_id, seq, qty, first_slot, amount, reserved_at, pay_by)
			VALUES ($1, $2, 'double11', 'phone-x', $3, 1, $4, $5, 0, $6, $6)`,
			"double11:phone-x:u"+string(rune('a'+i))+":1", "tok"+string(rune('a'+i)), "u"+string(rune('a'+i)), qty, 1+i, now)
	}
	if got := fx.warmup(t, "double11"); got.Stock["phone-x"] != 7 || got.Stock["case"] != 3 {
		t.Fatalf("warmup %v; want phone-x 7 (10 - 3 settled), case 3", got.Stock)
	}
}

// A campaign warmed before whose Redis state is gone is not warmed again
// from the configured stock (it would sell again what was sold): 409
// rebuild_required, and Redis stays without its stock (sold out).
func TestWarmupAfterRedisLostRefused(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	fx.warmup(t, "double11")
	ctx := context.Background()
	keys := fx.keys.Campaign("double11")
	if err := fx.rdb.Del(ctx, keys.Meta(), keys.Stock("phone-x"), keys.Stock("case")).Err(); err != nil {
		t.Fatal(err)
	}
	w := fx.call(t, http.MethodPost, "/v1/campaigns/double11/warmup", adminToken, nil)
	if w.Code != http.StatusConflict || httpapitest.ErrorCode(w) != "rebuild_required" {
		t.Fatalf("warm-up after Redis lost it: %d %s; want 409 rebuild_required", w.Code, w.Body)
	}
	if n := fx.rdb.Exists(ctx, keys.Meta(), keys.Stock("phone-x"), keys.Stock("case")).Val(); n != 0 {
		t.Fatalf("the refused warm-up wrote %d keys", n)
	}
}

func TestStockStates(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	fx.warmup(t, "double11")
	for _, sku := range []string{"phone-x", "case"} {
		if err := fx.rdb.Set(context.Background(), fx.keys.Campaign("double11").Stock(sku), 0, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		shift time.Duration
		want  string
	}{
		{"before start", -2 * time.Hour, "upcoming"},
		{"during, nothing left", 0, "sold_out"},
		{"after end", 2 * time.Hour, "closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx.clock.Add(tc.shift + time.Second)
			defer fx.clock.Add(-tc.shift)
			if v := fx.stock(t, "double11"); v.State != tc.want {
				t.Fatalf("state %s; want %s", v.State, tc.want)
			}
		})
	}
}

// Within the cache's 200ms the view is served without reading Redis.
func TestStockCached(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	fx.warmup(t, "double11")
	first := fx.stock(t, "double11")
	if err := fx.rdb.Set(context.Background(), fx.keys.Campaign("double11").Stock("phone-x"), 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := fx.stock(t, "double11"); !reflect.DeepEqual(v, first) {
		t.Fatalf("within the cache: %+v; want %+v", v, first)
	}
	fx.clock.Add(250 * time.Millisecond)
	if v := fx.stock(t, "double11"); v.Items[0].Remaining != 1 {
		t.Fatalf("after the cache: %+v; want phone-x 1", v)
	}
}

func TestWarmupRefused(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	cases := []struct {
		name, id, bearer string
		want             int
	}{
		{"no token", "double11", "", 401},
		{"wrong token", "double11", "x", 401},
		{"unknown campaign", "nope", adminToken, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if w := fx.call(t, http.MethodPost, "/v1/campaigns/"+tc.id+"/warmup", tc.bearer, nil); w.Code != tc.want {
				t.Fatalf("status %d %s; want %d", w.Code, w.Body, tc.want)
			}
		})
	}
	if n, _ := fx.rdb.Exists(context.Background(), fx.keys.Campaign("double11").Meta()).Result(); n != 0 {
		t.Fatal("a refused warm-up wrote the campaign to Redis")
	}
	if w := fx.call(t, http.MethodGet, "/v1/campaigns/nope/stock", "", nil); w.Code != http.StatusNotFound {
		t.Fatalf("stock of unknown: %d; want 404", w.Code)
	}
}
