package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/local/crowd"
	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
)

// The shadow test's sale: a live campaign of shadowStock units, mirrored to
// the shadow plane, where a crowd of shadowCrowd users sells out its
// shadow; real buyers buy realFirst units during that run and realAfter
// once the shadow has sold out.
const (
	shadowStock = 100
	shadowCrowd = 10_000
	realFirst   = 60
	realAfter   = 20
)

// TestShadowCrowdBesideRealBuyers: 10,000 shadow users (ids shared with
// the real buyers) click on a live campaign's shadow while real users buy
// it, through the gateway. Real stock, orders, wallets and the campaign's
// reconcile report are exactly what the real buyers did, the shadow's
// sell-out never answers a real click sold out, a bare shadow header on a
// real token stays real and a forged shadow token is refused; the shadow
// plane holds the rest.
func TestShadowCrowdBesideRealBuyers(t *testing.T) {
	e, env, secrets := suite.Start(t, engine.Config{Env: []string{"SURGE_LIMIT_IP_PER_SEC=0"}}) // every user is on loopback
	s := &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
	s.api.openSale(t, sale{ID: "live", SKU: "phone-x", Stock: shadowStock, Limit: 1})
	s.api.must(t, http.StatusOK, http.MethodPost, "/v1/campaigns/live/warmup?plane=shadow", s.api.admin, nil, nil)
	forgedShadowRefused(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var shadowRun crowd.Result
	var shadowErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		shadowRun, shadowErr = crowd.Run(ctx, crowd.Config{
			BaseURL: e.URL(), JWTSecret: secrets.JWTSecret, UserPrefix: "user-", Users: shadowCrowd,
			Campaign:    crowd.Campaign{ID: "live", SKU: "phone-x", Stock: shadowStock, Limit: 1, Shadow: true},
			Concurrency: 64, RetryOn5xx: true, Pollers: 128, Timeout: time.Minute,
		})
	})
	waitShadowFiring(t, s)
	during := s.buy(t, "live", "phone-x", 0, realFirst)
	wg.Wait()
	if shadowErr != nil {
		t.Fatal(shadowErr)
	}
	after := s.buy(t, "live", "phone-x", realFirst, realAfter, "X-Surge-Shadow", "true", "Ce-Surgeshadow", "true")
	bought := s.api.await(t, merge(during, after), func(st claimStatus) bool { return st.State == "settled" || st.State == "rejected" })
	for user, st := range bought {
		if st.State != "settled" {
			t.Fatalf("real buyer %s: claim %+v; want settled (the shadow's sell-out is not the real stock's)", user, st)
		}
	}

	assertShadowCrowd(t, shadowRun)
	buyers := sortedUsers(bought)
	assertRealPlane(t, s, buyers)
	assertShadowPlane(t, s, buyers)
	t.Logf("shadow: %d clicks in %.1fs, %d winners, reasons %v; real: %d buyers, all settled",
		shadowRun.Counts.Clicks, shadowRun.Seconds, shadowRun.Counts.Winners, shadowRun.Counts.Reasons, len(buyers))
}

// forgedShadowRefused: a shadow JWT signed with the wrong key is a 401 on
// every user call, and nothing lands on the shadow plane.
func forgedShadowRefused(t *testing.T, s *stack) {
	t.Helper()
	forged, err := auth.Sign([]byte("not-the-secret"), auth.Caller{User: "user-0", Shadow: true}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path string }{
		{http.MethodPost, "/v1/campaigns/live/claims"}, {http.MethodPost, "/v1/campaigns/live/challenges"},
		{http.MethodGet, "/v1/orders"}, {http.MethodGet, "/v1/claims/live.x"},
	} {
		var body any
		if call.method == http.MethodPost {
			body = map[string]any{"sku": "phone-x", "qty": 1}
		}
		s.api.must(t, http.StatusUnauthorized, call.method, call.path, forged, body, nil)
	}
	if left := s.remainingOn(t, plane.Shadow, "live", "phone-x"); left != shadowStock {
		t.Fatalf("shadow remaining %d after forged clicks, want %d", left, shadowStock)
	}
}

