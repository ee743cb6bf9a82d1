package engine_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/surgekit/surge/api"
	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/gateway"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/receipt"
)

// TestAPIAsDocumented drives every route of the public API through the
// gateway of a running engine, with good input and bad (malformed JSON,
// missing or wrong fields, no or a wrong token, an unknown campaign, a
// body over the limit, a reused Idempotency-Key, …), and checks each
// reply against api/openapi.yaml: its status is one the route lists, its
// headers those the status requires, its body valid against the status's
// schema (error codes included). Each good request is checked against the
// document too. At the end every route of the gateway's API must have
// been answered at least one 2xx and one 4xx.
func TestAPIAsDocumented(t *testing.T) {
	s := startEngine(t, false)
	c := newAPICheck(t, s)
	now := time.Now().UTC().Truncate(time.Second)
	c.campaigns(t, now)
	c.challengesAndClaims(t)
	c.claimReads(t)
	c.orders(t)
	c.wallet(t)
	c.keys(t)
	c.deadLetters(t)
	c.reconcile(t)
	c.switches(t)
	c.covered(t)
}

// apiCheck sends requests to the gateway and validates their answers.
type apiCheck struct {
	s     *stack
	doc   *openapi3.T
	v     *api.Validator
	admin string
	seen  map[api.Operation][]int // statuses answered, per operation
}

func newAPICheck(t *testing.T, s *stack) *apiCheck {
	t.Helper()
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.NewValidator(doc, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &apiCheck{s: s, doc: doc, v: v, admin: s.api.admin, seen: map[api.Operation][]int{}}
}

// call is one request: body is nil, a string sent as it is, or a value
// sent as JSON (Content-Type application/json unless contentType says
// otherwise, "-" for none). good marks a request the document describes,
// which is validated too.
type call struct {
	method, path, bearer string
	body                 any
	contentType          string
	header               map[string]string
	good                 bool
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (a reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// code is the error code of an error reply.
func (a reply) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// do sends k and validates its reply against the document.
func (c *apiCheck) do(t *testing.T, k call) reply {
	t.Helper()
	var body []byte
	switch b := k.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	r, err := http.NewRequest(k.method, c.s.URL()+k.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	switch {
	case k.contentType == "-":
	case k.contentType != "":
		r.Header.Set("Content-Type", k.contentType)
	case body != nil:
		r.Header.Set("Content-Type", "application/json")
	}
	if k.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+k.bearer)
	}
	for name, v := range k.header {
		r.Header.Set(name, v)
	}
	ctx := context.Background()
	if k.good {
		if _, err := c.v.Request(ctx, r, body); err != nil {
			t.Errorf("%s %s: the request is not as api/openapi.yaml describes it: %v", k.method, k.path, err)
		}
	}
	resp, err := c.s.api.http.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", k.method, k.path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", k.method, k.path, err)
	}
	op, err := c.v.Response(ctx, r, resp.StatusCode, resp.Header, got)
	if err != nil {
		t.Errorf("%s %s: the reply is not as api/openapi.yaml describes it: %v", k.method, k.path, err)
	}
	c.seen[op] = append(c.seen[op], resp.StatusCode)
	return reply{status: resp.StatusCode, header: resp.Header, body: got}
}

// must is do, failing the test unless the reply is want (and, for an
// error, carries code when code is not empty).
func (c *apiCheck) must(t *testing.T, want int, code string, k call) reply {
	t.Helper()
	a := c.do(t, k)
	if a.status != want || (code != "" && a.code() != code) {
		t.Fatalf("%s %s: %d %s; want %d %s", k.method, k.path, a.status, a.body, want, code)
	}
	return a
}

func (c *apiCheck) user(t *testing.T, name string) string { return c.s.api.token(t, name) }

