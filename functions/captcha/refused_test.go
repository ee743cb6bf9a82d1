package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
	"github.com/surgekit/surge/shared/stock"
)

// scripted is a broker ingress whose every answer the test writes: send
// gets the event and the publish number (from 1) and says what the
// publisher is told. Every event is kept: the broker stored it.
type scripted struct {
	mu     sync.Mutex
	stored []event.Event
	send   func(e event.Event, n int) error
}

func (s *scripted) Send(_ context.Context, e event.Event) error {
	s.mu.Lock()
	s.stored = append(s.stored, e)
	n := len(s.stored)
	s.mu.Unlock()
	return s.send(e, n)
}

func (s *scripted) events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.stored...)
}

// deduct runs the pre-deduct script on a stored claim.requested, as
// prededuct does when the broker delivers it.
func (fx *fixture) deduct(t *testing.T, e event.Event) stock.Decision {
	t.Helper()
	d, err := events.Decode[events.ClaimRequestedData](e, events.TypeClaimRequested)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := stock.NewDeducter(fx.rdb, fx.keys).Deduct(context.Background(), stock.Request{ClaimID: d.ClaimID,
		CampaignID: d.CampaignID, UserID: d.UserID, SKU: d.SKU, Qty: d.Qty, Now: d.RequestedAt, RequestedAt: d.RequestedAt})
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func scriptedFixture(t *testing.T, s *scripted) *fixture {
	fx := newFixtureWith(t, captcha.Config{}, func(d *Deps) { d.Sink = s })
	fx.warm(t, "open", false)
	return fx
}

var twoCups = map[string]any{"sku": "cup", "qty": 2} // the per-user limit

// firstTimesOut is a broker that stores every event but answers the first
// publish too late (the publisher's deadline passed), the rest in time.
func firstTimesOut() *scripted {
	return &scripted{send: func(_ event.Event, n int) error {
		if n == 1 {
			return context.DeadlineExceeded
		}
		return nil
	}}
}

// The publish timed out but the broker stored the claim: the client is
// told 503, and when the event reaches prededuct it changes nothing, so
// the user's next click gets the units (not limit_reached).
func TestPublishTimedOutButStored(t *testing.T) {
	s := firstTimesOut()
	fx := scriptedFixture(t, s)
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups)
	if w.Code != http.StatusServiceUnavailable || httpapitest.ErrorCode(w) != "unavailable" || w.Header().Get("Retry-After-Ms") == "" {
		t.Fatalf("claim whose publish timed out: %d %s %v; want 503 unavailable with Retry-After-Ms", w.Code, w.Body, w.Header())
	}
	if dec := fx.deduct(t, s.events()[0]); dec.State != claim.Refused {
		t.Fatalf("the stored event of the refused claim decided %+v; want it dropped (refused)", dec)
	}
	if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups); w.Code != http.StatusAccepted {
		t.Fatalf("next click: %d %s; want 202", w.Code, w.Body)
	}
	if dec := fx.deduct(t, s.events()[1]); dec.State != claim.Reserved {
		t.Fatalf("the next click decided %+v; want reserved: the refused claim held nothing", dec)
	}
	if held := fx.rdb.HGet(context.Background(), fx.keys.Campaign("open").Held(), "alice").Val(); held != "2" {
		t.Fatalf("alice holds %q units; want 2", held)
	}
}

// Prededuct decided the claim before captcha gave up on the publish: the
// broker had it, so the answer is 202, never a 503 for a claim reserved.
func TestPublishTimedOutAfterTheDecision(t *testing.T) {
	var fx *fixture
	s := &scripted{}
	s.send = func(e event.Event, _ int) error {
		fx.deduct(t, e)
		return context.DeadlineExceeded
	}
	fx = scriptedFixture(t, s)
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups)
	if w.Code != http.StatusAccepted {
		t.Fatalf("claim decided while its publish timed out: %d %s; want 202", w.Code, w.Body)
	}
	rec, err := fx.f.d.Claims.Get(context.Background(), httpapitest.Decode[Accepted](t, w).ClaimID)
	if err != nil || rec.State != claim.Reserved {
		t.Fatalf("record %+v, %v; want reserved", rec, err)
	}
}

// Two attempts at one claim (the same Idempotency-Key) at once: the first
// publish fails after the retry's succeeded and was answered 202. The claim
// stays live, and its event is decided.
func TestRetryPublishedWhileFirstAttemptFailed(t *testing.T) {
	retried := make(chan struct{})
	s := &scripted{send: func(_ event.Event, n int) error {
		if n == 1 {
			<-retried
			return context.DeadlineExceeded
		}
		return nil
	}}
	fx := scriptedFixture(t, s)
	key := []string{"Idempotency-Key", "k1"}
	first := make(chan int)
	go func() { first <- fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups, key...).Code }()
	for deadline := time.Now().Add(5 * time.Second); len(s.events()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // the first attempt never got to publish
			t.Fatal("first attempt did not publish in 5s")
		}
	}
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups, key...)
	close(retried)
	if w.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s; want 202", w.Code, w.Body)
	}
	if code := <-first; code != http.StatusServiceUnavailable {
		t.Fatalf("first attempt: %d; want 503", code)
	}
	if dec := fx.deduct(t, s.events()[1]); dec.State != claim.Reserved {
		t.Fatalf("the claim answered 202 decided %+v; want reserved", dec)
	}
}

// A retry with the same Idempotency-Key after a refusal records the claim
// anew, and publishes it under an event id of its own: the broker, which
// stored the refused attempt's event (dropped by prededuct on the
// tombstone), must not drop the retry's as a copy of it.
func TestRetryAfterRefusalIsANewEvent(t *testing.T) {
	s := firstTimesOut()
	fx := scriptedFixture(t, s)
	key := []string{"Idempotency-Key", "k1"}
	if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups, key...); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("first attempt: %d %s; want 503", w.Code, w.Body)
	}
	if dec := fx.deduct(t, s.events()[0]); dec.State != claim.Refused {
		t.Fatalf("the refused attempt's event decided %+v; want it dropped", dec)
	}
	if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "alice"), twoCups, key...); w.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s; want 202", w.Code, w.Body)
	}
	stale, fresh := s.events()[0], s.events()[1]
	if fresh.ID() == stale.ID() || fresh.Subject() != stale.Subject() {
		t.Fatalf("retry published %s (claim %s) after %s (claim %s); want the same claim under another event id", fresh.ID(), fresh.Subject(), stale.ID(), stale.Subject())
	}
	if dec := fx.deduct(t, fresh); dec.State != claim.Reserved {
		t.Fatalf("the retry decided %+v; want reserved", dec)
	}
}
