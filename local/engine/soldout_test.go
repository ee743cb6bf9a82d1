package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/stock"
)

// The local sold-out flag, raced: 2,000 users click 100 units through two
// captcha instances (the gateway alternates between them). No click is
// answered sold out before the last unit was taken, every unit is sold,
// and afterwards both instances answer sold out at once.
func TestSoldOutFlagAcrossTwoCaptchas(t *testing.T) {
	e, env, secrets := suite.Start(t, engine.Config{Instances: map[string]int{"captcha": 2}})
	s := &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
	s.api.openSale(t, sale{ID: "flag", SKU: "cup", Stock: saleStock, Limit: 1})
	clicked := s.api.crowd(t, "flag", "cup", crowdSize)
	decided := s.api.await(t, clicked.claims, func(st claimStatus) bool { return st.State == "rejected" || st.State == "settled" })
	for user, st := range decided {
		if st.State == "settled" {
			st.State = "reserved" // a winner, for splitWinners
			decided[user] = st
		}
	}
	winners := splitWinners(t, decided, len(clicked.soldOut))

	lastUnit := s.lastReservation(t, "flag", pick(clicked.claims, winners))
	for user, at := range clicked.soldOut {
		if at.Before(lastUnit) {
			t.Errorf("%s answered sold out at %v, before the last unit was taken at %v", user, at, lastUnit)
		}
	}
	t.Logf("%d of %d clicks answered sold out at once", len(clicked.soldOut), crowdSize)
	for i := range 10 { // round robin: five to each instance
		tok := s.api.token(t, "late")
		a, status, err := s.api.post("flag", "late", tok, []byte(`{"sku":"cup","qty":1}`))
		if err != nil || status != http.StatusConflict || a.Error.Code != "sold_out" {
			t.Fatalf("late click %d: %d %+v %v; want 409 sold_out from either instance", i, status, a, err)
		}
	}
	if got := len(s.InstanceURLs("captcha")); got != 2 {
		t.Fatalf("%d captcha instances; want 2", got)
	}
}

// lastReservation is when the pre-deduct script reserved the latest of
// the winners' claims (the reservation time it recorded, ms).
func (s *stack) lastReservation(t *testing.T, campaignID string, claims map[string]string) time.Time {
	t.Helper()
	rdb, keys := s.redis(t), keyspace.New(s.env.KeyPrefix).Campaign(campaignID)
	var last int64
	for _, id := range claims {
		ms, err := rdb.HGet(context.Background(), keys.Claim(id), stock.FieldReservedAt).Int64()
		if err != nil {
			t.Fatalf("claim %s: %v", id, err)
		}
		last = max(last, ms)
	}
	return time.UnixMilli(last)
}
