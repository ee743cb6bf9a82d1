package main

import (
	"context"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
)

// kept is a Publisher that keeps what it is given.
type kept struct{ events []event.Event }

func (k *kept) Send(_ context.Context, e event.Event) error {
	k.events = append(k.events, e)
	return nil
}

func TestSignedSinkSignsWhatItSends(t *testing.T) {
	next := &kept{}
	sink := signedSink{next: next, key: eventsigtest.Key(t)}
	e := events.ClaimRequested(events.ClaimRequestedData{ClaimID: "sale.1", CampaignID: "sale", UserID: "alice", SKU: "cup", Qty: 1})
	if err := sink.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if len(next.events) != 1 {
		t.Fatalf("sent %d events, want 1", len(next.events))
	}
	if err := eventsigtest.Key(t).Verify(next.events[0]); err != nil {
		t.Errorf("the event sent does not verify: %v", err)
	}
}
