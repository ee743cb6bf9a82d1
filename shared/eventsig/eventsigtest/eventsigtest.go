// Package eventsigtest gives tests one event key, the one they configure
// functions with (SURGE_EVENT_KEY), and signs events with it as captcha
// and prededuct do.
//
//	f := New(Config{EventKey: eventsigtest.Key(t), ...})
//	fntest.Post(t, srv.URL, eventsigtest.Signed(t, e))
package eventsigtest

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/eventsig"
)

// Secret is the tests' event key.
const Secret = "eventsigtest-0123456789abcdef-0123456789abcdef"

// Key is the key of Secret.
func Key(t testing.TB) *eventsig.Key {
	t.Helper()
	k, err := eventsig.NewKey([]byte(Secret))
	if err != nil {
		t.Fatalf("eventsigtest.Key: %v", err)
	}
	return k
}

// Signed is a copy of e signed with Key; e is left unsigned.
func Signed(t testing.TB, e event.Event) event.Event {
	t.Helper()
	e = e.Clone()
	if err := Key(t).Sign(&e); err != nil {
		t.Fatalf("eventsigtest.Signed: %v", err)
	}
	return e
}
