package fn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/surgekit/surge/shared/cebinary"
	"github.com/surgekit/surge/shared/tracing"
)

// sinkConns is how many idle keep-alive connections a Sink keeps to the
// broker: as many as the clicks it may publish at once, so a burst never
// pays for new TCP connections (the CloudEvents client's default
// transport keeps 2).
const sinkConns = 1024

// Sink sends events to K_SINK, the broker ingress a SinkBinding injects.
type Sink struct {
	url    string
	client *http.Client
	bearer *tokenFile // nil: no Authorization header
}

// SinkOption configures a Sink.
type SinkOption func(*Sink)

// WithTokenFile makes the Sink send the token in the file at path as
// "Authorization: Bearer <token>": the OIDC token Knative mounts at
// /oidc/token into a SinkBinding's subject when the authentication-oidc
// feature is on, so the broker knows the sender. The file is read again
// every TokenRefresh (the token rotates); while it is missing, no header
// is sent. An empty path is no token.
func WithTokenFile(path string) SinkOption {
	return func(s *Sink) {
		if path != "" {
			s.bearer = &tokenFile{path: path, now: time.Now}
		}
	}
}

// NewSink returns a Sink posting binary-mode CloudEvents to url.
func NewSink(url string, opts ...SinkOption) (*Sink, error) {
	if url == "" {
		return nil, fmt.Errorf("new sink: K_SINK is empty")
	}
	t := &http.Transport{MaxIdleConns: sinkConns, MaxIdleConnsPerHost: sinkConns, IdleConnTimeout: 90 * time.Second}
	s := &Sink{url: url, client: &http.Client{Transport: t}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Send returns nil only when the broker acknowledged (stored) the event:
// it answered 2xx. The caller's ctx bounds the whole exchange. When ctx
// carries a span (the host's, of the event or request being handled),
// the send is a child span of it, and the event carries the send's
// context in its traceparent: e's context is shared with its copies, so
// they see it too.
func (s *Sink) Send(ctx context.Context, e event.Event) error {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return s.send(ctx, e)
	}
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer(tracing.Scope)
	ctx, span := tracer.Start(ctx, "send "+e.Type(), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("cloudevents.event_id", e.ID()), attribute.String("cloudevents.event_type", e.Type())))
	defer span.End()
	tracing.Inject(ctx, &e)
	err := s.send(ctx, e)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

func (s *Sink) send(ctx context.Context, e event.Event) error {
	req, err := cebinary.NewRequest(ctx, s.url, &e)
	if err != nil {
		return fmt.Errorf("send %s %s: encode: %w", e.Type(), e.ID(), err)
	}
	if s.bearer != nil {
		if tok := s.bearer.token(); tok != "" {
			req.Header["Authorization"] = []string{"Bearer " + tok}
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("send %s %s: %w", e.Type(), e.ID(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("send %s %s: %w", e.Type(), e.ID(), &StatusError{Code: resp.StatusCode})
	}
	return nil
}

// StatusError is a non-2xx answer to Send: a 4xx means the receiver
// refused the event (poison), anything else that it may take it later.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("receiver answered %d", e.Code) }

// Refused reports whether err is a 4xx answer: the event is poison to its
// receiver, and sending it again changes nothing.
func Refused(err error) bool {
	var s *StatusError
	return errors.As(err, &s) && s.Code >= 400 && s.Code < 500
}