func saleSpec(id string, now time.Time, stock, limit int, captcha bool, extra map[string]any) map[string]any {
	spec := map[string]any{
		"id": id, "kind": "sale", "title": "openapi " + id,
		"items":          []map[string]any{{"sku": "cup", "stock": stock, "price": 1200}},
		"per_user_limit": limit, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour),
		"payment_window": "10m", "captcha": captcha,
	}
	for k, v := range extra {
		spec[k] = v
	}
	return spec
}

// campaigns: create, read (with its ETag), warm up, the stock and the
// challenge bank. It leaves api-sale, api-quiz (captcha), api-slow (one
// click per 100 s), api-one (one unit), api-rain warm, and api-cold created only.
func (c *apiCheck) campaigns(t *testing.T, now time.Time) {
	bob := c.user(t, "bob")
	specs := []map[string]any{
		saleSpec("api-sale", now, 5, 2, false, nil),
		saleSpec("api-quiz", now, 5, 1, true, nil),
		saleSpec("api-slow", now, 5, 5, false, map[string]any{"limits": map[string]any{"user_per_sec": 0.01, "user_burst": 1}}),
		saleSpec("api-one", now, 1, 1, false, nil),
		saleSpec("api-cold", now, 5, 1, false, nil),
		{"id": "api-rain", "kind": "rain", "title": "openapi rain", "budget": 1000, "packets": 10, "per_user_limit": 1,
			"starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour), "payment_window": "10m", "captcha": false},
	}
	for _, spec := range specs {
		c.must(t, http.StatusCreated, "", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: spec, good: true})
	}
	c.must(t, http.StatusConflict, "campaign_exists", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: specs[0], good: true})
	bad := saleSpec("api-bad", now, 5, 0, false, nil)
	c.must(t, http.StatusBadRequest, "invalid_campaign", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: bad})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: `{"id":`})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: `{"id":"x","colour":"red"}`})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: "/v1/campaigns", bearer: c.admin, body: `{"id":"x"} {}`})
	c.must(t, http.StatusRequestEntityTooLarge, "body_too_large", call{method: "POST", path: "/v1/campaigns", bearer: c.admin,
		body: `{"id":"x","title":"` + strings.Repeat("a", 17<<10) + `"}`})
	c.must(t, http.StatusUnsupportedMediaType, "unsupported_media_type", call{method: "POST", path: "/v1/campaigns", bearer: c.admin,
		body: `{"id":"x"}`, contentType: "text/plain"})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: "/v1/campaigns", bearer: "not-the-token", body: specs[0]})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: "/v1/campaigns", bearer: bob, body: specs[0]})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "POST", path: "/v1/campaigns?plane=mars", bearer: c.admin, body: specs[0]})

	got := c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-sale", good: true})
	c.must(t, http.StatusNotModified, "", call{method: "GET", path: "/v1/campaigns/api-sale", good: true,
		header: map[string]string{"If-None-Match": got.header.Get("ETag")}})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-sale", good: true,
		header: map[string]string{"If-None-Match": `"0123"`}})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/nothing-here", good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/Not.An.Id"})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/campaigns/api-sale?plane=shadow"})

	for _, id := range []string{"api-sale", "api-quiz", "api-slow", "api-one", "api-rain"} {
		c.must(t, http.StatusOK, "", call{method: "POST", path: "/v1/campaigns/" + id + "/warmup", bearer: c.admin, good: true})
	}
	c.must(t, http.StatusOK, "", call{method: "POST", path: "/v1/campaigns/api-sale/warmup", bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "POST", path: "/v1/campaigns/nothing-here/warmup", bearer: c.admin, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: "/v1/campaigns/api-sale/warmup", bearer: bob})

	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-sale/stock", good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-cold/stock", bearer: bob, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/nothing-here/stock", good: true})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "GET", path: "/v1/campaigns/api-sale/stock?plane=both", bearer: c.admin})

	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-quiz/challenge-bank", bearer: c.admin, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-sale/challenge-bank", bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/nothing-here/challenge-bank", bearer: c.admin, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/campaigns/api-quiz/challenge-bank", bearer: bob})

	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-sale/stats", bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/nothing-here/stats", bearer: c.admin, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/campaigns/api-sale/stats", bearer: bob})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "GET", path: "/v1/campaigns/api-sale/stats?plane=both", bearer: c.admin})
}

