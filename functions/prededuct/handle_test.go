package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn/fntest"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
	"github.com/surgekit/surge/shared/stock"
)

func requested(campaignID, unique, user string, qty int) events.ClaimRequestedData {
	return events.ClaimRequestedData{
		ClaimID: keyspace.ClaimID(campaignID, unique), CampaignID: campaignID,
		UserID: user, SKU: "phone", Qty: qty, RequestedAt: now,
	}
}

func TestReserved(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 5)
	status, reply := h.post(t, events.ClaimRequested(requested("sale", "1", "alice", 1)))
	if status != http.StatusOK || reply == nil {
		t.Fatalf("status %d; want 200 with a reply", status)
	}
	got, err := events.Decode[events.ClaimReservedData](*reply, events.TypeClaimReserved)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	want := events.ClaimReservedData{
		ClaimID: "sale.1", CampaignID: "sale", UserID: "alice", SKU: "phone", Qty: 1,
		Seq: 1, FirstSlot: 1, ReservedAt: now, PayBy: now.Add(10 * time.Minute),
	}
	if !got.ReservedAt.Equal(want.ReservedAt) || !got.PayBy.Equal(want.PayBy) {
		t.Errorf("reply times = %v, %v; want %v, %v", got.ReservedAt, got.PayBy, want.ReservedAt, want.PayBy)
	}
	got.ReservedAt, got.PayBy, want.ReservedAt, want.PayBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) || reply.ID() != "sale.1/reserved" || reply.Source() != events.SourcePrededuct {
		t.Errorf("reply %s from %s = %+v; want sale.1/reserved from %s, %+v", reply.ID(), reply.Source(), got, events.SourcePrededuct, want)
	}
	if err := eventsigtest.Key(t).Verify(*reply); err != nil {
		t.Errorf("reply not signed for enqueue: %v", err)
	}
	if left := h.stock(t, "sale"); left != 4 {
		t.Errorf("stock = %d; want 4", left)
	}
}

// TestUnsignedEventChangesNothing: a claim.requested that captcha did not
// sign, or that was changed after it signed, is poison (400, dead-lettered
// without retries) and reserves nothing.
func TestUnsignedEventChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 5)
	claim := events.ClaimRequested(requested("sale", "1", "alice", 1))
	otherKey, err := eventsig.NewKey([]byte(strings.Repeat("x", eventsig.MinKeyBytes)))
	if err != nil {
		t.Fatal(err)
	}
	forged := claim.Clone()
	if err := otherKey.Sign(&forged); err != nil {
		t.Fatal(err)
	}
	tampered := eventsigtest.Signed(t, claim)
	_ = tampered.SetData(event.ApplicationJSON, strings.Replace(string(tampered.Data()), `"qty":1`, `"qty":2`, 1))
	for name, e := range map[string]event.Event{"unsigned": claim, "signed with another key": forged, "tampered after signing": tampered} {
		t.Run(name, func(t *testing.T) {
			if status, _ := fntest.Post(t, h.srv.URL, e); status != http.StatusBadRequest {
				t.Errorf("status %d; want 400", status)
			}
			h.checkUntouched(t, "sale", 5)
		})
	}
}

func TestRejected(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 1)
	h.post(t, events.ClaimRequested(requested("sale", "1", "bob", 1)))
	tests := []struct {
		name   string
		data   events.ClaimRequestedData
		reason string
	}{
		{"sold out", requested("sale", "2", "alice", 1), events.ReasonSoldOut},
		{"limit reached", requested("sale", "3", "bob", 1), events.ReasonLimitReached},
		{"not warm", requested("cold", "1", "alice", 1), events.ReasonNotOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reply := h.post(t, events.ClaimRequested(tt.data))
			if status != http.StatusOK || reply == nil {
				t.Fatalf("status %d; want 200 with a reply", status)
			}
			got, err := events.Decode[events.ClaimRejectedData](*reply, events.TypeClaimRejected)
			if err != nil {
				t.Fatalf("reply: %v", err)
			}
			if err := eventsigtest.Key(t).Verify(*reply); err != nil {
				t.Errorf("reply not signed: %v", err)
			}
			if got.Reason != tt.reason || got.ClaimID != tt.data.ClaimID || reply.ID() != tt.data.ClaimID+"/rejected" {
				t.Errorf("reply %s = %+v; want reason %s for %s", reply.ID(), got, tt.reason, tt.data.ClaimID)
			}
		})
	}
}

