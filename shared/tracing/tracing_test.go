package tracing_test

import (
	"context"
	"slices"
	"testing"

	"github.com/surgekit/surge/shared/tracing"
)

func TestExporters(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
		bad  bool
	}{
		{name: "nothing set", env: nil, want: nil},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, want: []string{"otlp"}},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, want: []string{"otlp"}},
		{name: "named otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, want: []string{"otlp"}},
		{name: "console", env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}, want: []string{"console"}},
		{name: "two", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp, Console"}, want: []string{"otlp", "console"}},
		{name: "none beats an endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, want: []string{}},
		{name: "sdk disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, want: nil},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, bad: true},
		{name: "grpc", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, bad: true},
		{name: "http/protobuf", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, want: []string{"otlp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tracing.Exporters(func(k string) string { return c.env[k] })
			if c.bad {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestOffUnlessConfigured(t *testing.T) {
	tr, err := tracing.FromEnv(context.Background(), "captcha", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if tr.On() {
		t.Fatal("tracing on with nothing configured")
	}
	_, span := tr.Tracer().Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("the off tracer made a real span")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestConsoleIsOn(t *testing.T) {
	tr, err := tracing.FromEnv(context.Background(), "captcha", func(k string) string {
		return map[string]string{"OTEL_TRACES_EXPORTER": "console"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Shutdown(context.Background())
	_, span := tr.Tracer().Start(context.Background(), "x")
	defer span.End()
	if !tr.On() || !span.SpanContext().IsValid() {
		t.Error("console tracing made no span")
	}
}
