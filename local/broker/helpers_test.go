package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"sigs.k8s.io/yaml"
)

// testTrigger describes a Trigger manifest for a test.
type testTrigger struct {
	name, typ, service     string
	attrs                  map[string]string
	retry                  int
	policy, delay, timeout string
	dls                    string // Service name of the dead-letter sink, "" for none
}

func (tt testTrigger) manifest() map[string]any {
	filter := map[string]any{}
	for k, v := range tt.attrs {
		filter[k] = v
	}
	if tt.typ != "" {
		filter["type"] = tt.typ
	}
	delivery := map[string]any{"retry": tt.retry, "backoffPolicy": or(tt.policy, "exponential"),
		"backoffDelay": or(tt.delay, "PT0.05S"), "timeout": or(tt.timeout, "PT2S")}
	if tt.dls != "" {
		delivery["deadLetterSink"] = map[string]any{"ref": serviceRef(tt.dls), "uri": "/dead-letters"}
	}
	return map[string]any{
		"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
		"metadata": map[string]any{"name": tt.name},
		"spec": map[string]any{"broker": "surge", "filter": map[string]any{"attributes": filter},
			"subscriber": map[string]any{"ref": serviceRef(tt.service)}, "delivery": delivery},
	}
}

func serviceRef(name string) map[string]any {
	return map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeManifests writes docs as one multi-document YAML file in a new dir.
func writeManifests(t testing.TB, docs ...map[string]any) string {
	t.Helper()
	var buf bytes.Buffer
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatalf("marshal manifest: %v", err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "triggers.yaml"), buf.Bytes(), 0o644); err != nil {
		t.Fatalf("write manifest: %v", err)
	}
	return dir
}

// sink is a subscriber that records what it receives.
type sink struct {
	URL     string
	mu      sync.Mutex
	events  []event.Event
	times   []time.Time
	respond func(n int, e *event.Event, w http.ResponseWriter) // n counts from 1
}

func newSink(t *testing.T, respond func(n int, e *event.Event, w http.ResponseWriter)) *sink {
	s := &sink{respond: respond}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Ce-Id") == "" {
		http.Error(w, "want a binary-mode CloudEvent", http.StatusUnsupportedMediaType)
		return
	}
	e, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.events = append(s.events, *e)
	s.times = append(s.times, time.Now())
	n := len(s.events)
	s.mu.Unlock()
	if s.respond == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.respond(n, e, w)
}

func (s *sink) received() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.events...)
}

func (s *sink) count() int { return len(s.received()) }

// startBroker runs a broker on a free port until the test ends.
func startBroker(t *testing.T, cfg Config) (*Broker, string) {
	t.Helper()
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Workers = or0(cfg.Workers, 8)
	log := slog.New(slog.NewJSONHandler(t.Output(), nil))
	b, err := New(t.Context(), cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, 5*time.Second, "broker ready", b.Ready)
	return b, "http://" + b.Addr().String()
}

func or0(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func newEvent(id, typ string) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource("/test")
	_ = e.SetData(event.ApplicationJSON, map[string]string{"id": id})
	return e
}

// post sends e in binary mode and returns the status code.
func post(t *testing.T, url string, e event.Event) int {
	t.Helper()
	req, err := cehttp.NewHTTPRequestFromEvent(t.Context(), url, e)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	return do(t, req)
}

// postStructured sends e in structured mode and returns the status code.
func postStructured(t *testing.T, url string, e event.Event) int {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal event: %v", err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
