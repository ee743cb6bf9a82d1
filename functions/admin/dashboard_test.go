package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/stats"
)

func (fx *fixture) loginWith(t *testing.T, token string) *httptest.ResponseRecorder {
	t.Helper()
	form := []byte(url.Values{"token": {token}}.Encode())
	return fx.call(t, http.MethodPost, "/dashboard/login", "", form, "Content-Type", "application/x-www-form-urlencoded")
}

// session logs in and returns the session cookie as a Cookie header.
func (fx *fixture) session(t *testing.T) string {
	t.Helper()
	w := fx.loginWith(t, adminToken)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s; want 303", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies; want 1", len(cookies))
	}
	return cookies[0].Name + "=" + cookies[0].Value
}

func TestDashboardLogin(t *testing.T) {
	fx := newFixture(t)
	w := fx.call(t, http.MethodGet, "/dashboard", "", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="token"`) || len(w.Result().Cookies()) != 0 {
		t.Fatalf("dashboard without a session: %d, cookies %v; want 200 and the login form, no cookie", w.Code, w.Result().Cookies())
	}
	for _, wrong := range []string{"", "not-it", adminToken + "x"} {
		w := fx.loginWith(t, wrong)
		if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 || !strings.Contains(w.Body.String(), "Wrong admin token") {
			t.Errorf("login with %q: %d, cookies %v; want 401, the form again and no cookie", wrong, w.Code, w.Result().Cookies())
		}
	}

	w = fx.loginWith(t, adminToken)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard" {
		t.Fatalf("login: %d to %q; want 303 to /dashboard", w.Code, w.Header().Get("Location"))
	}
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/dashboard" || c.MaxAge <= 0 || c.Secure {
		t.Errorf("cookie %+v; want HttpOnly, SameSite=Strict, Path /dashboard, a max age, not Secure over plain HTTP", c)
	}
	if strings.Contains(c.Value, adminToken) {
		t.Errorf("cookie %q holds the admin token", c.Value)
	}
	cookie := c.Name + "=" + c.Value
	if w := fx.call(t, http.MethodGet, "/dashboard", "", nil, "Cookie", cookie); !strings.Contains(w.Body.String(), `id="campaign"`) {
		t.Errorf("dashboard with the session: %d; want the dashboard page", w.Code)
	}
	overTLS := fx.call(t, http.MethodPost, "/dashboard/login", "", []byte("token="+adminToken),
		"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-Proto", "https")
	if cs := overTLS.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("login behind TLS: cookies %v; want one Secure cookie", cs)
	}

	exp, _, _ := strings.Cut(c.Value, ".")
	forged := []string{
		c.Name + "=" + c.Value + "x",
		c.Name + "=" + "9999999999." + strings.SplitN(c.Value, ".", 2)[1], // a later expiry, the old MAC
		c.Name + "=" + exp,
		c.Name + "=",
	}
	for _, bad := range forged {
		if w := fx.call(t, http.MethodGet, "/dashboard", "", nil, "Cookie", bad); strings.Contains(w.Body.String(), `id="campaign"`) {
			t.Errorf("dashboard with cookie %q: the dashboard; want the login form", bad)
		}
	}
	fx.clock.Add(13 * time.Hour)
	if w := fx.call(t, http.MethodGet, "/dashboard", "", nil, "Cookie", cookie); strings.Contains(w.Body.String(), `id="campaign"`) {
		t.Error("dashboard with an expired session: the dashboard; want the login form")
	}
}

func TestDashboardCalls(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("shown"))
	cookie := fx.session(t)
	cases := []struct {
		name, path, bearer string
		header             []string
		want               int
		code               string
	}{
		{"campaigns without a session", "/dashboard/campaigns", "", nil, 401, "unauthorized"},
		{"campaigns with a forged cookie", "/dashboard/campaigns", "", []string{"Cookie", "surge_dashboard=1.x"}, 401, "unauthorized"},
		{"campaigns with a user's token", "/dashboard/campaigns", "eyJhbGciOiJIUzI1NiJ9.e30.x", nil, 401, "unauthorized"},
		{"campaigns", "/dashboard/campaigns", "", []string{"Cookie", cookie}, 200, ""},
		{"events without a session", "/dashboard/events?campaign=shown", "", nil, 401, "unauthorized"},
		{"events with a wrong token", "/dashboard/events?campaign=shown", "not-it", nil, 401, "unauthorized"},
		{"events of an unknown campaign", "/dashboard/events?campaign=nothing", "", []string{"Cookie", cookie}, 404, "campaign_not_found"},
		{"events of no campaign", "/dashboard/events", "", []string{"Cookie", cookie}, 404, "campaign_not_found"},
		{"events of a bad id", "/dashboard/events?campaign=Bad.Id", adminToken, nil, 404, "campaign_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fx.call(t, http.MethodGet, tc.path, tc.bearer, nil, tc.header...)
			if w.Code != tc.want || httpapitest.ErrorCode(w) != tc.code {
				t.Fatalf("status %d %s; want %d %q", w.Code, w.Body, tc.want, tc.code)
			}
		})
	}
	w := fx.call(t, http.MethodGet, "/dashboard/campaigns", "", nil, "Cookie", cookie)
	if got := httpapitest.Decode[map[string][]string](t, w)["campaigns"]; len(got) != 1 || got[0] != "shown" {
		t.Errorf("campaigns %v; want [shown]", got)
	}
}

// A frame is the campaign as Redis, PostgreSQL and S3 hold it: stock
// left, the statistics' totals, the last seconds' rates and latencies,
// dead letters, the last reconcile verdict and the switches; the backlog
// is not available without a broker.
func TestDashboardFrame(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("live"))
	if w := fx.call(t, http.MethodPost, "/v1/campaigns/live/warmup", adminToken, nil); w.Code != http.StatusOK {
		t.Fatalf("warmup: %d %s", w.Code, w.Body)
	}
	ctx := context.Background()
	counter := stats.New(fx.rdb, fx.keys)
	counter.Click("live", "alice", "")
	counter.Click("live", "bob", "")
	counter.Click("live", "carol", "sold_out")
	counter.Decided("live", "", 30*time.Millisecond)
	counter.Decided("live", "limit_reached", 40*time.Millisecond)
	counter.Settled("live", 150*time.Millisecond)
	if err := counter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fx.put(t, deadClaim(t, "live", "dave", false))
	if err := fx.rdb.HSet(ctx, fx.keys.Switches(), "version", "3", "pause_claims", "true").Err(); err != nil {
		t.Fatal(err)
	}
	report := `{"key":"reconcile/20261203T120000.000Z-tick.json","finished_at":"2026-12-03T12:00:01Z","campaigns":[` +
		`{"campaign_id":"live","taken":2,"accounted":1,"difference":1,"mismatch":true,"repairs":1}]}`
	if _, err := fx.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(fx.bucket),
		Key: aws.String("reconcile/20261203T120000.000Z-tick.json"), Body: strings.NewReader(report)}); err != nil {
		t.Fatal(err)
	}
	fx.clock.Add(time.Since(fx.clock.Now()) + 3*time.Second) // the counted second is complete

	frames := fx.stream(t, "live", 2)
	f := frames[0]
	if f.CampaignID != "live" || f.Kind != "sale" || f.Stock.State != "open" || len(f.Stock.Items) != 2 ||
		f.Stock.Items[0].Remaining != 10 || f.Stock.Items[1].Remaining != 3 || f.Budget != nil {
		t.Errorf("frame campaign %s %s, stock %+v, budget %v; want the open sale with 10 and 3 left", f.CampaignID, f.Kind, f.Stock, f.Budget)
	}
	tot := f.Totals
	if tot.Clicks != 3 || tot.Accepted != 2 || tot.Rejected["sold_out"] != 1 || tot.Wins != 1 ||
		tot.Failures["limit_reached"] != 1 || tot.Settlements != 1 {
		t.Errorf("totals %+v; want 3 clicks, 2 accepted, 1 sold out, 1 win, 1 limit_reached, 1 settled", tot)
	}
	sum := func(xs []int64) (n int64) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	if len(f.Live.Clicks) != liveSpan || sum(f.Live.Clicks) != 3 || sum(f.Live.Decisions) != 2 || sum(f.Live.Settlements) != 1 {
		t.Errorf("live clicks %d, decisions %d, settlements %d over %d s; want 3, 2, 1 over %d", sum(f.Live.Clicks),
			sum(f.Live.Decisions), sum(f.Live.Settlements), len(f.Live.Clicks), liveSpan)
	}
	if d, s := f.Live.Decision, f.Live.Settlement; d.Count != 2 || d.P50 < 20 || d.P50 > 50 || s.Count != 1 || s.P99 < 100 || s.P99 > 200 {
		t.Errorf("latencies decision %+v, settlement %+v; want 2 decisions in 20–50 ms, 1 settlement in 100–200 ms", d, s)
	}
	if f.DeadLetters.Total != 1 || f.DeadLetters.Waiting != 1 {
		t.Errorf("dead letters %+v; want 1 waiting", f.DeadLetters)
	}
	if v := f.Reconcile; v == nil || !v.Mismatch || v.Difference != 1 || v.Repairs != 1 || v.ReportKey == "" {
		t.Errorf("reconcile %+v; want the report's mismatch of 1 with 1 repair", v)
	}
	if f.Switches["pause_claims"] != "true" || f.Switches["version"] != "3" {
		t.Errorf("switches %v; want pause_claims true at version 3", f.Switches)
	}
	if f.Backlog.Available || !strings.Contains(f.Backlog.Reason, "not available") {
		t.Errorf("backlog %+v; want not available without a broker", f.Backlog)
	}
	if !frames[1].At.After(frames[0].At) && !frames[1].At.Equal(frames[0].At) {
		t.Errorf("second frame at %v before the first at %v", frames[1].At, frames[0].At)
	}
}

func TestDashboardFrameOfARain(t *testing.T) {
	fx := newFixture(t)
	now := time.Now().UTC()
	fx.mustCreate(t, map[string]any{"id": "drops", "kind": "rain", "title": "rain", "budget": 100000, "packets": 100,
		"per_user_limit": 1, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour), "captcha": false})
	if w := fx.call(t, http.MethodPost, "/v1/campaigns/drops/warmup", adminToken, nil); w.Code != http.StatusOK {
		t.Fatalf("warmup: %d %s", w.Code, w.Body)
	}
	if err := fx.rdb.Set(context.Background(), fx.keys.Campaign("drops").Issued(), 2500, 0).Err(); err != nil {
		t.Fatal(err)
	}
	f := fx.stream(t, "drops", 1)[0]
	if b := f.Budget; b == nil || b.Budget != 100000 || b.Issued != 2500 || b.Left != 97500 {
		t.Errorf("budget %+v; want 97500 of 100000 left", b)
	}
	if len(f.Stock.Items) != 1 || f.Stock.Items[0].Remaining != 100 || len(f.Switches) != 0 || f.Reconcile != nil {
		t.Errorf("stock %+v, switches %v, reconcile %v; want 100 packets, no switch, no verdict", f.Stock, f.Switches, f.Reconcile)
	}
}

// stream reads n frames of campaign from the events stream, as the
// browser's EventSource would.
func (fx *fixture) stream(t *testing.T, campaign string, n int) []Frame {
	t.Helper()
	srv := httptest.NewServer(fx.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/dashboard/events?campaign="+campaign, nil)
	req.Header.Set("Cookie", fx.session(t))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var frames []Frame
	event := ""
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for len(frames) < n && lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if event != "frame" {
				t.Fatalf("event %q: %s; want a frame", event, line)
			}
			var f Frame
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &f); err != nil {
				t.Fatal(err)
			}
			frames = append(frames, f)
		}
	}
	if len(frames) < n {
		t.Fatalf("stream ended after %d frames (%v); want %d", len(frames), lines.Err(), n)
	}
	return frames
}
