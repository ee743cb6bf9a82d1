package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/tracing"
)

const (
	parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan  = "00f067aa0ba902b7"
	traceparent = "00-" + parentTrace + "-" + parentSpan + "-01"
)

// observed is f hosted with tracing recorded in memory and its log lines
// in a buffer.
func observed(t *testing.T, f fn.Function, opts ...fn.Option) (http.Handler, *tracetest.SpanRecorder, *bytes.Buffer) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tr := tracing.NewTracing(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h, err := fn.Handler(log, f, append([]fn.Option{fn.WithTracing(tr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h, spans, &buf
}

func oneLine(t *testing.T, buf *bytes.Buffer, msg string) map[string]any {
	t.Helper()
	var found []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %q lines, want 1: %s", len(found), msg, buf.String())
	}
	return found[0]
}

// An event with a traceparent is handled in a child span of it; the
// reply carries that span's context, and the event's line its trace id.
func TestHostContinuesTheEventsTraceAndLogsIt(t *testing.T) {
	reply := events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Reason: "sold_out"}, input().Time())
	h, spans, buf := observed(t, &function{reply: &reply})
	in := input()
	in.SetExtension(tracing.TraceParent, traceparent)
	resp := post(t, h, in)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	span := ended[0]
	if span.Name() != events.TypeClaimRequested || span.Parent().SpanID().String() != parentSpan ||
		span.SpanContext().TraceID().String() != parentTrace {
		t.Errorf("span %q, trace %s, parent %s; want %q in trace %s under %s", span.Name(),
			span.SpanContext().TraceID(), span.Parent().SpanID(), events.TypeClaimRequested, parentTrace, parentSpan)
	}
	got, err := cehttp.NewEventFromHTTPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if sc := tracing.SpanContext(*got); sc.SpanID() != span.SpanContext().SpanID() || sc.TraceID() != span.SpanContext().TraceID() {
		t.Errorf("reply traceparent %v, want the handler's span %v", got.Extensions()[tracing.TraceParent], span.SpanContext())
	}
	line := oneLine(t, buf, "handled event")
	want := map[string]any{"event_id": in.ID(), "event_type": in.Type(), "outcome": "claim.rejected", "status": 200.0, "trace_id": parentTrace}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("line %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("line has no duration_ms: %v", line)
	}
}

// With tracing off the host neither needs nor adds a traceparent, and
// still writes the line, without a trace id.
func TestHostWithoutTracing(t *testing.T) {
	reply := events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Reason: "sold_out"}, input().Time())
	var buf bytes.Buffer
	h, err := fn.Handler(slog.New(slog.NewJSONHandler(&buf, nil)), &function{reply: &reply})
	if err != nil {
		t.Fatal(err)
	}
	resp := post(t, h, input())
	got, err := cehttp.NewEventFromHTTPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Extensions()[tracing.TraceParent]; ok {
		t.Error("reply got a traceparent with tracing off")
	}
	line := oneLine(t, &buf, "handled event")
	if _, ok := line["trace_id"]; ok {
		t.Errorf("trace_id without tracing: %v", line)
	}
}

func TestLinesOff(t *testing.T) {
	h, spans, buf := observed(t, &function{}, fn.WithLineLimit(0))
	post(t, h, input())
	if buf.Len() != 0 {
		t.Errorf("lines written with SURGE_LOG_EVENTS=off: %s", buf.String())
	}
	if len(spans.Ended()) != 1 {
		t.Errorf("%d spans, want 1: lines off leaves tracing on", len(spans.Ended()))
	}
}

// routed is an HTTP function with a mux, as captcha's.
type routed struct{ mux *http.ServeMux }

