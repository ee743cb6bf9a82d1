package cebinary_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/surgekit/surge/shared/cebinary"
)

// full has every attribute and extensions of several types.
func full() event.Event {
	e := event.New()
	e.SetID("id-1")
	e.SetType("test.full.v1")
	e.SetSource("/test/source")
	e.SetSubject("subject-1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
	e.SetDataSchema("https://example.com/schema")
	e.SetExtension("partitionkey", "c1/u")
	e.SetExtension("knativeerrorcode", 503)
	e.SetExtension("flag", true)
	_ = e.SetData(event.ApplicationJSON, map[string]string{"k": "v"})
	return e
}

func events() map[string]event.Event {
	noData := full()
	noData.DataEncoded = nil
	noData.SetDataContentType("")
	minimal := event.New()
	minimal.SetID("m")
	minimal.SetType("test.min.v1")
	minimal.SetSource("/m")
	text := full()
	_ = text.SetData("text/plain; charset=utf-8", []byte("plain"))
	return map[string]event.Event{"full": full(), "no data": noData, "minimal": minimal, "text": text}
}

// sdkRequest is e as the sdk writes a binary-mode request.
func sdkRequest(t *testing.T, e event.Event) (http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return req.Header, body
}

// sdkDecode is the event the sdk reads from header and body.
func sdkDecode(t *testing.T, h http.Header, body []byte) *event.Event {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header = h.Clone()
	e, err := cehttp.NewEventFromHTTPRequest(req)
	if err != nil {
		t.Fatalf("the sdk cannot read the request: %v", err)
	}
	return e
}

func sameEvent(t *testing.T, what string, got, want *event.Event) {
	t.Helper()
	if !reflect.DeepEqual(got.Context.AsV1(), want.Context.AsV1()) {
		t.Errorf("%s: context = %s; want %s", what, got.Context, want.Context)
	}
	if !bytes.Equal(got.Data(), want.Data()) {
		t.Errorf("%s: data = %q; want %q", what, got.Data(), want.Data())
	}
}

func TestDecodeAsTheSDK(t *testing.T) {
	for name, e := range events() {
		h, body := sdkRequest(t, e)
		if !cebinary.IsBinaryV1(h) {
			t.Fatalf("%s: IsBinaryV1 = false for the sdk's binary request", name)
		}
		got, err := cebinary.Decode(h, body)
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		sameEvent(t, name, got, sdkDecode(t, h, body))
	}
}

func TestSetHeadersAsTheSDK(t *testing.T) {
	for name, e := range events() {
		want, _ := sdkRequest(t, e)
		delete(want, "Content-Length")
		got := http.Header{}
		if err := cebinary.SetHeaders(got, &e); err != nil {
			t.Fatalf("%s: SetHeaders: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: headers = %v; want the sdk's %v", name, got, want)
		}
	}
}

// TestRoundTripCaseSensitive writes headers into a map that keeps keys as
// given (a NATS header) and reads them back.
func TestRoundTripCaseSensitive(t *testing.T) {
	for name, e := range events() {
		stored := map[string][]string{}
		if err := cebinary.SetHeaders(stored, &e); err != nil {
			t.Fatalf("%s: SetHeaders: %v", name, err)
		}
		stored["Nats-Msg-Id"] = []string{"not an attribute"}
		got, err := cebinary.Decode(stored, e.Data())
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		sameEvent(t, name, got, stringExtensions(t, e))
	}
}

// stringExtensions is e with its extensions as the strings headers carry.
func stringExtensions(t *testing.T, e event.Event) *event.Event {
	t.Helper()
	out := e.Clone()
	for k, v := range out.Extensions() {
		s, err := types.Format(v)
		if err != nil {
			t.Fatal(err)
		}
		out.SetExtension(k, s)
	}
	return &out
}

func TestIsBinaryV1(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want bool
	}{
		{"binary 1.0", http.Header{"Ce-Specversion": {"1.0"}, "Content-Type": {"application/json"}}, true},
		{"binary 0.3", http.Header{"Ce-Specversion": {"0.3"}}, false},
		{"structured", http.Header{"Ce-Specversion": {"1.0"}, "Content-Type": {"application/cloudevents+json"}}, false},
		{"batch", http.Header{"Content-Type": {"application/cloudevents-batch+json"}}, false},
		{"no headers", http.Header{}, false},
	}
	for _, tt := range tests {
		if got := cebinary.IsBinaryV1(tt.h); got != tt.want {
			t.Errorf("%s: IsBinaryV1 = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, header, value string }{
		{"bad ce-time", "Ce-Time", "yesterday"},
		{"bad ce-source", "Ce-Source", "%zz"},
		{"bad extension name", "Ce-Bad_name", "x"},
		{"extension named like an attribute", "Ce-Datacontenttype", "x"},
	}
	for _, tt := range tests {
		h, body := sdkRequest(t, full())
		h[tt.header] = []string{tt.value}
		if _, err := cebinary.Decode(h, body); err == nil {
			t.Errorf("%s: Decode succeeded; want an error", tt.name)
		}
	}
}

func TestSetHeadersRefusesV03(t *testing.T) {
	e := full()
	e.SetSpecVersion(event.CloudEventsVersionV03)
	if err := cebinary.SetHeaders(http.Header{}, &e); !errors.Is(err, cebinary.ErrNotV1) {
		t.Errorf("SetHeaders of a 0.3 event: err = %v; want ErrNotV1", err)
	}
}
