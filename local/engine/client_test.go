package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/campaign"
)

// client drives the public API through the gateway as users and operator.
type client struct {
	base   string
	admin  string
	secret []byte
	http   *http.Client
}

func newClient(base, adminToken, jwtSecret string) *client {
	return &client{base: base, admin: adminToken, secret: []byte(jwtSecret), http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512},
	}}
}

// do sends body (nil, []byte or a value to encode) with bearer and decodes
// the JSON answer into out when out is not nil.
func (c *client) do(ctx context.Context, method, path, bearer string, body, out any) (int, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", data, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *client) token(t testing.TB, user string) string {
	t.Helper()
	tok, err := auth.SignUser(c.secret, user, time.Hour)
	if err != nil {
		t.Fatalf("sign jwt: %v", err)
	}
	return tok
}

// must fails the test unless the call answers want.
func (c *client) must(t testing.TB, want int, method, path, bearer string, body, out any) {
	t.Helper()
	got, err := c.do(context.Background(), method, path, bearer, body, out)
	if err != nil || got != want {
		t.Fatalf("%s %s: status %d (err %v), want %d", method, path, got, err, want)
	}
}

type sale struct {
	ID        string
	SKU       string
	Stock     int
	Limit     int
	Limits    *campaign.Limits // the rate limits; nil: the deployment's
	PayWithin time.Duration    // the payment window; 0: 10 minutes
}

// openSale creates a sale that is open now, without captcha, and warms it up.
func (c *client) openSale(t testing.TB, s sale) {
	t.Helper()
	now := time.Now().UTC()
	window := "10m"
	if s.PayWithin > 0 {
		window = s.PayWithin.String()
	}
	body := map[string]any{
		"id": s.ID, "kind": "sale", "title": "e2e " + s.ID,
		"items":          []map[string]any{{"sku": s.SKU, "stock": s.Stock, "price": 9900}},
		"per_user_limit": s.Limit, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour),
		"payment_window": window, "captcha": false, "limits": s.Limits,
	}
	c.must(t, http.StatusCreated, http.MethodPost, "/v1/campaigns", c.admin, body, nil)
	c.must(t, http.StatusOK, http.MethodPost, "/v1/campaigns/"+s.ID+"/warmup", c.admin, nil, nil)
}

// accepted is the answer to a click: a 202's claim, or a refusal's error.
type accepted struct {
	ClaimID   string `json:"claim_id"`
	StatusURL string `json:"status_url"`
	Error     struct {
		Code string `json:"code"`
	} `json:"error"`
	retryAfter time.Duration // Retry-After-Ms of a 429 or 503
}

type claimStatus struct {
	ClaimID string `json:"claim_id"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	OrderNo string `json:"order_no"`
	Token   string `json:"receipt_token"`
}

// clicks is what a crowd's clicks were answered: the claim id of each
// accepted one (202), and when each sold-out answer (409 sold_out) came.
type clicks struct {
	claims  map[string]string    // user → claim id
	soldOut map[string]time.Time // user → when the 409 arrived
}

// crowd makes users user-0..user-(n-1) claim one unit each, all at once.
// Every click must be accepted (202) or answered sold out (409 sold_out).
func (c *client) crowd(t testing.TB, campaignID, sku string, n int) clicks {
	t.Helper()
	return c.crowdFrom(t, campaignID, sku, 0, n)
}

// crowdFrom is crowd of users user-from..user-(from+n-1).
func (c *client) crowdFrom(t testing.TB, campaignID, sku string, from, n int) clicks {
	t.Helper()
	var mu sync.Mutex
	got := clicks{claims: make(map[string]string, n), soldOut: make(map[string]time.Time)}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := from; i < from+n; i++ {
		user := fmt.Sprintf("user-%d", i)
		tok := c.token(t, user)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, status, err := c.claim(campaignID, sku, user, tok)
			at := time.Now()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && status == http.StatusAccepted:
				got.claims[user] = a.ClaimID
			case err == nil && status == http.StatusConflict && a.Error.Code == "sold_out":
				got.soldOut[user] = at
			default:
				errs <- fmt.Errorf("claim by %s: status %d %+v, err %v", user, status, a, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return got
}

// claim clicks once as a patient client does: on 503, 429 or a broken
// connection it clicks again with the same Idempotency-Key (so the retry
// is the same claim), no sooner than the answer's Retry-After-Ms, for up
// to a minute. An empty sku is a rain's grab.
func (c *client) claim(campaignID, sku, user, tok string) (accepted, int, error) {
	body := []byte(`{"qty":1}`)
	if sku != "" {
		body, _ = json.Marshal(map[string]any{"sku": sku, "qty": 1})
	}
	var (
		a      accepted
		status int
		err    error
	)
	for attempt, t0 := 1, time.Now(); time.Since(t0) < time.Minute; attempt++ {
		a, status, err = c.post(campaignID, user, tok, body)
		if err == nil && status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			return a, status, nil
		}
		time.Sleep(max(min(time.Duration(attempt)*100*time.Millisecond, time.Second), a.retryAfter))
	}
	return a, status, err
}

func (c *client) post(campaignID, user, tok string, body []byte) (accepted, int, error) {
	var a accepted
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/campaigns/"+campaignID+"/claims", bytes.NewReader(body))
	if err != nil {
		return a, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", "click-"+user)
	resp, err := c.http.Do(req)
	if err != nil {
		return a, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusConflict {
		err = json.NewDecoder(resp.Body).Decode(&a)
	}
	if ms, convErr := strconv.Atoi(resp.Header.Get("Retry-After-Ms")); convErr == nil {
		a.retryAfter = time.Duration(ms) * time.Millisecond
	}
	return a, resp.StatusCode, err
}

// await polls every claim until done accepts its status, with 32 pollers,
// and returns user → last status.
func (c *client) await(t testing.TB, claims map[string]string, done func(claimStatus) bool) map[string]claimStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type job struct{ user, claim string }
	jobs := make(chan job)
	var mu sync.Mutex
	out := make(map[string]claimStatus, len(claims))
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				st := c.poll(ctx, c.token(t, j.user), j.claim, done)
				mu.Lock()
				out[j.user] = st
				mu.Unlock()
			}
		}()
	}
	for user, id := range claims {
		jobs <- job{user, id}
	}
	close(jobs)
	wg.Wait()
	for user, st := range out {
		if !done(st) {
			t.Fatalf("claim %s of %s stuck at %+v", claims[user], user, st)
		}
	}
	return out
}

func (c *client) poll(ctx context.Context, tok, claimID string, done func(claimStatus) bool) claimStatus {
	var st claimStatus
	for ctx.Err() == nil {
		st = claimStatus{}
		status, err := c.do(ctx, http.MethodGet, "/v1/claims/"+claimID, tok, nil, &st)
		if err == nil && status == http.StatusOK && done(st) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	return st
}

type orderList struct {
	Orders []struct {
		OrderNo string    `json:"order_no"`
		State   string    `json:"state"`
		PayBy   time.Time `json:"pay_by"`
	} `json:"orders"`
}

// orders returns the caller's order numbers → state from GET /v1/orders.
func (c *client) orders(t testing.TB, user string) map[string][]string {
	t.Helper()
	var l orderList
	c.must(t, http.StatusOK, http.MethodGet, "/v1/orders", c.token(t, user), nil, &l)
	got := make(map[string][]string)
	for _, o := range l.Orders {
		got[o.OrderNo] = append(got[o.OrderNo], o.State)
	}
	return got
}