func TestDuplicateDelivery(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 5)
	e := events.ClaimRequested(requested("sale", "1", "alice", 1))
	_, first := h.post(t, e)
	_, again := h.post(t, e)
	if first == nil || again == nil {
		t.Fatal("want a reply to both deliveries")
	}
	if again.ID() != first.ID() || again.Type() != first.Type() || string(again.Data()) != string(first.Data()) {
		t.Errorf("redelivery replied %s %s; want the first reply %s %s", again.ID(), again.Data(), first.ID(), first.Data())
	}
	if left := h.stock(t, "sale"); left != 4 {
		t.Errorf("stock = %d after a duplicate; want 4 (one deduction)", left)
	}
}

func TestInvalidEventChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 5)
	valid := events.ClaimRequested(requested("sale", "1", "alice", 1))
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
	}{
		{"no ce-id", func(t *testing.T) *http.Request { return h.rawRequest(t, "", events.TypeClaimRequested, `{}`) }},
		{"data not json", func(t *testing.T) *http.Request { return h.rawRequest(t, "sale.1", events.TypeClaimRequested, `{`) }},
		{"unknown field", func(t *testing.T) *http.Request {
			return h.rawRequest(t, "sale.1", events.TypeClaimRequested, strings.Replace(string(valid.Data()), "{", `{"extra":1,`, 1))
		}},
		{"wrong type", func(t *testing.T) *http.Request {
			return fntest.Request(t, h.srv.URL, retyped(t, valid, events.TypeClaimReserved))
		}},
		{"missing sku", func(t *testing.T) *http.Request {
			return fntest.Request(t, h.srv.URL, edited(t, func(d *events.ClaimRequestedData) { d.SKU = "" }))
		}},
		{"zero qty", func(t *testing.T) *http.Request {
			return fntest.Request(t, h.srv.URL, edited(t, func(d *events.ClaimRequestedData) { d.Qty = 0 }))
		}},
		{"claim of another campaign", func(t *testing.T) *http.Request {
			return fntest.Request(t, h.srv.URL, edited(t, func(d *events.ClaimRequestedData) { d.ClaimID = "other.1" }))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _ := fntest.Reply(t, tt.req(t)); status != http.StatusBadRequest {
				t.Errorf("status %d; want 400", status)
			}
			h.checkUntouched(t, "sale", 5)
		})
	}
}

func TestRedisErrorIsRetried(t *testing.T) {
	h := newHarness(t)
	meta := h.keys.Campaign("sale").Meta()
	if err := h.rdb.Set(context.Background(), meta, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if status, _ := h.post(t, events.ClaimRequested(requested("sale", "1", "alice", 1))); status != http.StatusInternalServerError {
		t.Errorf("status %d; want 500 (retried)", status)
	}
}

func TestReadyOnceRedisIsOpen(t *testing.T) {
	base := newHarness(t)
	f := New(base.f.cfg)
	h := &harness{f: f, keys: base.keys, rdb: base.rdb}
	h.srv = httptest.NewServer(fntest.Handler(t, f))
	defer h.srv.Close()
	srv := h.srv
	if got := readiness(t, srv.URL); got != http.StatusServiceUnavailable {
		t.Errorf("readiness before Start = %d; want 503", got)
	}
	if status, _ := h.post(t, events.ClaimRequested(requested("sale", "1", "alice", 1))); status != http.StatusInternalServerError {
		t.Errorf("event before Start: status %d; want 500 (retried)", status)
	}
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := readiness(t, srv.URL); got != http.StatusOK {
		t.Errorf("readiness after Start = %d; want 200", got)
	}
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readiness(t, srv.URL); got != http.StatusServiceUnavailable {
		t.Errorf("readiness after Stop = %d; want 503", got)
	}
}

// retyped is e with another type, signed.
func retyped(t *testing.T, e event.Event, typ string) event.Event {
	e = e.Clone()
	e.SetType(typ)
	return eventsigtest.Signed(t, e)
}

// edited is a claim of alice's changed by change, signed.
func edited(t *testing.T, change func(*events.ClaimRequestedData)) event.Event {
	d := requested("sale", "1", "alice", 1)
	change(&d)
	return eventsigtest.Signed(t, events.ClaimRequested(d))
}

// TestShadowReplySignedWithItsMark: a shadow prededuct's reply carries the
// shadow mark under its signature, so enqueue takes it (and a mark added
// after signing would have made every shadow reservation poison).
func TestShadowReplySignedWithItsMark(t *testing.T) {
	f := New(Config{Plane: plane.Shadow, EventKey: eventsigtest.Key(t)})
	d := requested("sale", "1", "alice", 1)
	reply, err := f.signed(reply(d, stock.Decision{State: claim.Reserved, Seq: 1, FirstSlot: 1, ReservedAt: now, PayBy: now}, now))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := plane.Of(*reply); err != nil || p != plane.Shadow {
		t.Errorf("reply plane = %v, %v; want shadow", p, err)
	}
	if err := eventsigtest.Key(t).Verify(*reply); err != nil {
		t.Errorf("shadow reply does not verify: %v", err)
	}
}
