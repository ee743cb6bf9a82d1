// Package tracing sets up OpenTelemetry traces from the standard OTEL_*
// environment variables and carries W3C trace context through CloudEvents
// in the distributed-tracing extension (traceparent, tracestate; on the
// wire in binary mode, ce-traceparent and ce-tracestate).
//
// Tracing is off unless configured: with no exporter named and no OTLP
// endpoint set, FromEnv returns Off, whose On is false, and the callers
// (the function host, the sink, the broker) skip every span.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Scope names the tracer of every Surge span.
const Scope = "github.com/surgekit/surge"

// Tracing is a process's tracer provider and how to flush it.
type Tracing struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
	shutdown func(context.Context) error // nil when off
}

// Off is tracing not configured: a no-op provider and no spans.
func Off() *Tracing {
	p := noop.NewTracerProvider()
	return &Tracing{provider: p, tracer: p.Tracer(Scope)}
}

// NewTracing wraps an sdk provider someone else built (a test's), which
// Shutdown then shuts down.
func NewTracing(p *sdktrace.TracerProvider) *Tracing {
	return &Tracing{provider: p, tracer: p.Tracer(Scope), shutdown: p.Shutdown}
}

// On reports whether spans are recorded and exported.
func (t *Tracing) On() bool { return t.shutdown != nil }

// Tracer is the tracer of Surge's spans.
func (t *Tracing) Tracer() trace.Tracer { return t.tracer }

// Provider is the tracer provider (no-op when off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Shutdown flushes the spans still queued and stops the exporters; call
// it once the process has drained.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// Exporter names, as OTEL_TRACES_EXPORTER spells them.
const (
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// Exporters reads which exporters the environment asks for: those named
// in OTEL_TRACES_EXPORTER (otlp, console, none), or otlp when it is unset
// and OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is, or none. OTEL_SDK_DISABLED=true is none. OTLP is http/protobuf only:
// another OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL is an error.
func Exporters(getenv func(string) string) ([]string, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	names, err := named(getenv("OTEL_TRACES_EXPORTER"))
	if err != nil {
		return nil, err
	}
	if names == nil && (getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") {
		names = []string{ExporterOTLP}
	}
	for _, n := range names {
		if n == ExporterOTLP {
			return names, checkProtocol(getenv)
		}
	}
	return names, nil
}

// named parses OTEL_TRACES_EXPORTER: nil when empty, none drops the rest.
func named(v string) ([]string, error) {
	var names []string
	for n := range strings.SplitSeq(v, ",") {
		switch n = strings.ToLower(strings.TrimSpace(n)); n {
		case "":
		case ExporterNone:
			return []string{}, nil
		case ExporterOTLP, ExporterConsole:
			names = append(names, n)
		default:
			return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not otlp, console or none", n)
		}
	}
	return names, nil
}

func checkProtocol(getenv func(string) string) error {
	p := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if p == "" {
		p = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if p != "" && p != "http/protobuf" {
		return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: only http/protobuf is built in", p)
	}
	return nil
}

// FromEnv builds the process's tracing from the environment: the
// exporters of Exporters, each behind a batch span processor (OTEL_BSP_*),
// the sampler of OTEL_TRACES_SAMPLER (parentbased_always_on by default),
// and a resource whose service.name is OTEL_SERVICE_NAME, else service.
// The OTLP exporter reads its own OTEL_EXPORTER_OTLP_* settings (endpoint,
// headers, timeout, compression) from the process environment. With no
// exporter it returns Off.
func FromEnv(ctx context.Context, service string, getenv func(string) string) (*Tracing, error) {
	names, err := Exporters(getenv)
	if err != nil || len(names) == 0 {
		return Off(), err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(serviceResource(service, getenv))}
	var exporters []sdktrace.SpanExporter
	for _, n := range names {
		exp, err := newExporter(ctx, n)
		if err != nil {
			return Off(), errors.Join(err, shutdownAll(ctx, exporters))
		}
		exporters = append(exporters, exp)
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return NewTracing(sdktrace.NewTracerProvider(opts...)), nil
}

func newExporter(ctx context.Context, name string) (sdktrace.SpanExporter, error) {
	if name == ExporterConsole {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
		if err != nil {
			return nil, fmt.Errorf("console trace exporter: %w", err)
		}
		return exp, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	return exp, nil
}

func shutdownAll(ctx context.Context, exporters []sdktrace.SpanExporter) error {
	var errs []error
	for _, e := range exporters {
		errs = append(errs, e.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// serviceResource names the service: OTEL_SERVICE_NAME wins over service,
// and OTEL_RESOURCE_ATTRIBUTES adds to it.
func serviceResource(service string, getenv func(string) string) *resource.Resource {
	if s := getenv("OTEL_SERVICE_NAME"); s != "" {
		service = s
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", service)}
	for kv := range strings.SplitSeq(getenv("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) != "" && strings.TrimSpace(k) != "service.name" {
			attrs = append(attrs, attribute.String(strings.TrimSpace(k), strings.TrimSpace(v)))
		}
	}
	return resource.NewSchemaless(attrs...)
}
