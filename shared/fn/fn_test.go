package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
)

var discard = slog.New(slog.DiscardHandler)

// function is a fake EventHandler that answers with reply and err and counts
// its calls.
type function struct {
	reply *event.Event
	err   error
	calls atomic.Int32
}

func (f *function) Handle(_ context.Context, _ event.Event) (*event.Event, error) {
	f.calls.Add(1)
	return f.reply, f.err
}

// hooked adds health hooks to a function.
type hooked struct {
	function
	ready, alive bool
}

func (h *hooked) Ready(context.Context) (bool, error) { return h.ready, nil }
func (h *hooked) Alive(context.Context) (bool, error) { return h.alive, nil }

func handler(t *testing.T, f fn.Function) http.Handler {
	t.Helper()
	h, err := fn.Handler(discard, f)
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	return h
}

func input() event.Event {
	return events.ClaimRequested(events.ClaimRequestedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", SKU: "s", Qty: 1})
}

// post sends e to h as a binary-mode CloudEvent over HTTP.
func post(t *testing.T, h http.Handler, e event.Event) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatalf("WriteRequest: %v", err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestReplyIsBinaryEvent(t *testing.T) {
	want := events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Reason: "sold_out"}, input().Time())
	resp := post(t, handler(t, &function{reply: &want}), input())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; want 200", resp.StatusCode)
	}
	for h, v := range map[string]string{"Ce-Id": want.ID(), "Ce-Type": want.Type(), "Ce-Source": want.Source(), "Ce-Specversion": "1.0", "Ce-Partitionkey": "c1/u"} {
		if got := resp.Header.Get(h); got != v {
			t.Errorf("header %s = %q; want %q", h, got, v)
		}
	}
	got, err := cehttp.NewEventFromHTTPResponse(resp)
	if err != nil {
		t.Fatalf("reply is no CloudEvent: %v", err)
	}
	if !bytes.Equal(got.Data(), want.Data()) {
		t.Errorf("reply data = %s; want %s", got.Data(), want.Data())
	}
}

func TestNoReplyIs202(t *testing.T) {
	f := &function{}
	if got := post(t, handler(t, f), input()).StatusCode; got != http.StatusAccepted {
		t.Errorf("status = %d; want 202", got)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("Handle called %d times; want 1", got)
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("decode: %w", fn.ErrPoison), http.StatusBadRequest},
		{fmt.Errorf("decode: %w", events.ErrInvalid), http.StatusBadRequest},
		{fmt.Errorf("claim: %w", fn.ErrConflict), http.StatusConflict},
		{fmt.Errorf("shed: %w", fn.ErrBusy), http.StatusTooManyRequests},
		{fmt.Errorf("redis: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{fmt.Errorf("settlement: %w", fn.ErrPaused), http.StatusServiceUnavailable},
		{errors.New("connection refused"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := fn.Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %d; want %d", tt.err, got, tt.want)
		}
		resp := post(t, handler(t, &function{err: tt.err}), input())
		if resp.StatusCode != tt.want {
			t.Errorf("handler error %v: status = %d; want %d", tt.err, resp.StatusCode, tt.want)
		}
		if paused := resp.Header.Get(fn.PausedHeader) != ""; paused != errors.Is(tt.err, fn.ErrPaused) {
			t.Errorf("handler error %v: %s header %q", tt.err, fn.PausedHeader, resp.Header.Get(fn.PausedHeader))
		}
		var body struct{ Error struct{ Code string } }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code == "" {
			t.Errorf("handler error %v: body not the JSON error shape: %v", tt.err, err)
		}
	}
}

func TestRejectedRequests(t *testing.T) {
	big := input()
	if err := big.SetData(event.ApplicationJSON, map[string]string{"pad": strings.Repeat("x", fn.MaxEventBytes)}); err != nil {
		t.Fatal(err)
	}
	binaryNoID := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
		r.Header.Set("Ce-Specversion", "1.0")
		r.Header.Set("Ce-Type", events.TypeClaimRequested)
		r.Header.Set("Ce-Source", "/x")
		return r
	}
	structuredBad := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"specversion":"1.0",`))
		r.Header.Set("Content-Type", "application/cloudevents+json")
		return r
	}
	tooBig := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&big), r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"plain JSON, no CloudEvent", func() *http.Request { return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`)) }, http.StatusBadRequest},
		{"binary without ce-id", binaryNoID, http.StatusBadRequest},
		{"structured, malformed", structuredBad, http.StatusBadRequest},
		{"body over 1 MiB", tooBig, http.StatusRequestEntityTooLarge},
		{"GET on the event path", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &function{}
			rec := httptest.NewRecorder()
			handler(t, f).ServeHTTP(rec, tt.req())
			if rec.Code != tt.want {
				t.Errorf("status = %d; want %d (body %s)", rec.Code, tt.want, rec.Body)
			}
			if got := f.calls.Load(); got != 0 {
				t.Errorf("Handle called %d times; want 0", got)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name      string
		f         fn.Function
		readiness int
		liveness  int
	}{
		{"no hooks", &function{}, 200, 200},
		{"ready and alive", &hooked{ready: true, alive: true}, 200, 200},
		{"not ready", &hooked{ready: false, alive: true}, 503, 200},
		{"not alive", &hooked{ready: true, alive: false}, 200, 503},
	}
	for _, tt := range tests {
		h := handler(t, tt.f)
		for path, want := range map[string]int{
			"/health/readiness": tt.readiness, "/health/liveness": tt.liveness,
			"/_/ready": tt.readiness, "/_/health": tt.liveness, // the OpenFaaS watchdog's paths
		} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != want {
				t.Errorf("%s: GET %s = %d; want %d", tt.name, path, rec.Code, want)
			}
		}
	}
}

func TestHTTPFunctionServedAsIs(t *testing.T) {
	f := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	})
	rec := httptest.NewRecorder()
	handler(t, f).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/keys", nil))
	if rec.Code != http.StatusTeapot || rec.Body.String() != "GET /v1/keys" {
		t.Errorf("GET /v1/keys = %d %q; want 418 %q", rec.Code, rec.Body, "GET /v1/keys")
	}
}

func TestNeitherHandlerIsError(t *testing.T) {
	if _, err := fn.Handler(discard, struct{ Name string }{"x"}); err == nil {
		t.Error("Handler(struct without Handle or ServeHTTP) = nil error; want an error")
	}
}
