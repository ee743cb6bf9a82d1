package bench

import (
	"slices"
	"testing"
)

// TestObservabilityEnv: each mode's environment turns on what it says and
// samples the traces it says.
func TestObservabilityEnv(t *testing.T) {
	for _, tt := range []struct {
		o    Observability
		want []string
	}{
		{Observability{}, []string{"SURGE_METRICS=off", "SURGE_LOG_EVENTS=off", "OTEL_TRACES_EXPORTER=none"}},
		{Observability{On: true, Traced: 1, TracesEndpoint: "http://c"}, []string{"SURGE_METRICS=on", "SURGE_LOG_EVENTS=on",
			"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=http://c", "OTEL_TRACES_SAMPLER=parentbased_always_on"}},
		{Observability{On: true, Traced: SampledTraces}, []string{"SURGE_METRICS=on", "OTEL_TRACES_EXPORTER=otlp",
			"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1"}},
	} {
		env := tt.o.Env()
		for _, w := range tt.want {
			if !slices.Contains(env, w) {
				t.Errorf("%s: env %v lacks %s", tt.o, env, w)
			}
		}
	}
}