// challengesAndClaims: challenges, and clicks through the whole funnel.
func (c *apiCheck) challengesAndClaims(t *testing.T) {
	alice, bob, carol := c.user(t, "alice"), c.user(t, "bob"), c.user(t, "carol")
	claims := func(id string) string { return "/v1/campaigns/" + id + "/claims" }
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	one := map[string]any{"sku": "cup", "qty": 1}

	var ch captcha.Challenge
	c.must(t, http.StatusCreated, "", call{method: "POST", path: "/v1/campaigns/api-quiz/challenges", bearer: alice, good: true}).decode(t, &ch)
	c.must(t, http.StatusNotFound, "no_challenge_bank", call{method: "POST", path: "/v1/campaigns/api-sale/challenges", bearer: alice, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "POST", path: "/v1/campaigns/api-cold/challenges", bearer: alice, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: "/v1/campaigns/api-quiz/challenges"})

	var bank struct {
		Answers map[string]string `json:"answers"`
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-quiz/challenge-bank", bearer: c.admin}).decode(t, &bank)
	c.must(t, http.StatusBadRequest, "challenge_required", call{method: "POST", path: claims("api-quiz"), bearer: alice, body: one, good: true})
	c.must(t, http.StatusGone, "challenge_gone", call{method: "POST", path: claims("api-quiz"), bearer: alice, good: true,
		body: map[string]any{"sku": "cup", "qty": 1, "challenge_id": "no-such-challenge", "answer": "123456"}})
	c.must(t, http.StatusBadRequest, "wrong_answer", call{method: "POST", path: claims("api-quiz"), bearer: alice, good: true,
		body: map[string]any{"sku": "cup", "qty": 1, "challenge_id": ch.ID, "answer": "not-digits"}})
	c.must(t, http.StatusCreated, "", call{method: "POST", path: "/v1/campaigns/api-quiz/challenges", bearer: alice, good: true}).decode(t, &ch)
	c.must(t, http.StatusAccepted, "", call{method: "POST", path: claims("api-quiz"), bearer: alice, good: true,
		body: map[string]any{"sku": "cup", "qty": 1, "challenge_id": ch.ID, "answer": bank.Answers[captcha.EntryOf(ch.ImageURL)]}})

	var first, again struct {
		ClaimID string `json:"claim_id"`
	}
	c.must(t, http.StatusAccepted, "", call{method: "POST", path: claims("api-sale"), bearer: alice, body: one, header: key("k1"), good: true}).decode(t, &first)
	c.must(t, http.StatusAccepted, "", call{method: "POST", path: claims("api-sale"), bearer: alice, body: one, header: key("k1"), good: true}).decode(t, &again)
	if first.ClaimID != again.ClaimID {
		t.Fatalf("a replay with the same Idempotency-Key made claim %s; want %s", again.ClaimID, first.ClaimID)
	}
	c.must(t, http.StatusConflict, "idempotency_key_reused", call{method: "POST", path: claims("api-sale"), bearer: alice,
		body: map[string]any{"sku": "cup", "qty": 2}, header: key("k1"), good: true})
	c.must(t, http.StatusBadRequest, "invalid_idempotency_key", call{method: "POST", path: claims("api-sale"), bearer: alice, body: one,
		header: key(strings.Repeat("k", 129))})
	c.must(t, http.StatusBadRequest, "missing_sku", call{method: "POST", path: claims("api-sale"), bearer: alice, body: map[string]any{"qty": 1}, good: true})
	c.must(t, http.StatusBadRequest, "unknown_sku", call{method: "POST", path: claims("api-sale"), bearer: alice, body: map[string]any{"sku": "mug", "qty": 1}, good: true})
	c.must(t, http.StatusBadRequest, "invalid_qty", call{method: "POST", path: claims("api-sale"), bearer: alice, body: map[string]any{"sku": "cup", "qty": 0}})
	c.must(t, http.StatusBadRequest, "qty_over_limit", call{method: "POST", path: claims("api-sale"), bearer: alice, body: map[string]any{"sku": "cup", "qty": 3}, good: true})
	c.must(t, http.StatusBadRequest, "sku_on_rain", call{method: "POST", path: claims("api-rain"), bearer: alice, body: one, good: true})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: claims("api-sale"), bearer: alice, body: `{"sku":"cup","qty":"1"}`})
	c.must(t, http.StatusRequestEntityTooLarge, "body_too_large", call{method: "POST", path: claims("api-sale"), bearer: alice,
		body: `{"sku":"` + strings.Repeat("c", 17<<10) + `"}`})
	c.must(t, http.StatusUnsupportedMediaType, "unsupported_media_type", call{method: "POST", path: claims("api-sale"), bearer: alice, body: `{}`, contentType: "-"})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: claims("api-sale"), bearer: "not.a.jwt", body: one})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "POST", path: claims("api-cold"), bearer: alice, body: one, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "POST", path: claims("nothing-here"), bearer: alice, body: `{"sku":`})

	c.must(t, http.StatusAccepted, "", call{method: "POST", path: claims("api-slow"), bearer: bob, body: one, good: true})
	if a := c.must(t, http.StatusTooManyRequests, "rate_limited_user", call{method: "POST", path: claims("api-slow"), bearer: bob, body: one, good: true}); a.header.Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}

	c.must(t, http.StatusAccepted, "", call{method: "POST", path: claims("api-one"), bearer: carol, body: one, good: true})
	for i := 0; ; i++ { // the sold-out flag is raised when prededuct takes the last unit
		a := c.do(t, call{method: "POST", path: claims("api-one"), bearer: c.user(t, fmt.Sprintf("late-%d", i)), body: one, good: true})
		if a.status == http.StatusConflict && a.code() == "sold_out" {
			break
		}
		if a.status != http.StatusAccepted || i == 100 {
			t.Fatalf("click %d on a sold-out sale: %d %s; want 409 sold_out", i, a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settledClaim clicks on api-sale as user and waits for the claim to be
// settled; it returns the claim's order number and receipt token.
func (c *apiCheck) settledClaim(t *testing.T, campaign, user string, body any) claimStatus {
	t.Helper()
	tok := c.user(t, user)
	var a struct {
		ClaimID string `json:"claim_id"`
	}
	c.must(t, http.StatusAccepted, "", call{method: "POST", path: "/v1/campaigns/" + campaign + "/claims", bearer: tok, body: body, good: true}).decode(t, &a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := c.s.api.poll(ctx, tok, a.ClaimID, func(st claimStatus) bool { return st.State == "settled" })
	if st.State != "settled" {
		t.Fatalf("claim %s of %s: %+v; want settled", a.ClaimID, user, st)
	}
	return st
}

// claimReads: a claim's state, with and without the long poll.
func (c *apiCheck) claimReads(t *testing.T) {
	dave, erin := c.user(t, "dave"), c.user(t, "erin")
	var a struct {
		ClaimID string `json:"claim_id"`
	}
	c.must(t, http.StatusAccepted, "", call{method: "POST", path: "/v1/campaigns/api-sale/claims", bearer: dave,
		body: map[string]any{"sku": "cup", "qty": 1}, good: true}).decode(t, &a)
	path := "/v1/claims/" + a.ClaimID
	c.must(t, http.StatusOK, "", call{method: "GET", path: path, bearer: dave, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: path + "?wait=5s&state=pending", bearer: dave, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: path + "?wait=100ms", bearer: dave, good: true})
	c.must(t, http.StatusBadRequest, "invalid_wait", call{method: "GET", path: path + "?wait=soon", bearer: dave})
	c.must(t, http.StatusBadRequest, "invalid_wait", call{method: "GET", path: path + "?wait=-1s", bearer: dave})
	c.must(t, http.StatusNotFound, "claim_not_found", call{method: "GET", path: path, bearer: erin, good: true})
	c.must(t, http.StatusNotFound, "claim_not_found", call{method: "GET", path: "/v1/claims/api-sale.rnothing", bearer: dave, good: true})
	c.must(t, http.StatusNotFound, "claim_not_found", call{method: "GET", path: "/v1/claims/garbage", bearer: dave, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: path})
}

// orders: the merged list and a payment.
func (c *apiCheck) orders(t *testing.T) {
	st := c.settledClaim(t, "api-sale", "frank", map[string]any{"sku": "cup", "qty": 1})
	frank, erin := c.user(t, "frank"), c.user(t, "erin")
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/orders", bearer: frank, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/orders", bearer: erin, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/orders", bearer: c.admin})

	pay := "/v1/orders/" + st.OrderNo + "/payment"
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	c.must(t, http.StatusOK, "", call{method: "POST", path: pay, bearer: frank, header: key("p1"), good: true})
	c.must(t, http.StatusOK, "", call{method: "POST", path: pay, bearer: frank, header: key("p1"), good: true})
	c.must(t, http.StatusConflict, "already_paid", call{method: "POST", path: pay, bearer: frank, header: key("p2"), good: true})
	c.must(t, http.StatusBadRequest, "idempotency_key_required", call{method: "POST", path: pay, bearer: frank})
	c.must(t, http.StatusNotFound, "order_not_found", call{method: "POST", path: pay, bearer: erin, header: key("p1"), good: true})
	c.must(t, http.StatusNotFound, "order_not_found", call{method: "POST", path: "/v1/orders/api-sale:cup:frank:9/payment", bearer: frank, header: key("p3"), good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: pay, header: key("p1")})
}

// wallet: a rain's packet in the wallet, a withdrawal, a presented token.
func (c *apiCheck) wallet(t *testing.T) {
	st := c.settledClaim(t, "api-rain", "gina", map[string]any{})
	gina, hank := c.user(t, "gina"), c.user(t, "hank")
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/wallet", bearer: gina, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/wallet", bearer: hank, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/wallet"})

	const w = "/v1/wallet/withdrawals"
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	c.must(t, http.StatusCreated, "", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 1}, header: key("w1"), good: true})
	c.must(t, http.StatusCreated, "", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 1}, header: key("w1"), good: true})
	c.must(t, http.StatusConflict, "idempotency_key_reused", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 2}, header: key("w1"), good: true})
	c.must(t, http.StatusConflict, "insufficient_balance", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 1_000_000}, header: key("w2"), good: true})
	c.must(t, http.StatusBadRequest, "invalid_amount", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 0}, header: key("w3")})
	c.must(t, http.StatusBadRequest, "invalid_amount", call{method: "POST", path: w, bearer: gina, body: `{}`, header: key("w3")})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: w, bearer: gina, body: `{"amount":1.5}`, header: key("w3")})
	c.must(t, http.StatusBadRequest, "idempotency_key_required", call{method: "POST", path: w, bearer: gina, body: map[string]any{"amount": 1}})
	c.must(t, http.StatusRequestEntityTooLarge, "body_too_large", call{method: "POST", path: w, bearer: gina, header: key("w3"),
		body: `{"amount":1` + strings.Repeat(" ", 17<<10) + `}`})
	c.must(t, http.StatusUnsupportedMediaType, "unsupported_media_type", call{method: "POST", path: w, bearer: gina, header: key("w3"),
		body: `amount=1`, contentType: "application/x-www-form-urlencoded"})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: w, body: map[string]any{"amount": 1}, header: key("w3")})

	const tokens = "/v1/wallet/tokens"
	c.must(t, http.StatusOK, "", call{method: "POST", path: tokens, bearer: gina, body: map[string]any{"token": st.Token}, good: true})
	c.must(t, http.StatusOK, "", call{method: "POST", path: tokens, bearer: gina, body: map[string]any{"token": st.Token}, good: true})
	c.must(t, http.StatusForbidden, "foreign_token", call{method: "POST", path: tokens, bearer: hank, body: map[string]any{"token": st.Token}, good: true})
	c.must(t, http.StatusForbidden, "forged_token", call{method: "POST", path: tokens, bearer: gina, body: map[string]any{"token": c.forge(t, st.Token)}, good: true})
	c.must(t, http.StatusBadRequest, "malformed_token", call{method: "POST", path: tokens, bearer: gina, body: map[string]any{"token": "not-a-token"}, good: true})
	c.must(t, http.StatusBadRequest, "missing_token", call{method: "POST", path: tokens, bearer: gina, body: map[string]any{"token": ""}, good: true})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "POST", path: tokens, bearer: gina, body: `["token"]`})
	c.must(t, http.StatusRequestEntityTooLarge, "body_too_large", call{method: "POST", path: tokens, bearer: gina,
		body: `{"token":"` + strings.Repeat("t", 17<<10) + `"}`})
	c.must(t, http.StatusUnsupportedMediaType, "unsupported_media_type", call{method: "POST", path: tokens, bearer: gina, body: `{}`, contentType: "text/json"})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: tokens, body: map[string]any{"token": st.Token}})
}

