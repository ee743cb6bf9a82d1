package fn

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/surgekit/surge/shared/tracing"
)

// WithTracing makes the host start a span per handled event or request
// (tracing.Off unless given; Run reads the OTEL_* environment).
func WithTracing(t *tracing.Tracing) Option {
	return func(h *host) { h.tracing = t }
}

// observer tells about each event or request the host handled: a span
// when tracing is on, one line through the sampler when lines are.
type observer struct {
	log    *slog.Logger
	tracer trace.Tracer // nil: tracing off
	lines  *lineSampler // nil: no lines
}

func newObserver(log *slog.Logger, t *tracing.Tracing, lines *lineSampler) *observer {
	o := &observer{log: log}
	if t != nil && t.On() {
		o.tracer = t.Tracer()
	}
	if lines.on() {
		o.lines = lines
	}
	return o
}

// off: nothing to record, so nothing is measured either.
func (o *observer) off() bool { return o.tracer == nil && o.lines == nil }

type observerKey struct{}

// inherited is the observer of an outer host that passed a CloudEvent to
// an event host nested inside an HTTP function (reconcile's), or own.
func inherited(ctx context.Context, own *observer) *observer {
	if o, ok := ctx.Value(observerKey{}).(*observer); ok {
		return o
	}
	return own
}

// startEvent starts the span of in, child of the context its traceparent
// carries, and gives the handler a note for its outcome (SetOutcome).
func (o *observer) startEvent(ctx context.Context, in *event.Event) (context.Context, trace.Span) {
	ctx = context.WithValue(ctx, eventNoteKey{}, &eventNote{})
	if o.tracer == nil {
		return ctx, nil
	}
	ctx = tracing.Extract(ctx, *in)
	return o.tracer.Start(ctx, in.Type(), trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("cloudevents.event_id", in.ID()),
		attribute.String("cloudevents.event_type", in.Type()),
		attribute.String("cloudevents.event_source", in.Source()),
		attribute.String("cloudevents.event_subject", in.Subject())))
}

// endEvent ends in's span, sets the span's context on the reply (so the
// next stage continues the trace) and writes in's line.
func (o *observer) endEvent(ctx context.Context, span trace.Span, in, reply *event.Event, err error, start time.Time) {
	status, outcome := eventOutcome(reply, err)
	if n, ok := ctx.Value(eventNoteKey{}).(*eventNote); ok && n.outcome != "" && err == nil {
		outcome = n.outcome
	}
	if span != nil {
		if reply != nil {
			tracing.Inject(ctx, reply)
		}
		span.SetAttributes(attribute.String("surge.outcome", outcome), attribute.Int("http.response.status_code", status))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	if o.lines == nil || !o.lines.admit(outcome) {
		return
	}
	o.log.LogAttrs(ctx, slog.LevelInfo, "handled event", withTrace(ctx,
		slog.String("event_id", in.ID()), slog.String("event_type", in.Type()), slog.String("event_source", in.Source()),
		slog.String("outcome", outcome), slog.Int("status", status), millis(start))...)
}

// eventNote is what an event handler tells the host about the event it
// handles: the outcome the line and the span say (SetOutcome).
type eventNote struct{ outcome string }

type eventNoteKey struct{}

// SetOutcome names the outcome of the event ctx's handler is handling, a
// word the reply's type does not say (prededuct: why a claim was
// rejected, sold_out); the host's line, its summary and the span say it
// instead of the reply's type. An error returned still names the outcome
// by its status. Outside the event host, or with lines and tracing off,
// it does nothing.
func SetOutcome(ctx context.Context, outcome string) {
	if n, ok := ctx.Value(eventNoteKey{}).(*eventNote); ok {
		n.outcome = outcome
	}
}

// eventOutcome is the status an event's handling answers and a short word
// for it: the reply's type (claim.reserved), done (no reply), or why it
// failed (poison, conflict, busy, timeout, error).
func eventOutcome(reply *event.Event, err error) (int, string) {
	switch {
	case err != nil:
		status := Status(err)
		return status, failure(status)
	case reply == nil:
		return http.StatusAccepted, "done"
	default:
		return http.StatusOK, shortType(reply.Type())
	}
}

func failure(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "poison"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "busy"
	case http.StatusServiceUnavailable:
		return "timeout"
	default:
		return "error"
	}
}

// shortType is dev.surgekit.claim.reserved.v1 as claim.reserved.
func shortType(t string) string {
	t = strings.TrimPrefix(t, "dev.surgekit.")
	if i := strings.LastIndex(t, ".v"); i > 0 {
		if _, err := strconv.Atoi(t[i+2:]); err == nil {
			t = t[:i]
		}
	}
	return t
}

func millis(start time.Time) slog.Attr {
	return slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
}

