package broker

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

func TestFiltersRoute(t *testing.T) {
	all, vip := newSink(t, nil), newSink(t, nil)
	dir := writeManifests(t,
		testTrigger{name: "all-claims", typ: "test.claim.v1", service: "all"}.manifest(),
		testTrigger{name: "vip-claims", typ: "test.claim.v1", attrs: map[string]string{"tier": "vip"}, service: "vip"}.manifest(),
	)
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"all": all.URL, "vip": vip.URL}})

	plain := newEvent("plain", "test.claim.v1")
	gold := newEvent("gold", "test.claim.v1")
	gold.SetExtension("tier", "vip")
	for _, e := range []event.Event{plain, gold, newEvent("other", "test.other.v1")} {
		if got := post(t, url, e); got != http.StatusAccepted {
			t.Fatalf("post %s: status %d", e.ID(), got)
		}
	}
	waitFor(t, 5*time.Second, "deliveries", func() bool { return all.count() == 2 && vip.count() == 1 })
	time.Sleep(100 * time.Millisecond)
	if got := ids(all.received()); len(got) != 2 || !got["plain"] || !got["gold"] {
		t.Errorf("all-claims got %v, want plain and gold", got)
	}
	if got := ids(vip.received()); len(got) != 1 || !got["gold"] {
		t.Errorf("vip-claims got %v, want gold only", got)
	}
}

func ids(es []event.Event) map[string]bool {
	m := map[string]bool{}
	for _, e := range es {
		m[e.ID()] = true
	}
	return m
}

func TestRetryExponentialThenSuccess(t *testing.T) {
	sub := newSink(t, func(n int, _ *event.Event, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	dls := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "t", service: "sub", retry: 3, delay: "PT0.1S", dls: "dls"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}})

	post(t, url, newEvent("r-1", "test.t.v1"))
	waitFor(t, 5*time.Second, "3 attempts", func() bool { return sub.count() == 3 })
	sub.mu.Lock()
	gap1, gap2 := sub.times[1].Sub(sub.times[0]), sub.times[2].Sub(sub.times[1])
	sub.mu.Unlock()
	if gap1 < 100*time.Millisecond || gap2 < 200*time.Millisecond {
		t.Errorf("retry gaps = %v, %v; want >= 100ms then >= 200ms (exponential)", gap1, gap2)
	}
	time.Sleep(300 * time.Millisecond)
	if sub.count() != 3 || dls.count() != 0 {
		t.Errorf("attempts = %d, dead letters = %d; want 3 and 0", sub.count(), dls.count())
	}
}

func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		attempts int
	}{
		{"poison 400 is not retried", http.StatusBadRequest, 1},
		{"503 until retries are exhausted", http.StatusServiceUnavailable, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := newSink(t, func(_ int, _ *event.Event, w http.ResponseWriter) {
				w.WriteHeader(tt.code)
				_, _ = w.Write([]byte("boom"))
			})
			dls := newSink(t, nil)
			dir := writeManifests(t, testTrigger{name: "t", service: "sub", retry: 2, delay: "PT0.02S", dls: "dls"}.manifest())
			_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}})

			post(t, url, newEvent("d-1", "test.t.v1"))
			waitFor(t, 5*time.Second, "dead letter", func() bool { return dls.count() == 1 })
			time.Sleep(100 * time.Millisecond)
			if got := sub.count(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
			checkDeadLetter(t, dls.received()[0], tt.code, sub.URL)
		})
	}
}

func checkDeadLetter(t *testing.T, dl event.Event, code int, dest string) {
	t.Helper()
	ext := dl.Extensions()
	if got, _ := attribute(&dl, "knativeerrorcode"); got != strconv.Itoa(code) {
		t.Errorf("knativeerrorcode = %q, want %d", got, code)
	}
	if got := ext["knativeerrordest"]; got != dest {
		t.Errorf("knativeerrordest = %v, want %s", got, dest)
	}
	if got := ext["knativeerrordata"]; got != base64.StdEncoding.EncodeToString([]byte("boom")) {
		t.Errorf("knativeerrordata = %v, want base64 of boom", got)
	}
	if dl.ID() != "d-1" || dl.Type() != "test.t.v1" {
		t.Errorf("dead letter = %s/%s, want the original event d-1/test.t.v1", dl.ID(), dl.Type())
	}
}

