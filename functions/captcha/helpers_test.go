package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/soldout"
	"github.com/surgekit/surge/shared/stock"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

var jwtSecret = []byte("jwt-secret-for-tests")

// fixture is one captcha function on a fresh key prefix.
type fixture struct {
	f     *Function
	h     http.Handler
	rdb   *redis.Client
	keys  keyspace.Space
	sink  *fntest.Broker
	board *soldout.Board
	bank  *captcha.Bank
}

func newFixture(t *testing.T, cfg captcha.Config) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, func(*Deps) {})
}

// newFixtureWith lets set change the Deps (limits, bounds) before New.
func newFixtureWith(t *testing.T, cfg captcha.Config, set func(*Deps)) *fixture {
	t.Helper()
	return newFixtureOn(t, servertest.Fresh(t, deps), cfg, set)
}

// newFixtureOn is newFixtureWith on env's servers.
func newFixtureOn(t *testing.T, env servertest.Env, cfg captcha.Config, set func(*Deps)) *fixture {
	t.Helper()
	rdb := servertest.Redis(t, env, 0)
	rc := fntest.NewBroker(t)
	keys := keyspace.New(env.KeyPrefix)
	cfg.Secret = []byte("captcha-secret")
	objects := captcha.NewObjects(servertest.S3(env), env.S3Bucket, 5*time.Second)
	challenges, err := captcha.New(rdb, keys, objects, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bank := captcha.NewBank(rdb, keys, objects)
	board := soldout.New(rdb, keys, 50*time.Millisecond)
	runBoard(t, board)
	d := Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Redis: rdb, Keys: keys,
		Users: auth.NewUsers(jwtSecret), Challenges: challenges, Claims: claim.NewStore(rdb, keys), Sink: rc.Sink, SoldOut: board}
	set(&d)
	f := New(d)
	return &fixture{f: f, h: fntest.Handler(t, f), rdb: rdb, keys: keys, sink: rc, board: board, bank: bank}
}

// runBoard keeps board current until the test ends.
func runBoard(t *testing.T, board *soldout.Board) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); board.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); !board.Listening(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("sold-out board not listening after 5s")
		}
	}
}

// warm puts an open sale into Redis as admin's warm-up does.
func (fx *fixture) warm(t *testing.T, id string, withCaptcha bool) {
	t.Helper()
	fx.warmLimited(t, id, withCaptcha, nil)
}

// warmLimited is warm with the campaign's own rate limits.
func (fx *fixture) warmLimited(t *testing.T, id string, withCaptcha bool, limits *campaign.Limits) {
	t.Helper()
	now := time.Now().UTC()
	c := &campaign.Campaign{ID: id, Kind: campaign.KindSale, Title: id,
		Items:        []campaign.Item{{SKU: "cup", Stock: 10, Price: 100}, {SKU: "mug", Stock: 5, Price: 200}},
		PerUserLimit: 2, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour),
		PaymentWindow: campaign.Duration{Duration: 10 * time.Minute}, Captcha: withCaptcha, Limits: limits}
	if err := stock.Warm(context.Background(), fx.rdb, fx.keys.Campaign(id), c, nil); err != nil {
		t.Fatal(err)
	}
	if withCaptcha {
		if _, err := fx.bank.Warm(context.Background(), id, testBank); err != nil {
			t.Fatal(err)
		}
	}
}

// testBank is the bank of a campaign warmed with its captcha on.
const testBank = 40

func token(t *testing.T, user string) string {
	t.Helper()
	tok, err := auth.SignUser(jwtSecret, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call POSTs body (bytes as is, anything else as JSON) and returns the
// recorded response.
func (fx *fixture) call(t *testing.T, path, bearer string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return httpapitest.Do(t, fx.h, http.MethodPost, path, bearer, body, header...)
}

// challenge issues a challenge to user through the API and answers it
// from the bank, as the operator's load tools do.
func (fx *fixture) challenge(t *testing.T, campaignID, user string) (id, answer string) {
	t.Helper()
	w := fx.call(t, "/v1/campaigns/"+campaignID+"/challenges", token(t, user), nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("issue challenge: %d %s", w.Code, w.Body)
	}
	ch := httpapitest.Decode[captcha.Challenge](t, w)
	answers, err := fx.bank.Answers(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	answer, ok := answers[captcha.EntryOf(ch.ImageURL)]
	if !ok {
		t.Fatalf("image %s shows no entry of the bank", ch.ImageURL)
	}
	return ch.ID, answer
}

// claimKeys counts the claim records in the fixture's key space, the
// tombstones of refused claims aside.
func (fx *fixture) claimKeys(t *testing.T) int {
	t.Helper()
	n, _ := fx.claimRecords(t)
	return n
}

// claimRecords counts the claim records and, apart, the tombstones.
func (fx *fixture) claimRecords(t *testing.T) (records, tombstones int) {
	t.Helper()
	ctx := context.Background()
	keys, err := fx.rdb.Keys(ctx, fx.keys.Campaign("*").Claim("*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if fx.rdb.HGet(ctx, k, claim.FieldState).Val() == claim.Refused {
			tombstones++
		} else {
			records++
		}
	}
	return records, tombstones
}
