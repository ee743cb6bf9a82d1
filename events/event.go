package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// ErrInvalid marks an event no retry can fix: wrong type, missing fields,
// malformed data. Functions answer it with 400 so the broker dead-letters it.
var ErrInvalid = errors.New("invalid event")

// Payload is one of the data types above.
type Payload interface {
	ClaimRequestedData | ClaimReservedData | ClaimRejectedData |
		OrderQueuedData | OrderSettledData | OrderClosedData | ReconcileReportData | AlertRaisedData | BudgetLowData
	validate() error
}

// ClaimRequested is the event the captcha function publishes; its id is the
// claim id.
func ClaimRequested(d ClaimRequestedData) event.Event { return ClaimRequestedEpoch(d, 1) }

// ClaimRequestedEpoch is ClaimRequested for the epoch-th record of a claim
// (claim.FieldEpoch). The first keeps the claim id as its id; a later one,
// recorded after a refused attempt whose event the broker may have stored
// all the same, is <claim_id>~<epoch>, so the broker's dedup never drops it
// as that event's copy.
func ClaimRequestedEpoch(d ClaimRequestedData, epoch int) event.Event {
	id := d.ClaimID
	if epoch > 1 {
		id += "~" + strconv.Itoa(epoch)
	}
	return build(TypeClaimRequested, SourceCaptcha, id, d.ClaimID, d.CampaignID, d.UserID, d.RequestedAt, d)
}

// ClaimReserved replies to a claim the pre-deduct script won.
func ClaimReserved(d ClaimReservedData) event.Event {
	return build(TypeClaimReserved, SourcePrededuct, d.ClaimID+"/reserved", d.ClaimID, d.CampaignID, d.UserID, d.ReservedAt, d)
}

// ClaimRejected replies to a claim that lost.
func ClaimRejected(d ClaimRejectedData, at time.Time) event.Event {
	return build(TypeClaimRejected, SourcePrededuct, d.ClaimID+"/rejected", d.ClaimID, d.CampaignID, d.UserID, at, d)
}

// OrderQueued replies to a reservation once its receipt token exists.
func OrderQueued(d OrderQueuedData, at time.Time) event.Event {
	return build(TypeOrderQueued, SourceEnqueue, d.ClaimID+"/queued", d.OrderNo, d.CampaignID, d.UserID, at, d)
}

// OrderSettled replies to a queued order once PostgreSQL holds it.
func OrderSettled(d OrderSettledData) event.Event {
	return build(TypeOrderSettled, SourceSettle, d.ClaimID+"/settled", d.OrderNo, d.CampaignID, d.UserID, d.SettledAt, d)
}

// OrderPaid announces that a buyer paid an order before its pay_by; query
// emits it once the payment is in PostgreSQL.
func OrderPaid(d OrderClosedData) event.Event {
	return build(TypeOrderPaid, SourceQuery, d.ClaimID+"/paid", d.OrderNo, d.CampaignID, d.UserID, d.At, d)
}

// OrderReleased announces that an order was not paid by its pay_by: its
// units are back on sale. The release driver emits it once PostgreSQL
// released the order, before Redis gives the units back.
func OrderReleased(d OrderClosedData) event.Event {
	return build(TypeOrderReleased, SourceReconcile, d.ClaimID+"/released", d.OrderNo, d.CampaignID, d.UserID, d.At, d)
}

// ReconcileReport announces a finished reconcile pass.
func ReconcileReport(id string, d ReconcileReportData, at time.Time) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetType(TypeReconcileReport)
	e.SetSource(SourceReconcile)
	e.SetTime(at)
	_ = e.SetData(event.ApplicationJSON, d)
	return e
}

// AlertRaised is reconcile's alert id, with its campaign as subject.
func AlertRaised(id string, d AlertRaisedData, at time.Time) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetType(TypeAlertRaised)
	e.SetSource(SourceReconcile)
	e.SetSubject(d.CampaignID)
	e.SetTime(at)
	_ = e.SetData(event.ApplicationJSON, d)
	return e
}

// BudgetLow announces a rain crossing a budget threshold; its id names the
// campaign and the threshold, so each is announced once.
func BudgetLow(d BudgetLowData) event.Event {
	return build(TypeBudgetLow, SourceEnqueue, d.CampaignID+"/budget-"+d.Threshold, d.CampaignID, d.CampaignID, "", d.At, d)
}

func build(typ, source, id, subject, campaign, user string, at time.Time, data any) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(source)
	e.SetSubject(subject)
	e.SetTime(at)
	e.SetExtension(PartitionKeyExtension, PartitionKey(campaign, user))
	// Marshalling a struct of strings, ints and times cannot fail.
	_ = e.SetData(event.ApplicationJSON, data)
	return e
}

// PartitionKey orders a user's events within a campaign.
func PartitionKey(campaign, user string) string { return campaign + "/" + user }

// Decode checks that e is of type typ and decodes and validates its payload.
// Every error wraps ErrInvalid.
func Decode[T Payload](e event.Event, typ string) (T, error) {
	var d T
	if err := e.Validate(); err != nil {
		return d, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if e.Type() != typ {
		return d, fmt.Errorf("%w: type %q, want %q", ErrInvalid, e.Type(), typ)
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%w: data: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, fmt.Errorf("%w: data: trailing data after the JSON object", ErrInvalid)
	}
	if err := d.validate(); err != nil {
		return d, err
	}
	return d, nil
}
