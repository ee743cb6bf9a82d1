package broker

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
)

func TestIngressBinaryAndStructuredDeliver(t *testing.T) {
	sub := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}})

	if got := post(t, url+"/", newEvent("b-1", "test.binary.v1")); got != http.StatusAccepted {
		t.Fatalf("binary ingress status = %d, want 202", got)
	}
	if got := postStructured(t, url+"/default/surge", newEvent("s-1", "test.structured.v1")); got != http.StatusAccepted {
		t.Fatalf("structured ingress status = %d, want 202", got)
	}
	waitFor(t, 5*time.Second, "2 deliveries", func() bool { return sub.count() == 2 })
	ids := map[string]bool{}
	for _, e := range sub.received() {
		ids[e.ID()] = true
	}
	if !ids["b-1"] || !ids["s-1"] {
		t.Errorf("delivered ids = %v, want b-1 and s-1", ids)
	}
}

func TestIngressRejects(t *testing.T) {
	sub := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	b, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}})

	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"missing id", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
			r.Header.Set("Ce-Specversion", "1.0")
			r.Header.Set("Ce-Type", "test.t.v1")
			r.Header.Set("Ce-Source", "/test")
			return r
		}, http.StatusBadRequest},
		{"not a cloudevent", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("hello"))
			return r
		}, http.StatusBadRequest},
		{"wildcard type", func() *http.Request {
			e := newEvent("w-1", "test.*.v1")
			r, _ := http.NewRequest(http.MethodPost, url, nil)
			r.Header.Set("Ce-Specversion", "1.0")
			r.Header.Set("Ce-Id", e.ID())
			r.Header.Set("Ce-Type", e.Type())
			r.Header.Set("Ce-Source", e.Source())
			return r
		}, http.StatusBadRequest},
		{"oversize", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(make([]byte, 1<<20+1)))
			r.Header.Set("Ce-Specversion", "1.0")
			r.Header.Set("Ce-Id", "big")
			r.Header.Set("Ce-Type", "test.big.v1")
			r.Header.Set("Ce-Source", "/test")
			return r
		}, http.StatusRequestEntityTooLarge},
		{"other broker", func() *http.Request {
			e := newEvent("o-1", "test.t.v1")
			r, _ := http.NewRequest(http.MethodPost, url+"/default/other", nil)
			r.Header.Set("Ce-Specversion", "1.0")
			r.Header.Set("Ce-Id", e.ID())
			r.Header.Set("Ce-Type", e.Type())
			r.Header.Set("Ce-Source", e.Source())
			return r
		}, http.StatusNotFound},
	}
	for _, tt := range tests {
		if got := do(t, tt.req()); got != tt.status {
			t.Errorf("%s: status = %d, want %d", tt.name, got, tt.status)
		}
	}
	info, err := b.store.stream.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.State.LastSeq != 0 {
		t.Errorf("stream last seq = %d after rejected events, want 0 (nothing stored)", info.State.LastSeq)
	}
}

func TestIngressDedupsResends(t *testing.T) {
	sub := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}})
	for range 3 {
		if got := post(t, url, newEvent("same", "test.t.v1")); got != http.StatusAccepted {
			t.Fatalf("status = %d, want 202", got)
		}
	}
	post(t, url, newEvent("marker", "test.t.v1"))
	waitFor(t, 5*time.Second, "marker delivered", func() bool { return sub.count() >= 2 })
	time.Sleep(100 * time.Millisecond)
	if got := sub.count(); got != 2 {
		t.Errorf("deliveries = %d, want 2 (the re-sends deduplicated)", got)
	}
}

// A redrive keeps the event's id but carries its number: the broker stores
// it, each number once, though the first send is still in the dedup window.
func TestIngressStoresRedrives(t *testing.T) {
	sub := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL}})
	post(t, url, newEvent("same", "test.t.v1"))
	for _, n := range []string{"1", "1", "2"} {
		e := newEvent("same", "test.t.v1")
		e.SetExtension(events.RedriveExtension, n)
		if got := post(t, url, e); got != http.StatusAccepted {
			t.Fatalf("redrive %s: status = %d, want 202", n, got)
		}
	}
	waitFor(t, 5*time.Second, "three deliveries", func() bool { return sub.count() >= 3 })
	time.Sleep(100 * time.Millisecond)
	if got := sub.count(); got != 3 {
		t.Errorf("deliveries = %d, want 3 (the event, redrives 1 and 2; the second 1 deduplicated)", got)
	}
}

func TestReadiness(t *testing.T) {
	dir := writeManifests(t, testTrigger{name: "all", service: "sub"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": "http://127.0.0.1:1"}})
	resp, err := http.Get(url + "/health/readiness")
	if err != nil {
		t.Fatalf("readiness: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readiness = %d, want 200", resp.StatusCode)
	}
}

func TestNewRejectsUnknownService(t *testing.T) {
	dir := writeManifests(t, testTrigger{name: "all", service: "nowhere"}.manifest())
	_, err := New(t.Context(), Config{TriggersDir: dir, StoreDir: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("New with an unknown subscriber: err = %v, want an error naming the service", err)
	}
}