// replyWith answers every delivery with a binary-mode event of type typ.
func replyWith(typ string) func(int, *event.Event, http.ResponseWriter) {
	return func(_ int, in *event.Event, w http.ResponseWriter) {
		out := newEvent(in.ID()+"-reply", typ)
		w.Header().Set("Ce-Specversion", "1.0")
		w.Header().Set("Ce-Id", out.ID())
		w.Header().Set("Ce-Type", out.Type())
		w.Header().Set("Ce-Source", "/replier")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out.Data())
	}
}

func TestReplyIsRoutedAgain(t *testing.T) {
	first := newSink(t, replyWith("test.second.v1"))
	second := newSink(t, nil)
	dir := writeManifests(t,
		testTrigger{name: "first", typ: "test.first.v1", service: "first"}.manifest(),
		testTrigger{name: "second", typ: "test.second.v1", service: "second"}.manifest(),
	)
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"first": first.URL, "second": second.URL}})

	post(t, url, newEvent("c-1", "test.first.v1"))
	waitFor(t, 5*time.Second, "reply delivered", func() bool { return second.count() == 1 })
	if got := second.received()[0]; got.ID() != "c-1-reply" || got.Source() != "/replier" {
		t.Errorf("second trigger got %s from %s, want c-1-reply from /replier", got.ID(), got.Source())
	}
}

func TestDuplicateDeliveryDeliversTwice(t *testing.T) {
	first := newSink(t, replyWith("test.second.v1"))
	second := newSink(t, nil)
	dir := writeManifests(t,
		testTrigger{name: "first", typ: "test.first.v1", service: "first"}.manifest(),
		testTrigger{name: "second", typ: "test.second.v1", service: "second"}.manifest(),
	)
	_, url := startBroker(t, Config{TriggersDir: dir, DuplicateDelivery: true,
		Services: map[string]string{"first": first.URL, "second": second.URL}})

	const n = 5
	for i := range n {
		post(t, url, newEvent("dup-"+strconv.Itoa(i), "test.first.v1"))
	}
	// Each event twice; each of the two identical replies (not deduplicated) twice.
	waitFor(t, 5*time.Second, "all deliveries", func() bool { return first.count() == 2*n && second.count() == 4*n })
	time.Sleep(200 * time.Millisecond)
	if first.count() != 2*n || second.count() != 4*n {
		t.Errorf("deliveries = %d and %d, want %d and %d", first.count(), second.count(), 2*n, 4*n)
	}
	perID := map[string]int{}
	for _, e := range first.received() {
		perID[e.ID()]++
	}
	for id, c := range perID {
		if c != 2 {
			t.Errorf("event %s delivered %d times, want 2", id, c)
		}
	}
}

func TestDeadLetterSinkFailureIsRetried(t *testing.T) {
	sub := newSink(t, func(_ int, _ *event.Event, w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("boom"))
	})
	dls := newSink(t, func(n int, _ *event.Event, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	dir := writeManifests(t, testTrigger{name: "t", service: "sub", retry: 2, delay: "PT0.02S", dls: "dls"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}})

	post(t, url, newEvent("d-1", "test.t.v1"))
	waitFor(t, 5*time.Second, "dead letter accepted", func() bool { return dls.count() == 2 })
	time.Sleep(100 * time.Millisecond)
	if got := dls.count(); got != 2 {
		t.Errorf("dead-letter deliveries = %d, want 2 (one failure, one success)", got)
	}
	checkDeadLetter(t, dls.received()[1], http.StatusBadRequest, sub.URL)
}

// A subscriber paused by the operator (503 with Surge-Paused) spends none
// of the event's attempts: with one retry allowed, five paused answers
// and then a failure and a success still deliver the event, with no dead
// letter.
func TestPausedSubscriberSpendsNoAttempt(t *testing.T) {
	sub := newSink(t, func(n int, _ *event.Event, w http.ResponseWriter) {
		switch {
		case n <= 5:
			w.Header().Set(pausedHeader, "true")
			w.WriteHeader(http.StatusServiceUnavailable)
		case n == 6:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	dls := newSink(t, nil)
	dir := writeManifests(t, testTrigger{name: "t", service: "sub", retry: 1, delay: "PT0.1S", dls: "dls"}.manifest())
	_, url := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"sub": sub.URL, "dls": dls.URL}})

	post(t, url, newEvent("p-1", "test.t.v1"))
	waitFor(t, 30*time.Second, "7 deliveries", func() bool { return sub.count() == 7 })
	time.Sleep(300 * time.Millisecond)
	if sub.count() != 7 || dls.count() != 0 {
		t.Errorf("deliveries = %d, dead letters = %d; want 7 and 0", sub.count(), dls.count())
	}
}