// waitShadowFiring waits until the shadow crowd has taken a first unit.
func waitShadowFiring(t *testing.T, s *stack) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); s.remainingOn(t, plane.Shadow, "live", "phone-x") == shadowStock; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the shadow crowd took no unit in a minute")
		}
	}
}

// buy makes real users user-from..user-(from+n-1) click once each, at once,
// with header on every click; each must be accepted.
func (s *stack) buy(t *testing.T, campaignID, sku string, from, n int, header ...string) map[string]string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"sku": sku, "qty": 1})
	var mu sync.Mutex
	claims := make(map[string]string, n)
	var wg sync.WaitGroup
	for i := from; i < from+n; i++ {
		user := fmt.Sprintf("user-%d", i)
		tok := s.api.token(t, user)
		wg.Go(func() {
			id, err := s.click(campaignID, tok, body, header...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("real click of %s: %v", user, err)
				return
			}
			claims[user] = id
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return claims
}

// click posts one claim with header and returns its id, after up to
// three retries of a 503 after its Retry-After-Ms, as a patient buyer
// retries (a refused claim leaves nothing behind, so a retry is a clean
// new claim); anything but a 202 in the end is an error. The 503s are the
// engine shedding while the test's machine is busy, not the shadow plane
// leaking into the real one, which is what the callers test.
func (s *stack) click(campaignID, tok string, body []byte, header ...string) (string, error) {
	var err error
	for range 4 {
		var id string
		var wait time.Duration
		if id, wait, err = s.clickOnce(campaignID, tok, body, header...); err == nil || wait == 0 {
			return id, err
		}
		time.Sleep(wait)
	}
	return "", err
}

// clickOnce is one attempt of click; wait is the Retry-After-Ms of a 503.
func (s *stack) clickOnce(campaignID, tok string, body []byte, header ...string) (id string, wait time.Duration, err error) {
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/v1/campaigns/"+campaignID+"/claims", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.api.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var a accepted
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusAccepted {
		if ms, convErr := strconv.Atoi(resp.Header.Get("Retry-After-Ms")); resp.StatusCode == http.StatusServiceUnavailable && convErr == nil {
			wait = time.Duration(ms) * time.Millisecond
		}
		return "", wait, fmt.Errorf("status %d %+v (%v); want 202", resp.StatusCode, a, err)
	}
	return a.ClaimID, 0, nil
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func sortedUsers(m map[string]claimStatus) []string {
	out := make([]string, 0, len(m))
	for u := range m {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// assertShadowCrowd: the crowd's own invariants, checked through the
// public API as shadow users, and every click answered.
func assertShadowCrowd(t *testing.T, res crowd.Result) {
	t.Helper()
	for _, c := range res.Failed() {
		t.Errorf("shadow crowd invariant %q failed: %s", c.Name, c.Detail)
	}
	if n := res.Counts; n.Clicks != shadowCrowd || n.Failed != 0 || n.Winners != shadowStock || n.Settled != shadowStock {
		t.Errorf("shadow crowd: %d clicks, %d failed, %d winners, %d settled; want %d, 0, %d, %d (errors %v)",
			n.Clicks, n.Failed, n.Winners, n.Settled, shadowCrowd, shadowStock, shadowStock, res.Errors)
	}
}

// assertRealPlane: the real plane holds the real buyers' orders and
// nothing else, in PostgreSQL, in Redis, in their wallets, in the stock
// view and in the reconcile report.
func assertRealPlane(t *testing.T, s *stack, buyers []string) {
	t.Helper()
	if got := s.orderUsers(t, "public", "live"); !slices.Equal(got, buyers) {
		t.Fatalf("real orders of %d users %v; want the %d real buyers", len(got), head(got), len(buyers))
	}
	want := shadowStock - len(buyers)
	if left := s.remainingOn(t, plane.Real, "live", "phone-x"); left != want {
		t.Fatalf("real remaining %d, want %d", left, want)
	}
	var v struct {
		State string `json:"state"`
		Items []struct {
			Remaining int `json:"remaining"`
		} `json:"items"`
	}
	s.api.must(t, http.StatusOK, http.MethodGet, "/v1/campaigns/live/stock", "", nil, &v)
	if v.State != "open" || v.Items[0].Remaining != want {
		t.Fatalf("real stock view %+v; want open with %d left", v, want)
	}
	for _, u := range buyers {
		if orders := s.api.orders(t, u); len(orders) != 1 || !slices.Equal(orders["live:phone-x:"+u+":1"], []string{"settled"}) {
			t.Fatalf("real orders of %s: %v; want its one order, settled", u, orders)
		}
	}
	if orders := s.api.orders(t, "user-9999"); len(orders) != 0 { // clicked only in the shadow
		t.Fatalf("real orders of a shadow-only user: %v; want none", orders)
	}
	if r := s.reconcileOn(t, plane.Real); r.Taken != len(buyers) || r.Accounted != len(buyers) || r.Mismatch {
		t.Fatalf("real reconcile of live: %+v; want %d taken and accounted", r, len(buyers))
	}
}

// assertShadowPlane: the shadow plane holds the crowd's orders (in its
// schema), its stock (in its keys) and its own report; a user who bought
// on both planes sees only the shadow order with a shadow token.
func assertShadowPlane(t *testing.T, s *stack, buyers []string) {
	t.Helper()
	winners := s.orderUsers(t, plane.ShadowSchema, "live")
	if len(winners) != shadowStock {
		t.Fatalf("shadow schema holds orders of %d users; want %d", len(winners), shadowStock)
	}
	if left := s.remainingOn(t, plane.Shadow, "live", "phone-x"); left != 0 {
		t.Fatalf("shadow remaining %d, want 0", left)
	}
	if r := s.reconcileOn(t, plane.Shadow); r.Taken != shadowStock || r.Accounted != shadowStock || r.Mismatch {
		t.Fatalf("shadow reconcile of live: %+v; want %d taken and accounted", r, shadowStock)
	}
	for _, u := range winners[:5] {
		tok, err := auth.Sign(s.api.secret, auth.Caller{User: u, Shadow: true}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var l orderList
		s.api.must(t, http.StatusOK, http.MethodGet, "/v1/orders", tok, nil, &l)
		if len(l.Orders) != 1 || l.Orders[0].OrderNo != "live:phone-x:"+u+":1" || l.Orders[0].State != "settled" {
			t.Fatalf("shadow orders of %s: %+v; want its one shadow order (real buyer: %v)", u, l.Orders, slices.Contains(buyers, u))
		}
	}
}

func head(users []string) []string { return users[:min(5, len(users))] }

// remainingOn reads a SKU's stock left in Redis on plane p.
func (s *stack) remainingOn(t *testing.T, p plane.Plane, campaignID, sku string) int {
	t.Helper()
	n, err := s.redis(t).Get(context.Background(), p.Keys(keyspace.New(s.env.KeyPrefix)).Campaign(campaignID).Stock(sku)).Int()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// orderUsers lists, sorted, the users with an order of campaignID in schema.
func (s *stack) orderUsers(t *testing.T, schema, campaignID string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(),
		`SELECT user_id FROM `+pgx.Identifier{schema, "orders"}.Sanitize()+` WHERE campaign_id = $1 ORDER BY user_id`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// campaignReport is a campaign's line in a reconcile report.
type campaignReport struct {
	ID        string `json:"campaign_id"`
	Taken     int    `json:"taken"`
	Accounted int    `json:"accounted"`
	Mismatch  bool   `json:"mismatch"`
}

// reconcileOn runs a reconcile pass on plane p and returns campaign live's
// line of the report it stored in S3.
func (s *stack) reconcileOn(t *testing.T, p plane.Plane) campaignReport {
	t.Helper()
	sum := s.ping(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj, err := s.s3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.env.S3Bucket), Key: aws.String(sum.ReportKey)})
	if err != nil {
		t.Fatalf("report %s: %v", sum.ReportKey, err)
	}
	defer obj.Body.Close()
	var report struct {
		Campaigns []campaignReport `json:"campaigns"`
	}
	if err := json.NewDecoder(obj.Body).Decode(&report); err != nil {
		t.Fatal(err)
	}
	if len(report.Campaigns) != 1 || report.Campaigns[0].ID != "live" {
		t.Fatalf("%v report %s lists %+v; want campaign live alone", p, sum.ReportKey, report.Campaigns)
	}
	return report.Campaigns[0]
}