// forge signs token's receipt again with a key the engine does not trust.
func (c *apiCheck) forge(t *testing.T, token string) string {
	t.Helper()
	var set receipt.KeySet
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/keys"}).decode(t, &set)
	pub, err := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := receipt.NewVerifier(ed25519.PublicKey(pub)).Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	other, err := receipt.NewSigner(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Sign(rc)
	if err != nil {
		t.Fatal(err)
	}
	return forged
}

func (c *apiCheck) keys(t *testing.T) {
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/keys", good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/keys", bearer: "anything", good: true})
}

// deadLetters: a claim.requested posted to the broker without captcha's
// signature is poison, dead-lettered at once; it is listed and redriven
// (poison again), and a redrive the broker does not take is 502.
func (c *apiCheck) deadLetters(t *testing.T) {
	poison := events.ClaimRequested(events.ClaimRequestedData{ClaimID: keyspace.ClaimID("api-sale", "mallory-1"),
		CampaignID: "api-sale", UserID: "mallory", SKU: "cup", Qty: 1, RequestedAt: time.Now().UTC()})
	sink, err := fn.NewSink(c.s.BrokerURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Send(context.Background(), poison); err != nil {
		t.Fatal(err)
	}
	c.s.deadLetterCode(t, poison.ID())
	var page struct {
		Letters []struct {
			ID int64 `json:"id"`
		} `json:"dead_letters"`
	}
	const list = "/v1/dead-letters"
	c.must(t, http.StatusOK, "", call{method: "GET", path: list + "?campaign=api-sale&limit=10", bearer: c.admin, good: true}).decode(t, &page)
	if len(page.Letters) != 1 {
		t.Fatalf("%d dead letters of api-sale; want 1", len(page.Letters))
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: list + "?since=2020-01-01T00:00:00Z&type=" + events.TypeClaimRequested, bearer: c.admin, good: true})
	c.must(t, http.StatusOK, "", call{method: "GET", path: list + "?limit=1", bearer: c.admin, good: true})
	c.must(t, http.StatusBadRequest, "invalid_filter", call{method: "GET", path: list + "?limit=0", bearer: c.admin})
	c.must(t, http.StatusBadRequest, "invalid_filter", call{method: "GET", path: list + "?since=yesterday", bearer: c.admin})
	c.must(t, http.StatusBadRequest, "invalid_filter", call{method: "GET", path: list + "?cursor=abc", bearer: c.admin})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "GET", path: list + "?plane=mars", bearer: c.admin})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: list, bearer: c.user(t, "mallory")})

	one := fmt.Sprintf("/v1/dead-letters/%d/redrive", page.Letters[0].ID)
	c.must(t, http.StatusOK, "", call{method: "POST", path: one, bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "dead_letter_not_found", call{method: "POST", path: "/v1/dead-letters/999999/redrive", bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "dead_letter_not_found", call{method: "POST", path: "/v1/dead-letters/abc/redrive", bearer: c.admin, good: true})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "POST", path: one + "?plane=x", bearer: c.admin})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: one})

	const many = "/v1/dead-letters/redrive"
	c.must(t, http.StatusOK, "", call{method: "POST", path: many + "?campaign=api-sale", bearer: c.admin, good: true})
	c.must(t, http.StatusOK, "", call{method: "POST", path: many + "?campaign=nothing-here", bearer: c.admin, good: true})
	c.must(t, http.StatusBadRequest, "invalid_filter", call{method: "POST", path: many + "?limit=1001", bearer: c.admin})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: many, bearer: "wrong"})

	if err := c.s.Pause("broker"); err != nil {
		t.Fatal(err)
	}
	c.must(t, http.StatusBadGateway, "broker_unavailable", call{method: "POST", path: one, bearer: c.admin, good: true})
	c.must(t, http.StatusBadGateway, "broker_unavailable", call{method: "POST", path: many + "?campaign=api-sale", bearer: c.admin, good: true})
	if err := c.s.Resume("broker"); err != nil {
		t.Fatal(err)
	}
}

