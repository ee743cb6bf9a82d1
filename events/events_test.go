package events_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
)

var at = time.Date(2030, 11, 11, 0, 0, 1, 0, time.UTC)

func requested() events.ClaimRequestedData {
	return events.ClaimRequestedData{ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice", SKU: "phone-x", Qty: 1, RequestedAt: at}
}

func reserved() events.ClaimReservedData {
	return events.ClaimReservedData{ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice", SKU: "phone-x", Qty: 1, Seq: 1, FirstSlot: 7, ReservedAt: at, PayBy: at.Add(10 * time.Minute)}
}

func queued() events.OrderQueuedData {
	return events.OrderQueuedData{ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice", OrderNo: "double11:phone-x:alice:1", Token: "tok"}
}

// withData is a valid claim.requested event carrying raw JSON data.
func withData(data string) event.Event {
	e := events.ClaimRequested(requested())
	if err := e.SetData(event.ApplicationJSON, []byte(data)); err != nil {
		panic(err)
	}
	return e
}

func TestDecodeRoundTrip(t *testing.T) {
	want := requested()
	got, err := events.Decode[events.ClaimRequestedData](events.ClaimRequested(want), events.TypeClaimRequested)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !got.RequestedAt.Equal(want.RequestedAt) {
		t.Errorf("RequestedAt = %v; want %v", got.RequestedAt, want.RequestedAt)
	}
	got.RequestedAt = want.RequestedAt
	if got != want {
		t.Errorf("Decode = %+v; want %+v", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	noID := events.ClaimRequested(requested())
	noID.SetID("")
	tests := []struct {
		name string
		e    event.Event
		typ  string
	}{
		{"wrong type", events.ClaimRequested(requested()), events.TypeClaimReserved},
		{"invalid envelope", noID, events.TypeClaimRequested},
		{"malformed json", withData(`{"claim_id": "x",`), events.TypeClaimRequested},
		{"not an object", withData(`[1, 2]`), events.TypeClaimRequested},
		{"trailing data", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s","qty":1} {"qty":2}`), events.TypeClaimRequested},
		{"trailing brace", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s","qty":1}}`), events.TypeClaimRequested},
		{"no data", withData(``), events.TypeClaimRequested},
		{"unknown field", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s","qty":1,"price":5}`), events.TypeClaimRequested},
		{"missing claim_id", withData(`{"campaign_id":"c","user_id":"u","sku":"s","qty":1}`), events.TypeClaimRequested},
		{"missing campaign_id", withData(`{"claim_id":"c.1","user_id":"u","sku":"s","qty":1}`), events.TypeClaimRequested},
		{"missing user_id", withData(`{"claim_id":"c.1","campaign_id":"c","sku":"s","qty":1}`), events.TypeClaimRequested},
		{"missing sku", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","qty":1}`), events.TypeClaimRequested},
		{"missing qty", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s"}`), events.TypeClaimRequested},
		{"negative qty", withData(`{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s","qty":-1}`), events.TypeClaimRequested},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Decode[events.ClaimRequestedData](tt.e, tt.typ)
			if !errors.Is(err, events.ErrInvalid) {
				t.Errorf("Decode err = %v; want one wrapping ErrInvalid", err)
			}
		})
	}
}

func TestDecodeRequiredFieldsOfEveryPayload(t *testing.T) {
	r := reserved()
	r.Seq = 0
	q := queued()
	q.Token = ""
	tests := []struct {
		name string
		err  error
	}{
		{"reserved without seq", decodeErr[events.ClaimReservedData](events.ClaimReserved(r), events.TypeClaimReserved)},
		{"rejected without reason", decodeErr[events.ClaimRejectedData](events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c.1", CampaignID: "c", UserID: "u"}, at), events.TypeClaimRejected)},
		{"queued without token", decodeErr[events.OrderQueuedData](events.OrderQueued(q, at), events.TypeOrderQueued)},
		{"settled without order_no", decodeErr[events.OrderSettledData](events.OrderSettled(events.OrderSettledData{ClaimID: "c.1", CampaignID: "c", UserID: "u", SettledAt: at}), events.TypeOrderSettled)},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, events.ErrInvalid) {
			t.Errorf("%s: err = %v; want one wrapping ErrInvalid", tt.name, tt.err)
		}
	}
}

func decodeErr[T events.Payload](e event.Event, typ string) error {
	_, err := events.Decode[T](e, typ)
	return err
}

// step is one function of the chain: its input event and the replies it may
// build from it.
type step struct {
	name    string
	in      event.Event
	replies []event.Event
}

func chain() []step {
	rej := events.ClaimRejectedData{ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice", Reason: events.ReasonSoldOut}
	settled := events.OrderSettledData{ClaimID: "double11.7f3a", CampaignID: "double11", UserID: "alice", OrderNo: "double11:phone-x:alice:1", SettledAt: at}
	return []step{
		{"prededuct", events.ClaimRequested(requested()), []event.Event{events.ClaimReserved(reserved()), events.ClaimRejected(rej, at)}},
		{"enqueue", events.ClaimReserved(reserved()), []event.Event{events.OrderQueued(queued(), at)}},
		{"settle", events.OrderQueued(queued(), at), []event.Event{events.OrderSettled(settled)}},
	}
}

func TestRepliesDifferFromInputs(t *testing.T) {
	for _, s := range chain() {
		for _, r := range s.replies {
			if r.Type() == s.in.Type() {
				t.Errorf("%s: reply type %q = input type; a Trigger would loop", s.name, r.Type())
			}
			if r.ID() == s.in.ID() {
				t.Errorf("%s: reply id %q = input id %q; want different", s.name, r.ID(), s.in.ID())
			}
		}
	}
	if a, b := events.ClaimReserved(reserved()).ID(), events.ClaimRejected(events.ClaimRejectedData{ClaimID: "double11.7f3a"}, at).ID(); a == b {
		t.Errorf("reserved and rejected replies share id %q; want different", a)
	}
}

func TestConstructorsAreDeterministic(t *testing.T) {
	first, again := chain(), chain()
	for i, s := range first {
		all := append([]event.Event{s.in}, s.replies...)
		allAgain := append([]event.Event{again[i].in}, again[i].replies...)
		for j, e := range all {
			if got, want := allAgain[j].ID(), e.ID(); got != want {
				t.Errorf("%s: %s id = %q on the second build; want %q", s.name, e.Type(), got, want)
			}
			if !strings.Contains(e.ID(), "double11.7f3a") {
				t.Errorf("%s: %s id %q does not derive from the claim id", s.name, e.Type(), e.ID())
			}
		}
	}
}

func TestConstructorsSetEnvelope(t *testing.T) {
	for _, s := range chain() {
		for _, e := range append([]event.Event{s.in}, s.replies...) {
			if err := e.Validate(); err != nil {
				t.Errorf("%s: %s invalid: %v", s.name, e.Type(), err)
			}
			if e.Subject() == "" {
				t.Errorf("%s: %s has no subject", s.name, e.Type())
			}
			if got, want := e.Extensions()[events.PartitionKeyExtension], "double11/alice"; got != want {
				t.Errorf("%s: %s partitionkey = %v; want %q", s.name, e.Type(), got, want)
			}
			if !e.Time().Equal(at) {
				t.Errorf("%s: %s time = %v; want %v", s.name, e.Type(), e.Time(), at)
			}
		}
	}
	if got, want := events.ClaimRequested(requested()).ID(), "double11.7f3a"; got != want {
		t.Errorf("claim.requested id = %q; want the claim id %q", got, want)
	}
}

func TestTerminalIsNoInput(t *testing.T) {
	inputs := []string{events.TypePing}
	for _, s := range chain() {
		inputs = append(inputs, s.in.Type())
	}
	for _, typ := range events.Terminal() {
		if slices.Contains(inputs, typ) {
			t.Errorf("Terminal() holds %q, the input of a function", typ)
		}
	}
	if got := len(events.Terminal()); got != 6 {
		t.Errorf("len(Terminal()) = %d; want 6 (rejected, settled, paid, released, reconcile report, budget low)", got)
	}
}

// order.paid and order.released: ids of the claim, the order number as
// subject, a payload that decodes back and refuses what is missing.
func TestOrderClosed(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	d := events.OrderClosedData{ClaimID: "c.1", CampaignID: "c", UserID: "u", OrderNo: "c:s:u:1", SKU: "s", Qty: 1, At: at}
	for _, tc := range []struct {
		e       event.Event
		typ, id string
	}{
		{events.OrderPaid(d), events.TypeOrderPaid, "c.1/paid"},
		{events.OrderReleased(d), events.TypeOrderReleased, "c.1/released"},
	} {
		if tc.e.Type() != tc.typ || tc.e.ID() != tc.id || tc.e.Subject() != d.OrderNo || !tc.e.Time().Equal(at) {
			t.Errorf("%s: id %q subject %q time %v; want %q, %q, %v", tc.typ, tc.e.ID(), tc.e.Subject(), tc.e.Time(), tc.id, d.OrderNo, at)
		}
		if got, err := events.Decode[events.OrderClosedData](tc.e, tc.typ); err != nil || got != d {
			t.Errorf("%s decodes to %+v, %v; want %+v", tc.typ, got, err, d)
		}
	}
	bad := d
	bad.Qty = 0
	if _, err := events.Decode[events.OrderClosedData](events.OrderPaid(bad), events.TypeOrderPaid); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("qty 0 decodes with %v; want ErrInvalid", err)
	}
}

func TestDecodeAcceptsTrailingWhitespace(t *testing.T) {
	e := withData("{\"claim_id\":\"c.1\",\"campaign_id\":\"c\",\"user_id\":\"u\",\"sku\":\"s\",\"qty\":2}\n")
	got, err := events.Decode[events.ClaimRequestedData](e, events.TypeClaimRequested)
	if err != nil || got.Qty != 2 {
		t.Errorf("Decode = %+v, %v; want qty 2, nil", got, err)
	}
}

// TestReservedSlots: a slot list must hold qty positive slots from
// first_slot; none at all is a range.
func TestReservedSlots(t *testing.T) {
	base := `{"claim_id":"c.1","campaign_id":"c","user_id":"u","sku":"s","qty":2,"seq":1,"first_slot":3,` +
		`"reserved_at":"2030-01-01T00:00:00Z","pay_by":"2030-01-01T00:10:00Z"`
	for _, tt := range []struct {
		slots string
		ok    bool
	}{{``, true}, {`,"slots":[3,9]`, true}, {`,"slots":[3]`, false}, {`,"slots":[4,9]`, false}, {`,"slots":[3,0]`, false}} {
		e := events.ClaimReserved(events.ClaimReservedData{})
		if err := e.SetData("application/json", []byte(base+tt.slots+`}`)); err != nil {
			t.Fatal(err)
		}
		_, err := events.Decode[events.ClaimReservedData](e, events.TypeClaimReserved)
		if (err == nil) != tt.ok {
			t.Errorf("slots %q: Decode err = %v; want ok %v", tt.slots, err, tt.ok)
		}
	}
}
