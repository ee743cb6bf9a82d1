package bench

import (
	"testing"

	"github.com/surgekit/surge/local/broker"
)

func TestStallsFindSpansWithoutDelivery(t *testing.T) {
	at := func(t float64, delivered, pending uint64) BrokerSample {
		return BrokerSample{T: t, Triggers: []broker.TriggerStats{{Trigger: "settle", Delivered: delivered, Pending: pending}}}
	}
	samples := []BrokerSample{
		at(0, 10, 5), at(1, 20, 5), // moving
		at(2, 20, 7), at(3, 20, 9), at(4, 20, 9), at(5, 20, 9), // stuck for 3 s with a backlog
		at(6, 40, 0), at(7, 40, 0), at(8, 40, 0), at(9, 40, 0), // idle: nothing waits
		at(10, 40, 1), at(11, 40, 1), // stuck 1 s: too short
		at(12, 41, 0),
	}
	got := stalls(samples)
	if len(got) != 1 || got[0] != (Stall{Trigger: "settle", From: 2, To: 5, Backlog: 9}) {
		t.Errorf("stalls = %+v; want one of settle from 2 to 5 s with a backlog of 9", got)
	}
}
