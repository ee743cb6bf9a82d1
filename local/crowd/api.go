package crowd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/captcha"
)

// api is the public HTTP API of one deployment.
type api struct {
	base string
	http *http.Client
}

// newAPI is a client of the deployment at base with up to conns
// connections, dialled from sources in turn (any address when none).
func newAPI(base string, conns int, timeout time.Duration, sources ...netip.Addr) *api {
	return &api{base: base, http: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			IdleConnTimeout: 90 * time.Second, DialContext: dialFrom(sources),
		},
	}}
}

// dialFrom dials from each of sources in turn; nil (the default dialer)
// when there is none.
func dialFrom(sources []netip.Addr) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if len(sources) == 0 {
		return nil
	}
	var next atomic.Uint64
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		src := sources[(next.Add(1)-1)%uint64(len(sources))]
		d := net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
		return d.DialContext(ctx, network, addr)
	}
}

// reply is one HTTP answer: its status, Retry-After and body.
type reply struct {
	status     int
	retryAfter time.Duration
	body       []byte
}

// do sends body (nil or a value to encode) with bearer and extra headers.
// A transport error comes back as err with status 0.
func (a *api) do(ctx context.Context, method, path, bearer string, body any, header ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	rep := reply{status: resp.StatusCode, body: data}
	if s, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil {
		rep.retryAfter = time.Duration(s) * time.Second
	}
	return rep, err
}

// call is do that wants status and decodes the body into out (when not nil).
func (a *api) call(ctx context.Context, want int, method, path, bearer string, body, out any) error {
	rep, err := a.do(ctx, method, path, bearer, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if rep.status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, rep.status, want, rep.body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rep.body, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// OpenSale creates c (a sale or a rain) through the admin API of the
// deployment at baseURL, open from a minute ago for a day, and warms it up
// (on the shadow plane when c.Shadow).
func OpenSale(ctx context.Context, baseURL, adminToken string, c Campaign) error {
	if c.Price == 0 {
		c.Price = 9900
	}
	return newAPI(baseURL, 2, 30*time.Second).open(ctx, adminToken, c)
}

// open creates c, open from a minute ago for a day, and warms it up (a
// rain's budget is split then).
func (a *api) open(ctx context.Context, admin string, c Campaign) error {
	now := time.Now().UTC()
	body := map[string]any{
		"id": c.ID, "kind": campaign.KindSale, "title": "crowd " + c.ID,
		"items":          []map[string]any{{"sku": c.SKU, "stock": c.Stock, "price": c.Price}},
		"per_user_limit": c.Limit, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(24 * time.Hour),
		"payment_window": "10m", "captcha": c.Captcha, "expected_crowd": c.ExpectedCrowd, "limits": c.Limits,
	}
	if c.rain() {
		delete(body, "items")
		delete(body, "payment_window")
		body["kind"], body["budget"], body["packets"] = campaign.KindRain, c.Budget, c.Stock
	}
	if err := a.call(ctx, http.StatusCreated, http.MethodPost, "/v1/campaigns"+c.plane(), admin, body, nil); err != nil {
		return fmt.Errorf("crowd: create campaign: %w", err)
	}
	if err := a.call(ctx, http.StatusOK, http.MethodPost, "/v1/campaigns/"+c.ID+"/warmup"+c.plane(), admin, nil, nil); err != nil {
		return fmt.Errorf("crowd: warm up campaign: %w", err)
	}
	return nil
}

// challenge asks the public endpoint for a challenge and answers it from
// the bank (operator access): the image's name is its bank entry.
func (a *api) challenge(ctx context.Context, bank *bankAnswers, campaign, token string, think time.Duration) (string, string, error) {
	path := "/v1/campaigns/" + campaign + "/challenges"
	rep, err := a.do(ctx, http.MethodPost, path, token, nil)
	if err == nil && soldOut(rep) {
		return "", "", ErrSoldOut
	}
	if err != nil || rep.status != http.StatusCreated {
		return "", "", fmt.Errorf("POST %s: status %d, want 201: %s: %w", path, rep.status, rep.body, err)
	}
	var ch captcha.Challenge
	if err := json.Unmarshal(rep.body, &ch); err != nil {
		return "", "", fmt.Errorf("POST %s: decode: %w", path, err)
	}
	answer, err := bank.answer(ctx, captcha.EntryOf(ch.ImageURL))
	if err != nil {
		return "", "", fmt.Errorf("challenge %s: %w", ch.ID, err)
	}
	if think > 0 {
		select {
		case <-time.After(think):
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
	}
	return ch.ID, answer, nil
}

// claimStatus is GET /v1/claims/{id}.
type claimStatus struct {
	State   string `json:"state"`
	Reason  string `json:"reason"`
	OrderNo string `json:"order_no"`
}

// stockView is GET /v1/campaigns/{id}/stock.
type stockView struct {
	State string `json:"state"`
	Items []struct {
		SKU       string `json:"sku"`
		Remaining int    `json:"remaining"`
	} `json:"items"`
}

// orderList is GET /v1/orders.
type orderList struct {
	Orders []struct {
		OrderNo    string `json:"order_no"`
		State      string `json:"state"`
		CampaignID string `json:"campaign_id"`
		Qty        int    `json:"qty"`
	} `json:"orders"`
}
