package broker

import (
	"net/http"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	otelattr "go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/surgekit/surge/shared/tracing"
)

// The traceparent of an event posted to the broker, and of the span a
// subscriber "handled" the delivery in (its reply carries it).
const (
	postedParent  = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	handledSpanID = "b7ad6b7169203331"
)

// With tracing on, the broker's hops are spans of the event's trace: the
// ingest a child of the poster's span, each delivery attempt a child of
// the ingest, and the subscriber sees the attempt's span as its parent; a
// reply's ingest is a child of the span the reply names.
func TestHopsAreSpansOfTheEventsTrace(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tr := tracing.NewTracing(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	first := newSink(t, func(n int, in *event.Event, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the second attempt is a span of its own
			return
		}
		sc := tracing.SpanContext(*in)
		w.Header().Set("Ce-Traceparent", "00-"+sc.TraceID().String()+"-"+handledSpanID+"-01")
		replyWith("test.second.v1")(n, in, w)
	})
	second := newSink(t, nil)
	dir := writeManifests(t,
		testTrigger{name: "first", typ: "test.first.v1", service: "first", retry: 2}.manifest(),
		testTrigger{name: "second", typ: "test.second.v1", service: "second"}.manifest(),
	)
	_, url := startBroker(t, Config{TriggersDir: dir, Tracing: tr,
		Services: map[string]string{"first": first.URL, "second": second.URL}})

	e := newEvent("h-1", "test.first.v1")
	e.SetExtension(tracing.TraceParent, postedParent)
	if got := post(t, url, e); got != http.StatusAccepted {
		t.Fatalf("post: status %d", got)
	}
	waitFor(t, 10*time.Second, "five hop spans", func() bool { return second.count() == 1 && len(spans.Ended()) == 5 })

	posted := tracing.SpanContext(e)
	ingest := onlySpan(t, spans, "ingest test.first.v1", 0)
	tries := []sdktrace.ReadOnlySpan{onlySpan(t, spans, "deliver test.first.v1", 1), onlySpan(t, spans, "deliver test.first.v1", 2)}
	replyIngest := onlySpan(t, spans, "ingest test.second.v1", 0)
	replyDelivery := onlySpan(t, spans, "deliver test.second.v1", 1)
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() != posted.TraceID() {
			t.Errorf("span %q in trace %s; want the posted event's %s", s.Name(), s.SpanContext().TraceID(), posted.TraceID())
		}
	}
	wantParent(t, ingest, posted.SpanID().String())
	for i, try := range tries {
		wantParent(t, try, ingest.SpanContext().SpanID().String())
		if got := tracing.SpanContext(first.received()[i]).SpanID(); got != try.SpanContext().SpanID() {
			t.Errorf("attempt %d delivered with parent %s; want its delivery span %s", i+1, got, try.SpanContext().SpanID())
		}
	}
	if tries[0].Status().Code != codes.Error || tries[1].Status().Code == codes.Error {
		t.Errorf("delivery statuses %v, %v; want the 503 an error, the 200 not", tries[0].Status(), tries[1].Status())
	}
	wantParent(t, replyIngest, handledSpanID)
	wantParent(t, replyDelivery, replyIngest.SpanContext().SpanID().String())
	if got := tracing.SpanContext(second.received()[0]).SpanID(); got != replyDelivery.SpanContext().SpanID() {
		t.Errorf("reply delivered with parent %s; want its delivery span %s", got, replyDelivery.SpanContext().SpanID())
	}
}

// With tracing off the broker records nothing and delivers an event's
// traceparent as it was posted.
func TestTracingOffPassesTraceparentThrough(t *testing.T) {
	sub := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "t", typ: "test.t.v1", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}})
	e := newEvent("off-1", "test.t.v1")
	e.SetExtension(tracing.TraceParent, postedParent)
	post(t, url, e)
	waitFor(t, 5*time.Second, "delivery", func() bool { return sub.count() == 1 })
	if got := sub.received()[0].Extensions()[tracing.TraceParent]; got != postedParent {
		t.Errorf("delivered traceparent %v; want %s as posted", got, postedParent)
	}
}

// onlySpan is the one ended span named name (of delivery attempt attempt,
// when not 0).
func onlySpan(t *testing.T, spans *tracetest.SpanRecorder, name string, attempt int64) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == name && (attempt == 0 || hasAttr(s, otelattr.Int64("surge.attempt", attempt))) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans %q (attempt %d); want 1", len(found), name, attempt)
	}
	return found[0]
}

func hasAttr(s sdktrace.ReadOnlySpan, want otelattr.KeyValue) bool {
	for _, kv := range s.Attributes() {
		if kv == want {
			return true
		}
	}
	return false
}

func wantParent(t *testing.T, s sdktrace.ReadOnlySpan, parent string) {
	t.Helper()
	if got := s.Parent().SpanID().String(); got != parent {
		t.Errorf("span %q has parent %s; want %s", s.Name(), got, parent)
	}
}
