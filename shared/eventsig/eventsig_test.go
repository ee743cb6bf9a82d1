package eventsig_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig"
)

func newKey(t *testing.T, fill byte) *eventsig.Key {
	t.Helper()
	k, err := eventsig.NewKey(bytes.Repeat([]byte{fill}, eventsig.MinKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claim() event.Event {
	return events.ClaimRequested(events.ClaimRequestedData{ClaimID: "sale.1", CampaignID: "sale", UserID: "alice", SKU: "phone", Qty: 1})
}

func signed(t *testing.T, k *eventsig.Key, e event.Event) event.Event {
	t.Helper()
	if err := k.Sign(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestVerifyAcceptsWhatWasSigned(t *testing.T) {
	k := newKey(t, 1)
	noSubject := claim()
	noSubject.SetSubject("")
	shadow := claim()
	shadow.SetExtension("surgeshadow", "load-test-7")
	for name, e := range map[string]event.Event{"claim": claim(), "no subject": noSubject, "shadow extension": shadow} {
		if err := k.Verify(signed(t, k, e)); err != nil {
			t.Errorf("%s: Verify = %v, want nil", name, err)
		}
	}
}

// What a broker adds on the way (arrival time, dead-letter attributes,
// trace context) and the attributes left out keep the signature valid.
func TestVerifyIgnoresWhatBrokersAdd(t *testing.T) {
	k := newKey(t, 1)
	e := signed(t, k, claim())
	e.SetExtension("knativearrivaltime", "2026-11-11T00:00:00.1Z")
	e.SetExtension("knativeerrorcode", "400")
	e.SetExtension(events.RedriveExtension, "2") // an operator's redrive
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	e.SetTime(e.Time().Add(1))
	if err := k.Verify(e); err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	k := newKey(t, 1)
	tests := []struct {
		name string
		edit func(*event.Event)
		key  *eventsig.Key
		want error
	}{
		{"unsigned", func(e *event.Event) { *e = claim() }, k, eventsig.ErrUnsigned},
		{"wrong key", nil, newKey(t, 2), eventsig.ErrForged},
		{"data tampered", func(e *event.Event) {
			_ = e.SetData(event.ApplicationJSON, bytes.Replace(e.Data(), []byte(`"qty":1`), []byte(`"qty":9`), 1))
		}, k, eventsig.ErrForged},
		{"type changed", func(e *event.Event) { e.SetType(events.TypeClaimReserved) }, k, eventsig.ErrForged},
		{"id changed", func(e *event.Event) { e.SetID("sale.2") }, k, eventsig.ErrForged},
		{"source changed", func(e *event.Event) { e.SetSource("/elsewhere") }, k, eventsig.ErrForged},
		{"subject changed", func(e *event.Event) { e.SetSubject("sale.2") }, k, eventsig.ErrForged},
		{"subject removed", func(e *event.Event) { e.SetSubject("") }, k, eventsig.ErrForged},
		{"extension changed", func(e *event.Event) { e.SetExtension("partitionkey", "sale/mallory") }, k, eventsig.ErrForged},
		{"extension added", func(e *event.Event) { e.SetExtension("surgeshadow", "1") }, k, eventsig.ErrForged},
		{"extension removed", func(e *event.Event) { delete(e.Context.(*event.EventContextV1).Extensions, "partitionkey") }, k, eventsig.ErrForged},
		{"signature not base64", func(e *event.Event) { e.SetExtension(eventsig.Extension, "%%%") }, k, eventsig.ErrForged},
		{"signature of another event", func(e *event.Event) {
			other := claim()
			other.SetID("sale.2")
			other = signed(t, k, other)
			e.SetExtension(eventsig.Extension, other.Extensions()[eventsig.Extension])
		}, k, eventsig.ErrForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := signed(t, k, claim())
			if tt.edit != nil {
				tt.edit(&e)
			}
			if err := tt.key.Verify(e); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// The extension travels as a header: what the receiver decodes (every
// extension a string) verifies as what the sender signed.
func TestSignatureSurvivesStringExtensions(t *testing.T) {
	k := newKey(t, 1)
	e := claim()
	e.SetExtension("attempt", 3)
	e = signed(t, k, e)
	received := e.Clone()
	received.SetExtension("attempt", "3")
	if err := k.Verify(received); err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name, value, wantErr string
	}{
		{"unset", "", "SURGE_EVENT_KEY is required"},
		{"short", strings.Repeat("k", eventsig.MinKeyBytes-1), "SURGE_EVENT_KEY: event key: 31 bytes, want at least 32"},
		{"long enough", strings.Repeat("k", eventsig.MinKeyBytes), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := eventsig.FromEnv(func(string) string { return tt.value }, "SURGE_EVENT_KEY")
			switch {
			case tt.wantErr == "" && (err != nil || k == nil):
				t.Errorf("FromEnv = %v, %v; want a key", k, err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("FromEnv error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