// reconcile: a pass now and the reports.
func (c *apiCheck) reconcile(t *testing.T) {
	const path = "/v1/campaigns/api-sale/reconcile"
	c.must(t, http.StatusOK, "", call{method: "POST", path: path, bearer: c.admin, good: true})
	c.must(t, http.StatusOK, "", call{method: "POST", path: "/v1/campaigns/api-rain/reconcile", bearer: c.admin, good: true})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "POST", path: "/v1/campaigns/nothing-here/reconcile", bearer: c.admin, good: true})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "POST", path: path + "?plane=mars", bearer: c.admin})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "POST", path: path, bearer: c.user(t, "mallory")})

	var got struct {
		Reports []json.RawMessage `json:"reports"`
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: path + "?limit=5", bearer: c.admin, good: true}).decode(t, &got)
	if len(got.Reports) == 0 {
		t.Error("no report listed after a pass")
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/campaigns/api-cold/reconcile", bearer: c.admin, good: true})
	c.must(t, http.StatusBadRequest, "invalid_limit", call{method: "GET", path: path + "?limit=101", bearer: c.admin})
	c.must(t, http.StatusNotFound, "campaign_not_found", call{method: "GET", path: "/v1/campaigns/nothing-here/reconcile", bearer: c.admin, good: true})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: path})
}

