package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
)

// TestAlertsAndReportsAPI: a dead letter and an on-demand pass that finds
// a unit gone from Redis each raise an alert, which the broker delivers
// to the alerts Trigger; the pass's report is answered and listed first
// through the gateway, for the operator only, on the plane asked for.
func TestAlertsAndReportsAPI(t *testing.T) {
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "watched", SKU: "cup", Stock: 5, Limit: 1})

	unsigned := events.ClaimRequested(events.ClaimRequestedData{ClaimID: keyspace.ClaimID("watched", "mallory-1"),
		CampaignID: "watched", UserID: "mallory", SKU: "cup", Qty: 1, RequestedAt: time.Now().UTC()})
	sink, err := fn.NewSink(s.BrokerURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Send(context.Background(), unsigned); err != nil {
		t.Fatal(err)
	}
	s.deadLetterCode(t, unsigned.ID())
	s.awaitDelivered(t, "alerts", 1)

	// A unit taken from Redis that no claim or order accounts for.
	stock := keyspace.New(s.env.KeyPrefix).Campaign("watched").Stock("cup")
	if err := s.redis(t).Decr(context.Background(), stock).Err(); err != nil {
		t.Fatal(err)
	}
	var run struct {
		Key        string `json:"key"`
		Mismatches int    `json:"mismatches"`
	}
	path := "/v1/campaigns/watched/reconcile"
	s.api.must(t, http.StatusOK, http.MethodPost, path, s.api.admin, nil, &run)
	if run.Mismatches != 1 {
		t.Fatalf("on-demand pass: %d mismatches (report %s); want 1", run.Mismatches, run.Key)
	}
	s.awaitDelivered(t, "alerts", 2)

	var list struct {
		Reports []struct {
			Key      string `json:"key"`
			Campaign struct {
				Difference int `json:"difference"`
			} `json:"campaign"`
		} `json:"reports"`
	}
	s.api.must(t, http.StatusOK, http.MethodGet, path+"?limit=5", s.api.admin, nil, &list)
	if len(list.Reports) == 0 || list.Reports[0].Key != run.Key || list.Reports[0].Campaign.Difference != 1 {
		t.Errorf("listing = %+v; want %s first, difference 1", list.Reports, run.Key)
	}
	s.api.must(t, http.StatusUnauthorized, http.MethodGet, path, "", nil, nil)
	s.api.must(t, http.StatusUnauthorized, http.MethodPost, path, "", nil, nil)
	s.api.must(t, http.StatusNotFound, http.MethodPost, "/v1/campaigns/nope/reconcile", s.api.admin, nil, nil)
	s.api.must(t, http.StatusNotFound, http.MethodGet, path+"?plane=shadow", s.api.admin, nil, nil) // not on the shadow plane
}

// awaitDelivered waits until the broker has delivered at least n events
// to trigger.
func (s *stack) awaitDelivered(t *testing.T, trigger string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.delivered(t, trigger) < n {
		if time.Now().After(deadline) {
			t.Fatalf("trigger %s: %d delivered after 30s; want %d", trigger, s.delivered(t, trigger), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
