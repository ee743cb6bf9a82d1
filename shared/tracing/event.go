package tracing

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The CloudEvents distributed-tracing extension: the W3C traceparent and
// tracestate of the span that made the event. shared/eventsig leaves both
// out of the signature, since each hop rewrites them.
const (
	TraceParent = "traceparent"
	TraceState  = "tracestate"
)

// w3c is the W3C Trace Context propagator; it holds no state.
var w3c = propagation.TraceContext{}

// Extract returns ctx carrying, as the remote parent, the span context of
// e's traceparent and tracestate; ctx as it is when e has none or it is
// malformed.
func Extract(ctx context.Context, e event.Event) context.Context {
	if _, ok := e.Extensions()[TraceParent]; !ok {
		return ctx
	}
	return w3c.Extract(ctx, extensions{e: &e})
}

// Inject sets e's traceparent and tracestate to the span context of ctx,
// replacing any there; it leaves e alone when ctx has no valid span.
// Copies of an event.Event share their context: clone e first to keep
// the original as it was.
func Inject(ctx context.Context, e *event.Event) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	_ = e.Context.SetExtension(TraceState, nil) // a stale one must not outlive its parent
	w3c.Inject(ctx, extensions{e: e})
}

// SpanContext is the span context e's traceparent names (invalid when
// there is none).
func SpanContext(e event.Event) trace.SpanContext {
	return trace.SpanContextFromContext(Extract(context.Background(), e))
}

// extensions is the propagation carrier of an event's extensions.
type extensions struct{ e *event.Event }

func (c extensions) Get(key string) string {
	v, ok := c.e.Extensions()[key]
	if !ok {
		return ""
	}
	s, err := types.ToString(v)
	if err != nil {
		return ""
	}
	return s
}

func (c extensions) Set(key, value string) { _ = c.e.Context.SetExtension(key, value) }

func (c extensions) Keys() []string { return []string{TraceParent, TraceState} }
