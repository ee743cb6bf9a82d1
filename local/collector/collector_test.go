package collector_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/surgekit/surge/local/collector"
)

func start(t *testing.T, cfg collector.Config) *collector.Collector {
	t.Helper()
	c, err := collector.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// export sends a parent and a child span of service through the real
// OTLP/HTTP exporter in one export, compressed or not, and returns their
// contexts.
func export(t *testing.T, c *collector.Collector, service string, compression otlptracehttp.Compression) (parent, child trace.SpanContext) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.URL()+"/v1/traces"), otlptracehttp.WithCompression(compression))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
	tracer := tp.Tracer("test")
	ctx, p := tracer.Start(ctx, "parent", trace.WithSpanKind(trace.SpanKindServer))
	_, ch := tracer.Start(ctx, "child", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("who", "child"), attribute.Int64("n", 7), attribute.Bool("ok", true)))
	ch.SetStatus(codes.Error, "boom")
	ch.End()
	p.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export: %v", err)
	}
	return p.SpanContext(), ch.SpanContext()
}

func TestKeepsWhatTheExporterSent(t *testing.T) {
	for _, tc := range []struct {
		name        string
		compression otlptracehttp.Compression
	}{{"plain", otlptracehttp.NoCompression}, {"gzip", otlptracehttp.GzipCompression}} {
		t.Run(tc.name, func(t *testing.T) {
			c := start(t, collector.Config{})
			parent, child := export(t, c, "svc-"+tc.name, tc.compression)
			spans := c.Spans()
			if len(spans) != 2 {
				t.Fatalf("collector kept %d spans; want 2: %+v", len(spans), spans)
			}
			byName := map[string]collector.Span{}
			for _, s := range spans {
				byName[s.Name] = s
			}
			p, ch := byName["parent"], byName["child"]
			if p.TraceID != parent.TraceID().String() || p.SpanID != parent.SpanID().String() || p.ParentID != "" {
				t.Errorf("parent kept as %+v; want trace %s span %s, no parent", p, parent.TraceID(), parent.SpanID())
			}
			if ch.TraceID != child.TraceID().String() || ch.SpanID != child.SpanID().String() || ch.ParentID != p.SpanID {
				t.Errorf("child kept as %+v; want trace %s span %s parent %s", ch, child.TraceID(), child.SpanID(), p.SpanID)
			}
			if p.Service != "svc-"+tc.name || ch.Service != p.Service {
				t.Errorf("services %q, %q; want svc-%s", p.Service, ch.Service, tc.name)
			}
			if ch.Kind != tracepb.Span_SPAN_KIND_CLIENT || p.Kind != tracepb.Span_SPAN_KIND_SERVER {
				t.Errorf("kinds %v, %v; want client and server", ch.Kind, p.Kind)
			}
			want := map[string]string{"who": "child", "n": "7", "ok": "true"}
			for k, v := range want {
				if ch.Attributes[k] != v {
					t.Errorf("child attribute %s = %q; want %q", k, ch.Attributes[k], v)
				}
			}
			if !ch.Error || p.Error {
				t.Errorf("error flags child %v parent %v; want true, false", ch.Error, p.Error)
			}
			if c.Exports() == 0 || c.Bytes() == 0 {
				t.Errorf("counted %d exports, %d bytes; want some", c.Exports(), c.Bytes())
			}
		})
	}
}

func TestDiscardCountsOnly(t *testing.T) {
	c := start(t, collector.Config{Discard: true})
	export(t, c, "svc", otlptracehttp.NoCompression)
	if n := len(c.Spans()); n != 0 || c.Exports() != 1 || c.Bytes() == 0 {
		t.Errorf("discarding collector: %d spans kept, %d exports, %d bytes; want 0, 1 and some bytes", n, c.Exports(), c.Bytes())
	}
}

func TestRefusesWhatIsNotAnExport(t *testing.T) {
	c := start(t, collector.Config{})
	for _, tc := range []struct {
		name, contentType, encoding, body string
		want                              int
	}{
		{"json", "application/json", "", `{"resourceSpans":[]}`, http.StatusUnsupportedMediaType},
		{"garbage", "application/x-protobuf", "", "\xff\xff\xff", http.StatusBadRequest},
		{"bad gzip", "application/x-protobuf", "gzip", "not gzip", http.StatusBadRequest},
		{"unknown encoding", "application/x-protobuf", "br", "", http.StatusBadRequest},
	} {
		req, err := http.NewRequest(http.MethodPost, c.URL()+"/v1/traces", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.contentType)
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d; want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if c.Exports() != 0 || len(c.Spans()) != 0 {
		t.Errorf("after refusals: %d exports, %d spans; want none", c.Exports(), len(c.Spans()))
	}
}