// covered fails for every API route of the gateway this test did not see
// reply both a 2xx and a 4xx: a route added to the gateway must be
// described in api/openapi.yaml and driven here.
func (c *apiCheck) covered(t *testing.T) {
	for _, r := range gateway.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") {
			continue // a page, not an API call
		}
		statuses := c.seen[api.Operation{Method: r.Method, Path: api.Shape(r.Path)}]
		good := slices.ContainsFunc(statuses, func(s int) bool { return s/100 == 2 })
		bad := slices.ContainsFunc(statuses, func(s int) bool { return s/100 == 4 }) || !c.refuses(r)
		if !good || !bad {
			t.Errorf("%s %s (%s) answered %v here; describe it in api/openapi.yaml and drive it in TestAPIAsDocumented with good and bad input (a 2xx, and a 4xx where it has any)",
				r.Method, r.Path, r.Service, statuses)
		}
	}
}

// refuses reports whether the document lists a 4xx for route r (true
// when it does not describe r: then r must be driven with bad input too).
func (c *apiCheck) refuses(r gateway.Route) bool {
	for path, item := range c.doc.Paths.Map() {
		op := item.GetOperation(r.Method)
		if op == nil || api.Shape(path) != api.Shape(r.Path) {
			continue
		}
		for code := range op.Responses.Map() {
			if strings.HasPrefix(code, "4") {
				return true
			}
		}
		return false
	}
	return true
}

