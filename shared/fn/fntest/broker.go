package fntest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/shared/fn"
)

// Broker stands in for the broker's ingress over HTTP: it keeps every
// CloudEvent it is sent and answers 202, answers 500 while Failing is set,
// and holds every request while paused (a stopped broker). Sink publishes
// to it.
type Broker struct {
	URL     string
	Sink    *fn.Sink
	Failing atomic.Bool

	mu     sync.Mutex
	events []event.Event
	paused chan struct{} // when set, requests wait until it is closed
}

// NewBroker serves a Broker until t ends.
func NewBroker(t testing.TB) *Broker {
	t.Helper()
	b := &Broker{}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	var err error
	if b.Sink, err = fn.NewSink(srv.URL); err != nil {
		t.Fatal(err)
	}
	return b
}

// Pause holds every request until the returned resume is called.
func (b *Broker) Pause() (resume func()) {
	ch := make(chan struct{})
	b.mu.Lock()
	b.paused = ch
	b.mu.Unlock()
	return sync.OnceFunc(func() { close(ch) })
}

// Events is what the broker has stored, in order.
func (b *Broker) Events() []event.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]event.Event(nil), b.events...)
}

func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	paused := b.paused
	b.mu.Unlock()
	if paused != nil {
		// Read the body first: only then does net/http notice a client
		// that hangs up (and cancel r's context).
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-paused:
		case <-r.Context().Done():
		}
		if r.Context().Err() != nil { // the publisher gave up before the broker stored it
			return
		}
	}
	if b.Failing.Load() {
		http.Error(w, "broker down", http.StatusInternalServerError)
		return
	}
	e, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.events = append(b.events, *e)
	b.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}
