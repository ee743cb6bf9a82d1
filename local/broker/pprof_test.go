package broker

import (
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/local/profiling"
)

func TestPprofServesCPUProfile(t *testing.T) {
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": newSink(t, nil).URL}, Pprof: true})
	profiles, err := profiling.Start(t.Context(), http.DefaultClient, map[string]string{"broker": url}, time.Second).Stop()
	if err != nil {
		t.Fatalf("take a CPU profile of the broker: %v", err)
	}
	p := profiles["broker"]
	if p == nil {
		t.Fatal("no profile of the broker")
	}
	if got := p.SampleType[len(p.SampleType)-1]; got.Type != "cpu" || got.Unit != "nanoseconds" {
		t.Errorf("last sample type = %s/%s, want cpu/nanoseconds", got.Type, got.Unit)
	}
}

func TestPprofOffByDefault(t *testing.T) {
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": newSink(t, nil).URL}})
	resp, err := http.Get(url + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without Pprof status = %d, want 404", resp.StatusCode)
	}
}
