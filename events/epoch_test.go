package events_test

import (
	"testing"

	"github.com/surgekit/surge/events"
)

// A claim's first record publishes under the claim id; a later epoch (a
// new attempt after a refused one) under an id of its own, the rest alike.
func TestClaimRequestedEpoch(t *testing.T) {
	first, again := events.ClaimRequestedEpoch(requested(), 1), events.ClaimRequestedEpoch(requested(), 2)
	if first.ID() != "double11.7f3a" || events.ClaimRequestedEpoch(requested(), 0).ID() != first.ID() {
		t.Errorf("epoch 1 id = %q; want the claim id", first.ID())
	}
	if again.ID() != "double11.7f3a~2" {
		t.Errorf("epoch 2 id = %q; want double11.7f3a~2", again.ID())
	}
	if string(again.Data()) != string(first.Data()) || again.Subject() != first.Subject() || again.Type() != first.Type() {
		t.Errorf("epoch 2 = %s %s %s; want the same type, subject and data as epoch 1", again.Type(), again.Subject(), again.Data())
	}
}