// withTrace adds the trace id of ctx's span, when there is one.
func withTrace(ctx context.Context, attrs ...slog.Attr) []slog.Attr {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	return attrs
}

// httpFunction wraps an HTTP function: a server span per request (child
// of the W3C traceparent header when the client sent one) and one line.
// A CloudEvent posted to an HTTP function goes to the event host nested in
// it, which records it as an event, with this observer.
func (o *observer) httpFunction(next http.Handler) http.Handler {
	if o.off() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isCloudEvent(r.Header) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), observerKey{}, o)))
			return
		}
		o.serveRequest(next, w, r)
	})
}

func (o *observer) serveRequest(next http.Handler, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, note := noted(r.Context())
	var span trace.Span
	if o.tracer != nil {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span = o.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
	}
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r.WithContext(ctx))
	status, outcome := sw.result()
	if span != nil {
		o.endRequestSpan(span, r.Method, note.route, status, outcome)
	}
	if o.lines == nil || !o.lines.admit(outcome) {
		return
	}
	attrs := []slog.Attr{slog.String("method", r.Method)}
	if note.route != "" {
		attrs = append(attrs, slog.String("route", note.route))
	}
	attrs = append(attrs, slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("outcome", outcome), millis(start))
	o.log.LogAttrs(ctx, slog.LevelInfo, "handled request", withTrace(ctx, attrs...)...)
}

func (o *observer) endRequestSpan(span trace.Span, method, route string, status int, outcome string) {
	if route != "" {
		span.SetName(method + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status), attribute.String("surge.outcome", outcome))
	if status >= 500 {
		span.SetStatus(codes.Error, outcome)
	}
	span.End()
}

// isCloudEvent: a binary-mode event (ce-specversion) or a structured or
// batched one (application/cloudevents…).
func isCloudEvent(h http.Header) bool {
	return len(h["Ce-Specversion"]) > 0 || strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "application/cloudevents")
}

// requestNote is what the function tells the host about a request as it
// serves it: the route its mux matched (Serve), or the type of the event
// the event host read.
type requestNote struct{ route string }

type noteKey struct{}

// Serve serves r with mux and tells the host which pattern matched, so
// the request's span and line name the route (POST
// /v1/campaigns/{id}/claims) rather than only the method. An HTTP
// function's ServeHTTP calls it instead of mux.ServeHTTP.
func Serve(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	mux.ServeHTTP(w, r) // sets r.Pattern, "POST /v1/…": the method is the span's already
	_, path, found := strings.Cut(r.Pattern, " ")
	if !found {
		path = r.Pattern
	}
	noteRoute(r.Context(), path)
}

// statusWriter keeps the status a function answered and the error code
// httpapi.WriteError noted, for the line and the span.
type statusWriter struct {
	http.ResponseWriter
	status  int
	outcome string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// NoteOutcome is how httpapi.WriteError names the error it wrote.
func (w *statusWriter) NoteOutcome(code string) { w.outcome = code }

// Flush lets a streaming answer (server-sent events) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// result is the status answered (200 when nothing was written) and its
// outcome: the noted error code, ok below 400, else the status.
func (w *statusWriter) result() (int, string) {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case w.outcome != "":
		return status, w.outcome
	case status < 400:
		return status, "ok"
	default:
		return status, strconv.Itoa(status)
	}
}

type nameKey struct{}

// withName is ctx carrying the function's name, for Run: the service
// name of its spans unless OTEL_SERVICE_NAME says otherwise.
func withName(ctx context.Context, function string) context.Context {
	return context.WithValue(ctx, nameKey{}, function)
}

// serviceName is the name Main gave, else K_SERVICE (Knative sets it),
// else the executable's.
func serviceName(ctx context.Context, getenv func(string) string, executable string) string {
	if n, ok := ctx.Value(nameKey{}).(string); ok && n != "" {
		return n
	}
	if s := getenv("K_SERVICE"); s != "" {
		return s
	}
	return executable
}

// observeFromEnv reads the host's tracing (OTEL_*) and lines
// (SURGE_LOG_EVENTS, SURGE_LOG_EVENTS_PER_SECOND) from the environment.
func observeFromEnv(ctx context.Context, log *slog.Logger) ([]Option, error) {
	limit, err := LineLimit(os.Getenv)
	if err != nil {
		return nil, err
	}
	t, err := tracing.FromEnv(ctx, serviceName(ctx, os.Getenv, filepath.Base(os.Args[0])), os.Getenv)
	if err != nil {
		return nil, err
	}
	return []Option{WithTracing(t), WithLineLimit(limit)}, nil
}

// stopObserving writes the last summary line and flushes the spans.
func (h *host) stopObserving(ctx context.Context) error {
	h.lines.flush()
	return h.tracing.Shutdown(ctx)
}
