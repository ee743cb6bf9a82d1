package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/schema"
)

var planeSecret = []byte("admin-plane-test-secret")

// servePlanes is admin on both planes as main serves it, over a fresh
// database, key space and bucket; keys are each plane's.
func servePlanes(t *testing.T) (http.Handler, plane.Each[keyspace.Space], *fixture) {
	t.Helper()
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := servertest.Redis(t, env, 0)
	pools, err := plane.Postgres(ctx, env.DatabaseURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plane.Close(pools) })
	admin := auth.NewAdmin(adminToken)
	images := captcha.NewObjects(servertest.S3(env), env.S3Bucket, 5*time.Second)
	var keys plane.Each[keyspace.Space]
	fns, err := plane.Build(func(p plane.Plane) (*Function, error) {
		if err := schema.Migrate(ctx, pools[p]); err != nil {
			return nil, err
		}
		keys[p] = p.Keys(keyspace.New(env.KeyPrefix))
		d := Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Redis: rdb, Pool: pools[p],
			Campaigns: campaign.NewStore(pools[p]), Keys: keys[p], Admin: admin,
			Bank: captcha.NewBank(rdb, keys[p], images.Under(p.ObjectPrefix())), StockTTL: time.Nanosecond}
		if p == plane.Shadow {
			d.Mirror = campaign.NewStore(pools[plane.Real])
		}
		return New(d), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := fntest.Handler(t, plane.NewRequests(choosePlane(admin, auth.NewUsers(planeSecret)), fns))
	return h, keys, &fixture{h: h, rdb: rdb}
}

func userToken(t *testing.T, key []byte, c auth.Caller) string {
	t.Helper()
	tok, err := auth.Sign(key, c, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestShadowMirrorAndReads: warming a live campaign's shadow mirrors it
// with its full stock and leaves the real one alone; only the admin token
// with ?plane= or a valid shadow JWT reads the shadow plane.
func TestShadowMirrorAndReads(t *testing.T) {
	h, keys, fx := servePlanes(t)
	body := with(sale("live"), "captcha", false)
	if w := fx.call(t, http.MethodPost, "/v1/campaigns", adminToken, body); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w := fx.call(t, http.MethodPost, "/v1/campaigns/live/warmup", adminToken, nil); w.Code != http.StatusOK {
		t.Fatalf("warm-up: %d %s", w.Code, w.Body)
	}
	ctx := context.Background()
	fx.rdb.DecrBy(ctx, keys[plane.Real].Campaign("live").Stock("phone-x"), 4) // real buyers took 4
	w := fx.call(t, http.MethodPost, "/v1/campaigns/live/warmup?plane=shadow", adminToken, nil)
	if got := httpapitest.Decode[Warmed](t, w); w.Code != http.StatusOK || got.Stock["phone-x"] != 10 {
		t.Fatalf("shadow warm-up: %d, stock %v; want 200 with the full 10", w.Code, got.Stock)
	}
	fx.rdb.DecrBy(ctx, keys[plane.Shadow].Campaign("live").Stock("phone-x"), 1) // a shadow buyer took 1

	shadowUser := userToken(t, planeSecret, auth.Caller{User: "alice", Shadow: true})
	cases := []struct {
		name, path, bearer string
		header             []string
		status, remaining  int
	}{
		{"anonymous", "/v1/campaigns/live/stock", "", nil, 200, 6},
		{"real user", "/v1/campaigns/live/stock", userToken(t, planeSecret, auth.Caller{User: "alice"}), nil, 200, 6},
		{"shadow user", "/v1/campaigns/live/stock", shadowUser, nil, 200, 9},
		{"operator naming the plane", "/v1/campaigns/live/stock?plane=shadow", adminToken, nil, 200, 9},
		{"forged shadow user", "/v1/campaigns/live/stock", userToken(t, []byte("not-the-secret"), auth.Caller{User: "alice", Shadow: true}), nil, 200, 6},
		{"bare header", "/v1/campaigns/live/stock", "", []string{"X-Surge-Shadow", "true"}, 200, 6},
		{"plane without the admin token", "/v1/campaigns/live/stock?plane=shadow", shadowUser, nil, 401, 0},
		{"unknown plane", "/v1/campaigns/live/stock?plane=staging", adminToken, nil, 400, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httpapitest.Do(t, h, http.MethodGet, tc.path, tc.bearer, nil, tc.header...)
			if w.Code != tc.status {
				t.Fatalf("status %d (%s); want %d", w.Code, w.Body, tc.status)
			}
			if tc.status == http.StatusOK {
				if v := httpapitest.Decode[StockView](t, w); v.Items[0].Remaining != tc.remaining {
					t.Errorf("remaining %d; want %d", v.Items[0].Remaining, tc.remaining)
				}
			}
		})
	}
}

// TestShadowOnlyCampaign: a campaign the operator creates on the shadow
// plane (what bench -shadow does) does not exist for real traffic.
func TestShadowOnlyCampaign(t *testing.T) {
	h, _, fx := servePlanes(t)
	if w := fx.call(t, http.MethodPost, "/v1/campaigns?plane=shadow", adminToken, sale("loadtest")); w.Code != http.StatusCreated {
		t.Fatalf("create on the shadow plane: %d %s", w.Code, w.Body)
	}
	shadowUser := userToken(t, planeSecret, auth.Caller{User: "bob", Shadow: true})
	for _, tc := range []struct {
		name, bearer string
		status       int
	}{{"real", "", http.StatusNotFound}, {"shadow", shadowUser, http.StatusOK}} {
		if w := httpapitest.Do(t, h, http.MethodGet, "/v1/campaigns/loadtest", tc.bearer, nil); w.Code != tc.status {
			t.Errorf("%s read: status %d; want %d", tc.name, w.Code, tc.status)
		}
	}
	if w := fx.call(t, http.MethodPost, "/v1/campaigns/loadtest/warmup", adminToken, nil); w.Code != http.StatusNotFound {
		t.Errorf("real warm-up of a shadow-only campaign: %d; want 404", w.Code)
	}
}
