package events

import (
	"fmt"
	"time"
)

// ClaimRequestedData is a click the captcha function accepted.
type ClaimRequestedData struct {
	ClaimID     string    `json:"claim_id"`
	CampaignID  string    `json:"campaign_id"`
	UserID      string    `json:"user_id"`
	SKU         string    `json:"sku"`
	Qty         int       `json:"qty"`
	RequestedAt time.Time `json:"requested_at"`
}

// ClaimReservedData is a claim the pre-deduct script won: stock is held for
// it until PayBy. Seq is the user's n-th win in the campaign (1..limit); it
// makes the order number deterministic. The win holds stock units
// FirstSlot..FirstSlot+Qty-1 of the SKU (1..stock), or Slots when they
// are not a range (slots given back by releases and sold again), which
// PostgreSQL keeps unique so no unit is ever sold twice.
type ClaimReservedData struct {
	ClaimID    string    `json:"claim_id"`
	CampaignID string    `json:"campaign_id"`
	UserID     string    `json:"user_id"`
	SKU        string    `json:"sku"`
	Qty        int       `json:"qty"`
	Seq        int       `json:"seq"`
	FirstSlot  int       `json:"first_slot"`
	Slots      []int     `json:"slots,omitempty"`
	ReservedAt time.Time `json:"reserved_at"`
	PayBy      time.Time `json:"pay_by"`
}

// ClaimRejectedData is a claim that lost, with the reason.
type ClaimRejectedData struct {
	ClaimID    string `json:"claim_id"`
	CampaignID string `json:"campaign_id"`
	UserID     string `json:"user_id"`
	Reason     string `json:"reason"`
}

// OrderQueuedData is a won claim with its signed receipt token: from here on
// the win can only be settled, never lost.
type OrderQueuedData struct {
	ClaimID    string `json:"claim_id"`
	CampaignID string `json:"campaign_id"`
	UserID     string `json:"user_id"`
	OrderNo    string `json:"order_no"`
	Token      string `json:"token"`
}

// OrderSettledData is an order written to PostgreSQL.
type OrderSettledData struct {
	ClaimID    string    `json:"claim_id"`
	CampaignID string    `json:"campaign_id"`
	UserID     string    `json:"user_id"`
	OrderNo    string    `json:"order_no"`
	SettledAt  time.Time `json:"settled_at"`
}

// OrderClosedData is the end of a reservation's payment window: the
// order paid (order.paid, At is when) or released (order.released).
type OrderClosedData struct {
	ClaimID    string    `json:"claim_id"`
	CampaignID string    `json:"campaign_id"`
	UserID     string    `json:"user_id"`
	OrderNo    string    `json:"order_no"`
	SKU        string    `json:"sku"`
	Qty        int       `json:"qty"`
	At         time.Time `json:"at"`
}

// ReconcileReportData summarises one reconcile pass.
type ReconcileReportData struct {
	Campaigns  int    `json:"campaigns"`
	Mismatches int    `json:"mismatches"`
	ReportKey  string `json:"report_key"`
}

// AlertRaisedData is one alert: what happened and what the operator does
// about it. CampaignID is empty for what belongs to no campaign; Ref is
// the S3 key of the pass's report, or the id of the dead letter.
type AlertRaisedData struct {
	Severity   string `json:"severity"` // SeverityInfo, SeverityWarning or SeverityCritical
	Kind       string `json:"kind"`     // AlertDeadLetter, AlertRebuild, …
	CampaignID string `json:"campaign_id,omitempty"`
	What       string `json:"what"`
	Action     string `json:"action"`
	Ref        string `json:"ref,omitempty"`
}

// BudgetLowData is a rain's money issued crossing a threshold: Issued of
// Budget cents (the running total, flushed once a second by each enqueue
// instance) at At.
type BudgetLowData struct {
	CampaignID string    `json:"campaign_id"`
	Threshold  string    `json:"threshold"` // ThresholdLow or ThresholdExhausted
	Budget     int64     `json:"budget"`
	Issued     int64     `json:"issued"`
	At         time.Time `json:"at"`
}

func (d BudgetLowData) validate() error {
	return required("campaign_id", d.CampaignID, "threshold", d.Threshold)
}

func (d ClaimRequestedData) validate() error {
	if err := required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "sku", d.SKU); err != nil {
		return err
	}
	return positive("qty", d.Qty)
}

func (d ClaimReservedData) validate() error {
	if err := required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "sku", d.SKU); err != nil {
		return err
	}
	if err := positive("qty", d.Qty); err != nil {
		return err
	}
	if err := positive("seq", d.Seq); err != nil {
		return err
	}
	if err := positive("first_slot", d.FirstSlot); err != nil {
		return err
	}
	if d.Slots == nil {
		return nil
	}
	if len(d.Slots) != d.Qty || d.Slots[0] != d.FirstSlot {
		return fmt.Errorf("slots %v do not match qty %d from first_slot %d", d.Slots, d.Qty, d.FirstSlot)
	}
	for _, n := range d.Slots {
		if err := positive("slots", n); err != nil {
			return err
		}
	}
	return nil
}

func (d ClaimRejectedData) validate() error {
	return required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "reason", d.Reason)
}

func (d OrderQueuedData) validate() error {
	return required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "order_no", d.OrderNo, "token", d.Token)
}

func (d OrderSettledData) validate() error {
	return required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "order_no", d.OrderNo)
}

func (d OrderClosedData) validate() error {
	if err := required("claim_id", d.ClaimID, "campaign_id", d.CampaignID, "user_id", d.UserID, "order_no", d.OrderNo, "sku", d.SKU); err != nil {
		return err
	}
	return positive("qty", d.Qty)
}

func (d ReconcileReportData) validate() error { return nil }

func (d AlertRaisedData) validate() error {
	return required("severity", d.Severity, "kind", d.Kind, "what", d.What, "action", d.Action)
}

// required takes name, value pairs and names the first empty value.
func required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%w: %s is required", ErrInvalid, pairs[i])
		}
	}
	return nil
}

func positive(name string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%w: %s must be positive, got %d", ErrInvalid, name, v)
	}
	return nil
}