// switches sets a switch of each scope and back off, and sends the
// changes that cannot be made: none of them changes the record.
func (c *apiCheck) switches(t *testing.T) {
	var list struct {
		Switches []json.RawMessage `json:"switches"`
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/switches", bearer: c.admin, good: true}).decode(t, &list)
	if len(list.Switches) != 0 {
		t.Fatalf("switches set before any was: %s", list.Switches)
	}
	put := func(name string) string { return "/v1/switches/" + name }
	c.must(t, http.StatusOK, "", call{method: "PUT", path: put("shed_fraction"), bearer: c.admin, body: map[string]any{"value": 0.5, "by": "api-test", "reason": "check"}, good: true})
	c.must(t, http.StatusOK, "", call{method: "PUT", path: put("shed_fraction"), bearer: c.admin, body: map[string]any{"value": 0}, good: true})
	c.must(t, http.StatusOK, "", call{method: "PUT", path: put("sold_out"), bearer: c.admin, body: map[string]any{"value": false, "campaign": "api-sale", "sku": "cup"}, good: true})
	c.must(t, http.StatusOK, "", call{method: "PUT", path: put("skip_captcha") + "?plane=shadow", bearer: c.admin, body: map[string]any{"value": false, "campaign": "api-sale"}, good: true})
	c.must(t, http.StatusNotFound, "switch_not_found", call{method: "PUT", path: put("self_destruct"), bearer: c.admin, body: map[string]any{"value": true}})
	c.must(t, http.StatusBadRequest, "invalid_value", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: map[string]any{"value": "yes"}, good: true})
	c.must(t, http.StatusBadRequest, "invalid_value", call{method: "PUT", path: put("shed_fraction"), bearer: c.admin, body: map[string]any{"value": 2}, good: true})
	c.must(t, http.StatusBadRequest, "invalid_value", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: map[string]any{}})
	c.must(t, http.StatusBadRequest, "invalid_scope", call{method: "PUT", path: put("sold_out"), bearer: c.admin, body: map[string]any{"value": true, "campaign": "api-sale"}, good: true})
	c.must(t, http.StatusBadRequest, "invalid_scope", call{method: "PUT", path: put("skip_captcha"), bearer: c.admin, body: map[string]any{"value": true}, good: true})
	c.must(t, http.StatusBadRequest, "invalid_scope", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: map[string]any{"value": true, "campaign": "api-sale"}, good: true})
	c.must(t, http.StatusBadRequest, "malformed_json", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: `{"value": true, "color": "red"}`})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "PUT", path: put("pause_claims") + "?plane=mars", bearer: c.admin, body: map[string]any{"value": true}})
	c.must(t, http.StatusUnsupportedMediaType, "unsupported_media_type", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: `{"value": true}`, contentType: "text/plain"})
	c.must(t, http.StatusRequestEntityTooLarge, "body_too_large", call{method: "PUT", path: put("pause_claims"), bearer: c.admin, body: `{"reason": "` + strings.Repeat("x", 20<<10) + `"}`})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "PUT", path: put("pause_claims"), bearer: c.user(t, "mallory"), body: map[string]any{"value": true}})
	c.must(t, http.StatusUnauthorized, "unauthorized", call{method: "GET", path: "/v1/switches"})
	c.must(t, http.StatusBadRequest, "invalid_plane", call{method: "GET", path: "/v1/switches?plane=both", bearer: c.admin})
	var after struct {
		Switches []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"switches"`
	}
	c.must(t, http.StatusOK, "", call{method: "GET", path: "/v1/switches", bearer: c.admin, good: true}).decode(t, &after)
	if len(after.Switches) != 2 || after.Switches[0].Name != "shed_fraction" || string(after.Switches[0].Value) != "0" ||
		after.Switches[1].Name != "sold_out" || string(after.Switches[1].Value) != "false" {
		t.Fatalf("switches after the changes: %+v; want shed_fraction 0 and sold_out false only", after.Switches)
	}
}
