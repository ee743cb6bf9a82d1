package broker

import (
	"testing"
	"time"
)

func TestPingSourceEmits(t *testing.T) {
	sub := newSink(t, nil)
	ping := map[string]any{
		"apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
		"metadata": map[string]any{"name": "tick"},
		"spec": map[string]any{"schedule": "*/5 * * * *", "contentType": "application/json", "data": `{"scope":"all"}`,
			"sink": map[string]any{"ref": map[string]any{"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "surge"}}},
	}
	dir := writeManifests(t, ping, testTrigger{name: "reconcile", typ: PingType, service: "sub"}.manifest())
	startBroker(t, Config{TriggersDir: dir, PingInterval: 100 * time.Millisecond, Services: map[string]string{"sub": sub.URL}})

	waitFor(t, 5*time.Second, "2 pings", func() bool { return sub.count() >= 2 })
	e := sub.received()[0]
	if e.Source() != "/apis/v1/namespaces/default/pingsources/tick" || e.Type() != PingType {
		t.Errorf("ping = %s from %s, want %s from the pingsource path", e.Type(), e.Source(), PingType)
	}
	if string(e.Data()) != `{"scope":"all"}` || e.DataContentType() != "application/json" {
		t.Errorf("ping data = %q (%s), want the spec data as JSON", e.Data(), e.DataContentType())
	}
}

// TestPingSourceOverridesExtensions: spec.ceOverrides.extensions are on
// every ping, as Knative sets them (the shadow reconcile's surgeshadow).
func TestPingSourceOverridesExtensions(t *testing.T) {
	sub := newSink(t, nil)
	ping := map[string]any{
		"apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
		"metadata": map[string]any{"name": "tick-shadow"},
		"spec": map[string]any{"schedule": "* * * * *", "ceOverrides": map[string]any{"extensions": map[string]any{"surgeshadow": "true"}},
			"sink": map[string]any{"ref": map[string]any{"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "surge"}}},
	}
	dir := writeManifests(t, ping, testTrigger{name: "reconcile", typ: PingType, service: "sub"}.manifest())
	startBroker(t, Config{TriggersDir: dir, PingInterval: 100 * time.Millisecond, Services: map[string]string{"sub": sub.URL}})

	waitFor(t, 5*time.Second, "a ping", func() bool { return sub.count() >= 1 })
	if got := sub.received()[0].Extensions()["surgeshadow"]; got != "true" {
		t.Errorf("ping extension surgeshadow = %v, want \"true\"", got)
	}
}

func TestPingSourceRejectsUnsupportedSchedule(t *testing.T) {
	ping := map[string]any{
		"apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
		"metadata": map[string]any{"name": "tick"},
		"spec": map[string]any{"schedule": "0 3 * * *",
			"sink": map[string]any{"ref": map[string]any{"kind": "Broker", "name": "surge"}}},
	}
	dir := writeManifests(t, ping)
	if _, err := New(t.Context(), Config{TriggersDir: dir, StoreDir: t.TempDir(), Listen: "127.0.0.1:0"}, nil); err == nil {
		t.Error("New with schedule 0 3 * * *: want an error")
	}
}
