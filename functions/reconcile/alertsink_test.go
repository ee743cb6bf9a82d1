package main

import (
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn/fntest"
)

// alertSink stands in for the broker's ingress (K_SINK): a real HTTP
// server that keeps every event posted to it.
type alertSink struct{ *fntest.Broker }

func newAlertSink(t *testing.T) *alertSink { return &alertSink{fntest.NewBroker(t)} }

// raised is the payload of every alert received so far (reconcile also
// publishes releases and repaired reservations there).
func (s *alertSink) raised(t *testing.T) []events.AlertRaisedData {
	t.Helper()
	var out []events.AlertRaisedData
	for _, e := range s.Events() {
		if e.Type() != events.TypeAlertRaised {
			continue
		}
		d, err := events.Decode[events.AlertRaisedData](e, events.TypeAlertRaised)
		if err != nil {
			t.Fatalf("sink got %s %s: %v", e.Type(), e.ID(), err)
		}
		out = append(out, d)
	}
	return out
}
