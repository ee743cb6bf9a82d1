package fn_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/surgekit/surge/events"
)

// recorder is an EventHandler that keeps the event it was given and
// answers with reply.
type recorder struct {
	mu    sync.Mutex
	got   *event.Event
	reply *event.Event
}

func (r *recorder) Handle(_ context.Context, e event.Event) (*event.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = &e
	return r.reply, nil
}

// full is an event with every attribute set and extensions of several
// types.
func full() event.Event {
	e := input()
	e.SetSubject("c1.a")
	e.SetDataSchema("https://surgekit.dev/schemas/claim-requested.json")
	e.SetTime(time.Date(2026, 11, 11, 0, 0, 0, 123456789, time.UTC))
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	e.SetExtension("attempt", 3)
	return e
}

// request writes e to a new request, structured when asked.
func request(t *testing.T, e event.Event, structured bool) *http.Request {
	t.Helper()
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		t.Fatalf("WriteRequest: %v", err)
	}
	return req
}

// sdkDecode is the event the sdk reads from a copy of req: what the host
// must hand the function.
func sdkDecode(t *testing.T, req *http.Request) *event.Event {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	cp := req.Clone(context.Background())
	cp.Body = io.NopCloser(bytes.NewReader(body))
	e, err := cehttp.NewEventFromHTTPRequest(cp)
	if err != nil {
		t.Fatalf("the sdk cannot read the request: %v", err)
	}
	return e
}

func sameEvent(t *testing.T, what string, got, want *event.Event) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no event; want %s", what, want)
	}
	if !reflect.DeepEqual(got.Context.AsV1(), want.Context.AsV1()) {
		t.Errorf("%s: context = %s; want %s", what, got.Context, want.Context)
	}
	if !bytes.Equal(got.Data(), want.Data()) {
		t.Errorf("%s: data = %q; want %q", what, got.Data(), want.Data())
	}
}

// TestHostDecodesAsTheSDK posts events in binary and structured mode and
// checks that the function gets what the sdk decodes from the same request.
func TestHostDecodesAsTheSDK(t *testing.T) {
	noData := input()
	noData.DataEncoded = nil
	noData.SetDataContentType("")
	v03 := full()
	v03.SetSpecVersion(event.CloudEventsVersionV03)
	tests := []struct {
		name string
		e    event.Event
	}{
		{"claim.requested", input()},
		{"every attribute, extensions", full()},
		{"no data", noData},
		{"spec 0.3", v03},
	}
	for _, tt := range tests {
		for _, structured := range []bool{false, true} {
			what := tt.name + map[bool]string{false: " (binary)", true: " (structured)"}[structured]
			req := request(t, tt.e, structured)
			want := sdkDecode(t, req)
			f := &recorder{}
			rec := httptest.NewRecorder()
			handler(t, f).ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				t.Errorf("%s: status = %d; want 202 (body %s)", what, rec.Code, rec.Body)
				continue
			}
			sameEvent(t, what, f.got, want)
		}
	}
}

// TestReplyRoundTrip checks that a reply with every attribute and extension
// reads back, through the sdk, as the event the function returned.
func TestReplyRoundTrip(t *testing.T) {
	reserved := events.ClaimReserved(events.ClaimReservedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Qty: 1,
		Seq: 1, FirstSlot: 1, ReservedAt: time.Unix(1700000000, 5).UTC(), PayBy: time.Unix(1700000600, 0).UTC()})
	text := full()
	if err := text.SetData("text/plain; charset=utf-8", []byte("plain")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []event.Event{reserved, full(), text} {
		f := &recorder{reply: &want}
		resp := post(t, handler(t, f), input())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status = %d; want 200", want.Type(), resp.StatusCode)
		}
		if got := resp.Header.Get("Ce-Partitionkey"); got != "c1/u" {
			t.Errorf("%s: Ce-Partitionkey = %q; want %q", want.Type(), got, "c1/u")
		}
		if got := resp.Header.Get("Content-Type"); got != want.DataContentType() {
			t.Errorf("%s: Content-Type = %q; want %q", want.Type(), got, want.DataContentType())
		}
		got, err := cehttp.NewEventFromHTTPResponse(resp)
		if err != nil {
			t.Fatalf("%s: reply is no CloudEvent: %v", want.Type(), err)
		}
		// Extensions travel as strings in HTTP headers.
		exp := want.Clone()
		for k, v := range exp.Extensions() {
			s, err := types.Format(v)
			if err != nil {
				t.Fatal(err)
			}
			exp.SetExtension(k, s)
		}
		sameEvent(t, want.Type(), got, &exp)
	}
}

// TestMalformedBinary sends binary-mode requests the host must refuse
// with 400 before the function sees them.
func TestMalformedBinary(t *testing.T) {
	tests := []struct {
		name   string
		header string
		value  string
	}{
		{"bad ce-time", "Ce-Time", "yesterday"},
		{"bad ce-source", "Ce-Source", "%zz"},
		{"empty ce-type", "Ce-Type", ""},
		{"bad extension name", "Ce-Bad_name", "x"},
		{"extension named like an attribute", "Ce-Datacontenttype", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, input(), false)
			req.Header[tt.header] = []string{tt.value}
			f := &function{}
			rec := httptest.NewRecorder()
			handler(t, f).ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d; want 400 (body %s)", rec.Code, rec.Body)
			}
			if got := f.calls.Load(); got != 0 {
				t.Errorf("Handle called %d times; want 0", got)
			}
		})
	}
}

// TestChunkedBodyOverLimit sends a body of unknown length over
// MaxEventBytes: 413, as when Content-Length says so.
func TestChunkedBodyOverLimit(t *testing.T) {
	req := request(t, input(), false)
	req.Body = io.NopCloser(strings.NewReader(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`))
	req.ContentLength = -1
	f := &function{}
	rec := httptest.NewRecorder()
	handler(t, f).ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d; want 413", rec.Code)
	}
	if got := f.calls.Load(); got != 0 {
		t.Errorf("Handle called %d times; want 0", got)
	}
}
