package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/plane"
)

// publisher is where reconcile raises its alerts: the broker (K_SINK).
type publisher interface {
	Send(ctx context.Context, e event.Event) error
}

// raise publishes one alert on this plane; id is deterministic, so a
// redelivered input raises the very same alert (the broker deduplicates).
func (f *Function) raise(ctx context.Context, id string, d events.AlertRaisedData) error {
	e := events.AlertRaised(id, d, f.cfg.Now().UTC())
	plane.Mark(&e, f.cfg.Plane)
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if err := f.cfg.Sink.Send(ctx, e); err != nil {
		return fmt.Errorf("raise %s alert: %w", d.Kind, err)
	}
	return nil
}

// raiseDeadLetter alerts on a stored dead letter, but for a dead alert:
// alerting on it would loop.
func (f *Function) raiseDeadLetter(ctx context.Context, e event.Event) error {
	if e.Type() == events.TypeAlertRaised {
		return nil
	}
	key, _ := e.Extensions()[events.PartitionKeyExtension].(string)
	campaign, _, _ := strings.Cut(key, "/")
	return f.raise(ctx, "alert/dead-letter/"+e.ID(), events.AlertRaisedData{
		Severity: events.SeverityWarning, Kind: events.AlertDeadLetter, CampaignID: campaign, Ref: e.ID(),
		What:   fmt.Sprintf("the broker gave up on %s %s from %s", e.Type(), e.ID(), e.Source()),
		Action: "fix what failed (see the dead letter's knativeerror*), then redrive it: GET /v1/dead-letters, POST /v1/dead-letters/{id}/redrive",
	})
}

// raisePass alerts on what a pass found: each campaign that mismatches
// (reconcile does not repair it), and each whose repairs exceed the
// threshold.
func (f *Function) raisePass(ctx context.Context, r Report) error {
	for _, c := range r.Campaigns {
		for _, d := range f.passAlerts(r, c) {
			if err := f.raise(ctx, "alert/"+r.Key+"/"+c.ID+"/"+d.Kind, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Function) passAlerts(r Report, c CampaignReport) []events.AlertRaisedData {
	var out []events.AlertRaisedData
	if c.Mismatch {
		out = append(out, events.AlertRaisedData{Severity: events.SeverityCritical, Kind: events.AlertUnrepairedMismatch,
			CampaignID: c.ID, Ref: r.Key,
			What: fmt.Sprintf("Redis and PostgreSQL disagree: %d units taken, %d accounted for (difference %d)",
				c.Taken, c.Accounted, c.Difference),
			Action: "read the report (GET /v1/campaigns/" + c.ID + "/reconcile), find where the units went, and rebuild or fix the campaign's Redis state"})
	}
	if c.Rebuild != nil && c.Rebuild.Done {
		out = append(out, rebuildAlert(r, c))
	}
	if c.Repairs > f.cfg.RepairThreshold {
		out = append(out, events.AlertRaisedData{Severity: events.SeverityWarning, Kind: events.AlertRepairsOver,
			CampaignID: c.ID, Ref: r.Key,
			What:   "one pass made " + strconv.Itoa(c.Repairs) + " repairs, over the threshold of " + strconv.Itoa(f.cfg.RepairThreshold),
			Action: "something upstream loses work: check the broker, settle and the dead letters"})
	}
	return out
}

// logAlert is the subscriber of the alerts Trigger: one error line per
// alert, where a log-based pager picks it up.
func (f *Function) logAlert(e event.Event) error {
	d, err := events.Decode[events.AlertRaisedData](e, events.TypeAlertRaised)
	if err != nil {
		return err
	}
	f.cfg.Log.Error("alert", "event_id", e.ID(), "severity", d.Severity, "kind", d.Kind, "campaign_id", d.CampaignID,
		"what", d.What, "action", d.Action, "ref", d.Ref)
	return nil
}
