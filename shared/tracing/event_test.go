package tracing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/cebinary"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/tracing"
)

func spanContext(t *testing.T, state string) trace.SpanContext {
	t.Helper()
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ts, err := trace.ParseTraceState(state)
	if err != nil {
		t.Fatal(err)
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, TraceState: ts})
}

func claimEvent() event.Event {
	return events.ClaimReserved(events.ClaimReservedData{ClaimID: "c1", CampaignID: "k", UserID: "u", SKU: "s", Qty: 1, Seq: 1, FirstSlot: 1})
}

// The context set on an event comes back out of it after the event went
// through the binary-mode headers (HTTP and the broker's store) and JSON
// (structured mode, the store's fallback).
func TestTraceContextSurvivesTheWire(t *testing.T) {
	want := spanContext(t, "surge=1")
	e := claimEvent()
	tracing.Inject(trace.ContextWithSpanContext(context.Background(), want), &e)
	if got := e.Extensions()[tracing.TraceParent]; got != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent = %v", got)
	}
	h := http.Header{}
	if err := cebinary.SetHeaders(h, &e); err != nil {
		t.Fatal(err)
	}
	if h.Get("Ce-Traceparent") == "" || h.Get("Ce-Tracestate") != "surge=1" {
		t.Fatalf("headers %v lack ce-traceparent/ce-tracestate", h)
	}
	bin, err := cebinary.Decode(h, e.Data())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var structured event.Event
	if err := json.Unmarshal(raw, &structured); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]event.Event{"binary": *bin, "json": structured} {
		sc := tracing.SpanContext(got)
		if !sc.Equal(want.WithRemote(true)) {
			t.Errorf("%s: span context %v, want %v", name, sc, want)
		}
	}
}

func TestInjectReplacesAStaleContextAndSkipsAnInvalidOne(t *testing.T) {
	e := claimEvent()
	tracing.Inject(context.Background(), &e)
	if _, ok := e.Extensions()[tracing.TraceParent]; ok {
		t.Fatal("a context without a span set a traceparent")
	}
	tracing.Inject(trace.ContextWithSpanContext(context.Background(), spanContext(t, "old=1")), &e)
	fresh := spanContext(t, "")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	fresh = fresh.WithTraceID(tid)
	tracing.Inject(trace.ContextWithSpanContext(context.Background(), fresh), &e)
	if _, ok := e.Extensions()[tracing.TraceState]; ok {
		t.Error("the old tracestate outlived the new traceparent")
	}
	if got := tracing.SpanContext(e).TraceID(); got != tid {
		t.Errorf("trace id %v, want %v", got, tid)
	}
}

func TestExtractIgnoresAMalformedTraceparent(t *testing.T) {
	e := claimEvent()
	e.SetExtension(tracing.TraceParent, "not-a-traceparent")
	if sc := tracing.SpanContext(e); sc.IsValid() {
		t.Errorf("malformed traceparent gave %v", sc)
	}
}

// The signature leaves the tracing extension out: a hop that rewrites it
// keeps the event verified.
func TestSignatureSurvivesANewTraceparent(t *testing.T) {
	key, err := eventsig.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := claimEvent()
	if err := key.Sign(&e); err != nil {
		t.Fatal(err)
	}
	tracing.Inject(trace.ContextWithSpanContext(context.Background(), spanContext(t, "a=b")), &e)
	if err := key.Verify(e); err != nil {
		t.Errorf("verify after a new traceparent: %v", err)
	}
}
