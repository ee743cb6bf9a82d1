package broker

import (
	"net/http"
	"testing"

	"github.com/google/pprof/profile"
)

func TestPprofServesCPUProfile(t *testing.T) {
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": newSink(t, nil).URL}, Pprof: true})
	resp, err := http.Get(url + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/pprof/profile status = %d, want 200", resp.StatusCode)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		t.Fatalf("parse the CPU profile: %v", err)
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
