package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/events"
)

// alertSink stands in for the broker's ingress (K_SINK): a real HTTP
// server that keeps every event posted to it.
type alertSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []event.Event
}

func newAlertSink(t *testing.T) *alertSink {
	t.Helper()
	s := &alertSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, *e)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// raised is the payload of every alert received so far.
func (s *alertSink) raised(t *testing.T) []events.AlertRaisedData {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.AlertRaisedData
	for _, e := range s.got {
		d, err := events.Decode[events.AlertRaisedData](e, events.TypeAlertRaised)
		if err != nil {
			t.Fatalf("sink got %s %s: %v", e.Type(), e.ID(), err)
		}
		out = append(out, d)
	}
	return out
}
