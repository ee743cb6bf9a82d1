package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var (
	start = time.Date(2030, 11, 11, 0, 0, 0, 0, time.UTC)
	now   = start.Add(time.Minute)
)

// harness is a started function behind an httptest server, with its own
// Redis client to arrange and inspect state.
type harness struct {
	f    *Function
	srv  *httptest.Server
	rdb  *redis.Client
	keys keyspace.Space
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := servertest.Fresh(t, deps)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg, err := loadConfig(mapEnv(map[string]string{"SURGE_REDIS_URL": env.RedisURL, "SURGE_KEY_PREFIX": env.KeyPrefix,
		"SURGE_EVENT_KEY": eventsigtest.Secret}))
	if err != nil {
		t.Fatal(err)
	}
	f := New(cfg)
	f.now = func() time.Time { return now }
	h := &harness{f: f, keys: keyspace.New(env.KeyPrefix)}
	h.srv = fntest.Serve(t, f)
	if err := f.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	h.rdb = servertest.Redis(t, env, 0)
	return h
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// warm opens a sale of one sku, phone, with stockN units and limit 1.
func (h *harness) warm(t *testing.T, id string, stockN int) {
	t.Helper()
	c := &campaign.Campaign{
		ID: id, Kind: campaign.KindSale, Items: []campaign.Item{{SKU: "phone", Stock: stockN}},
		PerUserLimit: 1, StartsAt: start, EndsAt: start.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute},
	}
	if err := stock.Warm(context.Background(), h.rdb, h.keys.Campaign(id), c, nil); err != nil {
		t.Fatal(err)
	}
}

// post sends e signed, as captcha publishes it, in binary mode and returns
// the status and the reply event.
func (h *harness) post(t *testing.T, e event.Event) (int, *event.Event) {
	t.Helper()
	return fntest.Post(t, h.srv.URL, eventsigtest.Signed(t, e))
}

// rawRequest is a binary-mode POST built by hand, id left out when empty,
// signed as captcha would sign those attributes and body.
func (h *harness) rawRequest(t *testing.T, id, typ, body string) *http.Request {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(events.SourceCaptcha)
	e.DataEncoded = []byte(body)
	e = eventsigtest.Signed(t, e)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Type", typ)
	req.Header.Set("Ce-Source", events.SourceCaptcha)
	req.Header.Set("Ce-Surgesig", e.Extensions()[eventsig.Extension].(string))
	if id != "" {
		req.Header.Set("Ce-Id", id)
	}
	return req
}

// stock reads the phone stock of a campaign; -1 when missing.
func (h *harness) stock(t *testing.T, campaignID string) int {
	t.Helper()
	n, err := h.rdb.Get(context.Background(), h.keys.Campaign(campaignID).Stock("phone")).Int()
	if errors.Is(err, redis.Nil) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkUntouched proves a rejected event left the campaign as warmed.
func (h *harness) checkUntouched(t *testing.T, campaignID string, stockN int) {
	t.Helper()
	ctx := context.Background()
	c := h.keys.Campaign(campaignID)
	if left := h.stock(t, campaignID); left != stockN {
		t.Errorf("stock = %d; want %d", left, stockN)
	}
	n, err := h.rdb.Exists(ctx, c.Held(), c.Wins(), c.Inflight(), c.Claim(campaignID+".1"),
		h.keys.Campaign("other").Claim("other.1")).Result()
	if err != nil || n != 0 {
		t.Errorf("%d of held, wins, inflight and the claim records exist (err %v); want none", n, err)
	}
}

func readiness(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/health/readiness")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
