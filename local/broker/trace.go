package broker

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
	otelattr "go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/surgekit/surge/shared/tracing"
)

// hops records the broker's own spans, one per event ingested and one per
// delivery attempt, each a child of the event's traceparent; the event
// then carries the hop's context, so the stage after the broker is a
// child of the hop. A nil tracer (tracing off) records nothing and leaves
// every event as it came.
type hops struct {
	tracer trace.Tracer
}

func newHops(t *tracing.Tracing) hops {
	if t == nil || !t.On() {
		return hops{}
	}
	return hops{tracer: t.Tracer()}
}

// startIngest starts the span of storing e: a child of e's traceparent,
// else of ctx's span (a delivery's, for a reply that carries none), and
// sets e's traceparent to it.
func (h hops) startIngest(ctx context.Context, e *event.Event) (context.Context, trace.Span) {
	if h.tracer == nil {
		return ctx, nil
	}
	ctx, span := h.tracer.Start(tracing.Extract(ctx, *e), "ingest "+e.Type(),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(eventAttributes(e)...))
	tracing.Inject(ctx, e)
	return ctx, span
}

// startDelivery starts the span of one delivery attempt of e to r's
// subscriber, a child of e's traceparent, and sets e's traceparent to it.
// e is the attempt's own copy, decoded from the stream.
func (h hops) startDelivery(ctx context.Context, e *event.Event, r route, attempt uint64) (context.Context, trace.Span) {
	if h.tracer == nil {
		return ctx, nil
	}
	attrs := append(eventAttributes(e), otelattr.String("surge.trigger", r.name),
		otelattr.String("url.full", r.subscriber), otelattr.Int64("surge.attempt", int64(attempt)))
	ctx, span := h.tracer.Start(tracing.Extract(ctx, *e), "deliver "+e.Type(),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	tracing.Inject(ctx, e)
	return ctx, span
}

func eventAttributes(e *event.Event) []otelattr.KeyValue {
	return []otelattr.KeyValue{
		otelattr.String("cloudevents.event_id", e.ID()),
		otelattr.String("cloudevents.event_type", e.Type()),
		otelattr.String("cloudevents.event_source", e.Source()),
	}
}

// endIngest ends an ingest span (nil when tracing is off).
func endIngest(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// endDelivery ends a delivery span with the attempt's answer.
func endDelivery(span trace.Span, res result) {
	if span == nil {
		return
	}
	span.SetAttributes(otelattr.Int("http.response.status_code", res.status))
	if !res.ok() {
		msg := "delivery failed"
		if res.err != nil {
			msg = res.err.Error()
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}
