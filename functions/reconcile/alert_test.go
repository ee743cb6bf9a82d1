package main

import (
	"net/http"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
)

// TestPassAlerts: alice and bob settled, carol in flight, stock 10; a
// lost order (remaining 6) raises one critical alert naming the report, a
// consistent pass none.
func TestPassAlerts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		remaining int
		want      int
	}{{"consistent", 7, 0}, {"lost order", 6, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.settle(t, "alice", 1)
			fx.settle(t, "bob", 2)
			fx.reserve(t, "carol")
			fx.setRemaining(t, tc.remaining)
			_, r := fx.ping(t, "ping-1")
			got := fx.alerts.raised(t)
			if len(got) != tc.want {
				t.Fatalf("alerts = %+v; want %d", got, tc.want)
			}
			for _, a := range got {
				if a.Kind != events.AlertUnrepairedMismatch || a.Severity != events.SeverityCritical ||
					a.CampaignID != "sale" || a.Ref != r.Key || a.Action == "" {
					t.Errorf("alert = %+v; want a critical unrepaired_mismatch of sale, ref %s", a, r.Key)
				}
			}
		})
	}
}

func TestDeadLetterAlert(t *testing.T) {
	fx := newFixture(t)
	e := eventsigtest.Signed(t, fx.pendingClaim(t, "sale.lost-click"))
	e.SetExtension("knativeerrorcode", "500")
	e.SetExtension(events.PartitionKeyExtension, "sale/erin")
	if status, body := fx.post(t, "/dead-letters", e); status != http.StatusAccepted {
		t.Fatalf("status = %d (%s); want 202", status, body)
	}
	got := fx.alerts.raised(t)
	if len(got) != 1 || got[0].Kind != events.AlertDeadLetter || got[0].Severity != events.SeverityWarning ||
		got[0].CampaignID != "sale" || got[0].Ref != e.ID() {
		t.Errorf("alerts = %+v; want one dead_letter warning of sale, ref %s", got, e.ID())
	}
}

// A dead alert is stored but raises none: alerting on it would loop.
func TestDeadAlertRaisesNone(t *testing.T) {
	fx := newFixture(t)
	e := events.AlertRaised("alert-1", events.AlertRaisedData{Severity: events.SeverityInfo, Kind: events.AlertRebuild,
		What: "w", Action: "a"}, at)
	e.SetExtension("knativeerrorcode", "500")
	if status, body := fx.post(t, "/dead-letters", e); status != http.StatusAccepted {
		t.Fatalf("status = %d (%s); want 202", status, body)
	}
	if got := fx.alerts.raised(t); len(got) != 0 {
		t.Errorf("alerts = %+v; want none", got)
	}
}

// The alerts Trigger delivers alerts back to reconcile, which logs them.
func TestAlertIsLogged(t *testing.T) {
	fx := newFixture(t)
	good := events.AlertRaised("alert-1", events.AlertRaisedData{Severity: events.SeverityInfo, Kind: events.AlertRebuild,
		What: "w", Action: "a"}, at)
	bad := events.AlertRaised("alert-2", events.AlertRaisedData{Kind: events.AlertRebuild}, at)
	if status, body := fx.post(t, "/", good); status != http.StatusAccepted {
		t.Errorf("alert: status = %d (%s); want 202", status, body)
	}
	if status, body := fx.post(t, "/", bad); status != http.StatusBadRequest {
		t.Errorf("alert without severity: status = %d (%s); want 400", status, body)
	}
}