func newRouted(sink *fn.Sink) *routed {
	f := &routed{mux: http.NewServeMux()}
	f.mux.HandleFunc("POST /v1/campaigns/{id}/claims", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "gone" {
			httpapi.WriteError(w, httpapi.Errorf(http.StatusConflict, "sold_out", "sold out"))
			return
		}
		if err := sink.Send(r.Context(), input()); err != nil {
			httpapi.WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return f
}

func (f *routed) ServeHTTP(w http.ResponseWriter, r *http.Request) { fn.Serve(f.mux, w, r) }

// A request continues the trace of its traceparent header: its span is
// named after the route, the event the function sends carries the send's
// span, and the request's line has the route, outcome and trace id.
func TestHostTracesAndLogsARequest(t *testing.T) {
	var sent *event.Event
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			t.Error(err)
		}
		sent = e
		w.WriteHeader(http.StatusAccepted)
	}))
	defer broker.Close()
	sink, err := fn.NewSink(broker.URL)
	if err != nil {
		t.Fatal(err)
	}
	h, spans, buf := observed(t, newRouted(sink))
	req := httptest.NewRequest(http.MethodPost, "/v1/campaigns/k1/claims", nil)
	req.Header.Set("Traceparent", traceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d", rec.Code)
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = s
	}
	server, send := byName["POST /v1/campaigns/{id}/claims"], byName["send "+events.TypeClaimRequested]
	if server == nil || send == nil {
		t.Fatalf("spans %v: want the route's and the send's", byName)
	}
	if server.Parent().SpanID().String() != parentSpan || send.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("parents: request under %s, send under %s", server.Parent().SpanID(), send.Parent().SpanID())
	}
	if sent == nil || tracing.SpanContext(*sent).SpanID() != send.SpanContext().SpanID() {
		t.Errorf("the sent event's traceparent is not the send's span")
	}
	line := oneLine(t, buf, "handled request")
	want := map[string]any{"method": "POST", "route": "/v1/campaigns/{id}/claims", "path": "/v1/campaigns/k1/claims",
		"status": 202.0, "outcome": "ok", "trace_id": parentTrace}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("line %s = %v, want %v", k, line[k], v)
		}
	}
}

func TestRequestLineNamesTheErrorCode(t *testing.T) {
	h, _, buf := observed(t, newRouted(nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/campaigns/gone/claims", nil))
	if rec.Code != http.StatusConflict {
		t.Fatalf("status %d", rec.Code)
	}
	line := oneLine(t, buf, "handled request")
	if line["outcome"] != "sold_out" || line["status"] != 409.0 {
		t.Errorf("line %v: want outcome sold_out, status 409", line)
	}
	if _, ok := line["trace_id"].(string); !ok {
		t.Errorf("a request without traceparent starts a trace; line %v has no trace_id", line)
	}
}

// noting handles as function does and names its outcome with SetOutcome.
type noting struct {
	function
	outcome string
}

func (n *noting) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	fn.SetOutcome(ctx, n.outcome)
	return n.function.Handle(ctx, e)
}

// An outcome the handler names is what the line and the span say instead
// of the reply's type; an error still names the outcome by its status.
func TestHandlerNamesItsOutcome(t *testing.T) {
	reply := events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Reason: "sold_out"}, input().Time())
	tests := []struct {
		name string
		f    *noting
		want string
	}{
		{"reply", &noting{function: function{reply: &reply}, outcome: "sold_out"}, "sold_out"},
		{"error", &noting{function: function{err: fn.ErrPoison}, outcome: "sold_out"}, "poison"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, spans, buf := observed(t, tt.f)
			post(t, h, input())
			if got := oneLine(t, buf, "handled event")["outcome"]; got != tt.want {
				t.Errorf("line outcome %v; want %s", got, tt.want)
			}
			ended := spans.Ended()
			if len(ended) != 1 {
				t.Fatalf("%d spans, want 1", len(ended))
			}
			for _, kv := range ended[0].Attributes() {
				if kv.Key == "surge.outcome" && kv.Value.AsString() != tt.want {
					t.Errorf("span outcome %s; want %s", kv.Value.AsString(), tt.want)
				}
			}
		})
	}
}
