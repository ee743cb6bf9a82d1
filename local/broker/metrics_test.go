package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/scrape"
)

// TestMetricsCountDeliveries: three events the subscriber fails once (500)
// and then holds, one it holds at once, one it refuses (400,
// dead-lettered), four that wait behind the held ones, and a re-send: /metrics shows the backlog, the
// unacknowledged and redelivered events while held, every delivery by
// the subscriber's answer, the dead letter and the ingested events; and
// after the release, everything delivered.
func TestMetricsCountDeliveries(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	attempts := map[string]int{}
	held := 0
	sub := newSink(t, func(_ int, e *event.Event, w http.ResponseWriter) {
		mu.Lock()
		attempts[e.ID()]++
		n := attempts[e.ID()]
		if (strings.HasPrefix(e.ID(), "fail-") && n == 2) || e.ID() == "hold" {
			held++
		}
		mu.Unlock()
		switch {
		case e.ID() == "poison":
			w.WriteHeader(http.StatusBadRequest)
		case strings.HasPrefix(e.ID(), "fail-") && n == 1:
			w.WriteHeader(http.StatusInternalServerError)
		case strings.HasPrefix(e.ID(), "fail-"), e.ID() == "hold":
			<-release
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	dls := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "claims", typ: events.TypeClaimRequested, service: "sub", retry: 3, dls: "dls"}.manifest())
	_, base := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}, Workers: 4})

	for _, id := range []string{"poison", "hold", "fail-0", "fail-1", "fail-2"} {
		mustPost(t, base, newEvent(id, events.TypeClaimRequested))
	}
	waitFor(t, 10*time.Second, "three failed events redelivered and held, one held, the poison dead-lettered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return held == 4 && dls.count() == 1
	})
	for i := range 4 { // every worker is held: these wait in the backlog
		mustPost(t, base, newEvent(fmt.Sprint("ok-", i), events.TypeClaimRequested))
	}
	mustPost(t, base, newEvent("ok-0", events.TypeClaimRequested)) // a re-send: dropped as a duplicate
	wantMetrics(t, base, "while four are held", map[string]float64{
		"surge_broker_backlog":                         4,
		"surge_broker_unacknowledged":                  4,
		"surge_broker_redelivered":                     3,
		"surge_broker_deliveries_in_flight":            4,
		"surge_broker_redeliveries_total":              3,
		"surge_broker_dead_letters_total":              1,
		"surge_broker_delivery_duration_seconds_count": 4,
		"2xx": 0, "4xx": 1, "5xx": 3, "timeout": 0, "error": 0,
		"ingested": 9, "duplicate": 1,
	})
	close(release)
	waitFor(t, 10*time.Second, "every event delivered", func() bool { return sub.count() == 12 })
	waitFor(t, 10*time.Second, "every event acknowledged", func() bool {
		s := scrape.Get(t, base+"/metrics")
		v, _ := s.Value("surge_broker_unacknowledged", "trigger", "claims")
		return v == 0
	})
	wantMetrics(t, base, "after the release", map[string]float64{
		"surge_broker_backlog":                         0,
		"surge_broker_unacknowledged":                  0,
		"surge_broker_redelivered":                     0,
		"surge_broker_deliveries_in_flight":            0,
		"surge_broker_redeliveries_total":              3,
		"surge_broker_dead_letters_total":              1,
		"surge_broker_delivery_duration_seconds_count": 12,
		"2xx": 8, "4xx": 1, "5xx": 3, "timeout": 0, "error": 0,
		"ingested": 9, "duplicate": 1,
	})
}

// TestMetricsCountTimeouts: a subscriber slower than the trigger's
// timeout is a delivery answered "timeout", then a dead letter.
func TestMetricsCountTimeouts(t *testing.T) {
	sub := newSink(t, func(_ int, _ *event.Event, w http.ResponseWriter) {
		time.Sleep(time.Second)
		w.WriteHeader(http.StatusAccepted)
	})
	dls := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "claims", typ: events.TypeClaimRequested, service: "sub", timeout: "PT0.2S", dls: "dls"}.manifest())
	_, base := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}})
	mustPost(t, base, newEvent("slow", events.TypeClaimRequested))
	waitFor(t, 10*time.Second, "the dead letter", func() bool { return dls.count() == 1 })
	wantMetrics(t, base, "after a timeout", map[string]float64{
		"surge_broker_dead_letters_total": 1, "surge_broker_redeliveries_total": 0,
		"2xx": 0, "4xx": 0, "5xx": 0, "timeout": 1, "error": 0, "ingested": 1, "duplicate": 0,
	})
}

// wantMetrics scrapes the broker and compares the series of trigger
// "claims" (and of type claim.requested) to want. The keys "2xx" … "error"
// stand for surge_broker_deliveries_total of that status, "ingested" and
// "duplicate" for the events counted at ingestion.
func wantMetrics(t *testing.T, base, when string, want map[string]float64) {
	t.Helper()
	s := scrape.Get(t, base+"/metrics")
	for name, w := range want {
		var got float64
		var ok bool
		switch name {
		case "2xx", "4xx", "5xx", "timeout", "error":
			got, ok = s.Value("surge_broker_deliveries_total", "trigger", "claims", "status", name)
		case "ingested", "duplicate":
			metric := map[string]string{"ingested": "surge_broker_events_ingested_total", "duplicate": "surge_broker_events_duplicate_total"}[name]
			got, ok = s.Value(metric, "type", events.TypeClaimRequested)
		default:
			got, ok = s.Value(name, "trigger", "claims")
		}
		if !ok || got != w {
			t.Errorf("%s: %s = %v (present %v); want %v", when, name, got, ok, w)
		}
	}
}

func mustPost(t *testing.T, base string, e event.Event) {
	t.Helper()
	if got := post(t, base, e); got != http.StatusAccepted {
		t.Fatalf("post %s: status %d; want 202", e.ID(), got)
	}
}

func TestAnswerOf(t *testing.T) {
	timeout := &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}
	refused := &url.Error{Op: "Post", URL: "http://x", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		res  result
		want answer
	}{
		{"accepted", result{status: 202}, answer2xx},
		{"accepted with a bad reply", result{status: 200, err: errBadReply}, answer2xx},
		{"not found", result{status: 404, err: errors.New("status 404")}, answer4xx},
		{"unavailable", result{status: 503, err: errors.New("status 503")}, answer5xx},
		{"deadline", result{err: timeout}, answerTimeout},
		{"refused", result{err: refused}, answerError},
		{"a redirect not followed", result{status: 302, err: errors.New("status 302")}, answerError},
	}
	for _, tt := range tests {
		if got := answerOf(tt.res); got != tt.want {
			t.Errorf("%s: answerOf = %s; want %s", tt.name, answerNames[got], answerNames[tt.want])
		}
	}
}
