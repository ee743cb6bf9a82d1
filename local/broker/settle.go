package broker

import (
	"context"
	"encoding/base64"
	"log/slog"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

// settle decides, in one place, what happens to a delivered message:
// ack on success, retry with backoff while attempts remain and the failure
// is retryable, otherwise dead-letter.
func (d *dispatcher) settle(ctx context.Context, msg jetstream.Msg, e *event.Event, attempt uint64, res result) {
	switch {
	case res.ok():
		d.ack(ctx, msg, e)
	case res.local || (res.retryable() && attempt < d.route.attempts):
		d.logFailure(ctx, slog.LevelWarn, "delivery failed, will retry", e, res, slog.Uint64("attempt", attempt))
		d.nak(ctx, msg, e, attempt)
	default:
		d.deadLetter(ctx, msg, e, attempt, res)
	}
}

// deadLetter sends e to the trigger's dead-letter sink with the Knative
// error extensions. A failing sink is retried later through the stream.
func (d *dispatcher) deadLetter(ctx context.Context, msg jetstream.Msg, e *event.Event, attempt uint64, res result) {
	attemptAttr := slog.Uint64("attempt", attempt)
	if d.route.deadLetter == "" {
		d.logFailure(ctx, slog.LevelError, "delivery failed, no dead-letter sink: event dropped", e, res, attemptAttr)
		d.ack(ctx, msg, e)
		return
	}
	dl := e.Clone()
	dl.SetExtension("knativeerrorcode", res.status)
	dl.SetExtension("knativeerrordest", d.route.subscriber)
	dl.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString(res.body))
	sink := d.send(ctx, d.route.deadLetter, &dl)
	if !sink.ok() {
		d.logFailure(ctx, slog.LevelError, "dead-letter sink failed, will retry", e, res, attemptAttr,
			slog.Int("sink_status", sink.status), slog.Any("sink_err", sink.err))
		d.nak(ctx, msg, e, attempt)
		return
	}
	d.metrics.deadLetters.Inc()
	d.logFailure(ctx, slog.LevelWarn, "delivery failed, dead-lettered", e, res, attemptAttr)
	d.ack(ctx, msg, e)
}

func (d *dispatcher) ack(ctx context.Context, msg jetstream.Msg, e *event.Event) {
	if err := msg.Ack(); err != nil {
		d.log.WarnContext(ctx, "ack failed, event will be redelivered", eventAttrs(e, d.route.name, slog.Any("err", err))...)
	}
}

func (d *dispatcher) nak(ctx context.Context, msg jetstream.Msg, e *event.Event, attempt uint64) {
	if err := msg.NakWithDelay(d.route.backoff(attempt)); err != nil {
		d.log.WarnContext(ctx, "nak failed, event redelivered after ack wait", eventAttrs(e, d.route.name, slog.Any("err", err))...)
	}
}

func (d *dispatcher) logFailure(ctx context.Context, level slog.Level, msg string, e *event.Event, res result, extra ...slog.Attr) {
	attrs := append(extra, slog.Int("status", res.status), slog.String("subscriber", d.route.subscriber))
	if res.err != nil {
		attrs = append(attrs, slog.String("err", res.err.Error()))
	}
	d.log.LogAttrs(ctx, level, msg, eventAttrsTyped(e, d.route.name, attrs...)...)
}

func eventAttrsTyped(e *event.Event, trigger string, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("id", e.ID()), slog.String("type", e.Type()),
		slog.String("source", e.Source()), slog.String("trigger", trigger),
	}, extra...)
}

func eventAttrs(e *event.Event, trigger string, extra ...slog.Attr) []any {
	attrs := eventAttrsTyped(e, trigger, extra...)
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
