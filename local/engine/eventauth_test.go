package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/keyspace"
)

// TestOnlyCaptchaStartsAClaim posts events straight to the broker's
// ingress, as anyone who can reach it could: a claim.requested without a
// signature, one signed with another key, and a claim.reserved that
// prededuct never made. The broker stores and delivers each; prededuct or
// enqueue answers 400, so each is dead-lettered at once and reconcile
// records it with that code. Nothing is reserved in Redis, no receipt is
// pending, no order is in PostgreSQL. Then a claim through captcha still
// settles.
func TestOnlyCaptchaStartsAClaim(t *testing.T) {
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "guarded", SKU: "cup", Stock: 5, Limit: 1})
	now := time.Now().UTC()
	unsigned := events.ClaimRequested(events.ClaimRequestedData{ClaimID: keyspace.ClaimID("guarded", "mallory-1"),
		CampaignID: "guarded", UserID: "mallory", SKU: "cup", Qty: 1, RequestedAt: now})
	forged := events.ClaimRequested(events.ClaimRequestedData{ClaimID: keyspace.ClaimID("guarded", "mallory-2"),
		CampaignID: "guarded", UserID: "mallory", SKU: "cup", Qty: 1, RequestedAt: now})
	otherKey, err := eventsig.NewKey([]byte(strings.Repeat("m", eventsig.MinKeyBytes)))
	if err != nil {
		t.Fatal(err)
	}
	if err := otherKey.Sign(&forged); err != nil {
		t.Fatal(err)
	}
	reserved := events.ClaimReserved(events.ClaimReservedData{ClaimID: keyspace.ClaimID("guarded", "mallory-3"),
		CampaignID: "guarded", UserID: "mallory", SKU: "cup", Qty: 1, Seq: 1, FirstSlot: 5, ReservedAt: now, PayBy: now.Add(10 * time.Minute)})
	sink, err := fn.NewSink(s.BrokerURL())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []event.Event{unsigned, forged, reserved} {
		if err := sink.Send(context.Background(), e); err != nil {
			t.Fatalf("the broker did not take %s %s: %v", e.Type(), e.ID(), err)
		}
	}
	for _, e := range []event.Event{unsigned, forged, reserved} {
		if code := s.deadLetterCode(t, e.ID()); code != http.StatusBadRequest {
			t.Errorf("%s %s dead-lettered with %d, want 400 (poison)", e.Type(), e.ID(), code)
		}
	}
	s.assertNothingFor(t, "guarded", "mallory", "mallory-1", "mallory-2", "mallory-3")
	if left := s.remaining(t, "guarded", "cup"); left != 5 {
		t.Fatalf("remaining %d after forged events, want 5", left)
	}
	if rows, _, _ := s.ordersInDB(t, "guarded"); rows != 0 {
		t.Fatalf("%d orders after forged events, want 0", rows)
	}

	claimed := s.api.crowd(t, "guarded", "cup", 1)
	s.api.await(t, claimed.claims, func(st claimStatus) bool { return st.State == "settled" })
	if rows, _, _ := s.ordersInDB(t, "guarded"); rows != 1 {
		t.Fatalf("%d orders after a claim through captcha, want 1", rows)
	}
}

// deadLetterCode waits until reconcile has stored the dead letter of
// event id and returns the status the broker last got for it.
func (s *stack) deadLetterCode(t *testing.T, id string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var code int
		err := conn.QueryRow(ctx, `SELECT coalesce(error_code, 0) FROM dead_letters WHERE event_id = $1`, id).Scan(&code)
		if err == nil {
			return code
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no dead letter for %s: %v", id, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// assertNothingFor proves Redis holds nothing of user's claims: no claim
// record, nothing held, won or in flight, no pending receipt.
func (s *stack) assertNothingFor(t *testing.T, campaignID, user string, uniques ...string) {
	t.Helper()
	keys := keyspace.New(s.env.KeyPrefix)
	c := keys.Campaign(campaignID)
	check := []string{c.Held(), c.Wins(), c.Inflight(), keys.User(user).Pending()}
	for _, u := range uniques {
		check = append(check, c.Claim(keyspace.ClaimID(campaignID, u)))
	}
	n, err := s.redis(t).Exists(context.Background(), check...).Result()
	if err != nil || n != 0 {
		t.Fatalf("%d of %v exist (err %v), want none", n, check, err)
	}
}
