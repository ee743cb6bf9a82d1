package engine_test

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

const (
	crowdSize = 2000
	saleStock = 100
)

func TestFlashSaleEndToEnd(t *testing.T) {
	runSale(t, startEngine(t, false))
}

// Every event is delivered twice by the broker; the functions' idempotency
// must make the result identical.
func TestFlashSaleWithEveryDeliveryDuplicated(t *testing.T) {
	runSale(t, startEngine(t, true))
}

// runSale: 2,000 users claim 100 units at once. Settle is paused while the
// claims are decided, so every winner's order can be seen pending, then
// resumed so it can be seen settled.
func runSale(t *testing.T, s *stack) {
	s.api.openSale(t, sale{ID: "double11", SKU: "phone-x", Stock: saleStock, Limit: 1})
	if err := s.Pause("settle"); err != nil {
		t.Fatal(err)
	}
	clicked := s.api.crowd(t, "double11", "phone-x", crowdSize)
	claims := clicked.claims
	decided := s.api.await(t, claims, func(st claimStatus) bool {
		return st.State == "rejected" || (st.State == "reserved" && st.OrderNo != "")
	})
	winners := splitWinners(t, decided, len(clicked.soldOut))
	for user, st := range winners {
		assertOrder(t, s.api.orders(t, user), st.OrderNo, "pending")
	}
	if err := s.Resume("settle"); err != nil {
		t.Fatal(err)
	}
	s.api.await(t, pick(claims, winners), func(st claimStatus) bool { return st.State == "settled" })
	for user, st := range winners {
		assertOrder(t, s.api.orders(t, user), st.OrderNo, "settled")
	}
	assertSoldOutExactly(t, s, "double11", "phone-x")
}

// splitWinners checks the decision counts (soldOut clicks were answered
// sold out at once, without a claim) and returns the winners.
func splitWinners(t *testing.T, decided map[string]claimStatus, soldOut int) map[string]claimStatus {
	t.Helper()
	return winnersOf(t, decided, soldOut, saleStock, crowdSize)
}

// winnersOf is splitWinners of a crowd of crowd users for stock units.
func winnersOf(t *testing.T, decided map[string]claimStatus, soldOut, stock, crowd int) map[string]claimStatus {
	t.Helper()
	winners := make(map[string]claimStatus)
	for user, st := range decided {
		switch {
		case st.State == "reserved":
			winners[user] = st
		case st.Reason != "sold_out":
			t.Errorf("%s rejected for %q, want sold_out", user, st.Reason)
		}
	}
	if rejected := len(decided) - len(winners) + soldOut; len(winners) != stock || rejected != crowd-stock {
		t.Fatalf("%d reserved and %d rejected (%d of them at once), want %d and %d", len(winners), rejected, soldOut, stock, crowd-stock)
	}
	return winners
}

func assertOrder(t *testing.T, orders map[string][]string, orderNo, state string) {
	t.Helper()
	got := orders[orderNo]
	if len(got) != 1 || got[0] != state {
		t.Fatalf("order %s listed as %v, want once as %s (all: %v)", orderNo, got, state, orders)
	}
	if len(orders) != 1 {
		t.Fatalf("orders %v, want only %s", orders, orderNo)
	}
}

func assertSoldOutExactly(t *testing.T, s *stack, campaignID, sku string) {
	t.Helper()
	rows, units, users := s.ordersInDB(t, campaignID)
	if rows != saleStock || units != saleStock || users != saleStock {
		t.Fatalf("PostgreSQL holds %d orders, %d units, %d users; want %d each", rows, units, users, saleStock)
	}
	if left := s.remaining(t, campaignID, sku); left != 0 {
		t.Fatalf("Redis remaining %d, want 0", left)
	}
	assertReconciled(t, s)
}

func pick(claims map[string]string, users map[string]claimStatus) map[string]string {
	out := make(map[string]string, len(users))
	for u := range users {
		out[u] = claims[u]
	}
	return out
}

// kill -9 of settle in the middle of a run. Settle is paused while the
// crowd claims, so every winning order is queued at it with deliveries in
// flight; then it is killed (those requests die mid-flight), restarted by
// its supervisor, and killed again whenever it has settled some orders but
// not all. Still exactly the right orders: none lost, none twice.
func TestSettleKilledMidRun(t *testing.T) {
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "rush", SKU: "gpu", Stock: saleStock, Limit: 1})
	if err := s.Pause("settle"); err != nil {
		t.Fatal(err)
	}
	clicked := s.api.crowd(t, "rush", "gpu", crowdSize)
	claims := clicked.claims
	decided := s.api.await(t, claims, func(st claimStatus) bool {
		return st.State == "rejected" || (st.State == "reserved" && st.OrderNo != "")
	})
	winners := splitWinners(t, decided, len(clicked.soldOut))
	if err := s.Kill("settle"); err != nil {
		t.Fatal(err)
	}
	midRun := killWhileSettling(t, s, "rush", saleStock, 5)
	s.api.await(t, pick(claims, winners), func(st claimStatus) bool { return st.State == "settled" })
	assertSoldOutExactly(t, s, "rush", "gpu")
	if s.Restarts("settle") < 1+midRun {
		t.Fatalf("settle restarted %d times, want at least %d", s.Restarts("settle"), 1+midRun)
	}
	t.Logf("settle killed once with %d orders in flight, then %d times part-way", saleStock, midRun)
}

// killWhileSettling kills settle each time PostgreSQL holds some but not all
// of the campaign's orders, up to max times, and returns how often it did.
func killWhileSettling(t *testing.T, s *stack, campaignID string, orders, max int) int {
	t.Helper()
	kills, last := 0, 0
	deadline := time.Now().Add(time.Minute)
	for kills < max && time.Now().Before(deadline) {
		rows, _, _ := s.ordersInDB(t, campaignID)
		if rows == orders {
			break
		}
		if rows > last {
			err := s.Kill("settle")
			switch {
			case errors.Is(err, os.ErrProcessDone): // between a crash and its restart
			case err != nil:
				t.Fatal(err)
			default:
				kills++
				last = rows
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return kills
}

// Bad input through the gateway: the right status, and nothing changes.
func TestBadInputChangesNothing(t *testing.T) {
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "guarded", SKU: "cup", Stock: 5, Limit: 1})
	user := s.api.token(t, "alice")
	forged := newClient(s.URL(), "", "not-the-secret").token(t, "alice")
	claims := "/v1/campaigns/guarded/claims"
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = ' '
	}
	cases := []struct {
		name, method, path, bearer string
		body                       any
		want                       int
	}{
		{"no jwt", http.MethodPost, claims, "", map[string]any{"sku": "cup", "qty": 1}, http.StatusUnauthorized},
		{"forged jwt", http.MethodPost, claims, forged, map[string]any{"sku": "cup", "qty": 1}, http.StatusUnauthorized},
		{"unknown campaign", http.MethodPost, "/v1/campaigns/nope/claims", user, map[string]any{"sku": "cup", "qty": 1}, http.StatusNotFound},
		{"malformed json", http.MethodPost, claims, user, []byte(`{"sku": "cup", "qty":`), http.StatusBadRequest},
		{"missing sku", http.MethodPost, claims, user, map[string]any{"qty": 1}, http.StatusBadRequest},
		{"qty above limit", http.MethodPost, claims, user, map[string]any{"sku": "cup", "qty": 2}, http.StatusBadRequest},
		{"oversized body", http.MethodPost, claims, user, append([]byte(`{"sku":"cup","qty":1}`), big...), http.StatusRequestEntityTooLarge},
		{"admin without token", http.MethodPost, "/v1/campaigns", "", map[string]any{"id": "x"}, http.StatusUnauthorized},
		{"unknown claim", http.MethodGet, "/v1/claims/guarded.nope", user, nil, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.api.must(t, tc.want, tc.method, tc.path, tc.bearer, tc.body, nil)
		})
	}
	t.Run("malformed cloudevent to settle", func(t *testing.T) {
		c := newClient(s.ServiceURL("settle"), "", "")
		c.must(t, http.StatusBadRequest, http.MethodPost, "/", "", []byte(`{"not":"an event"}`), nil)
	})
	if left := s.remaining(t, "guarded", "cup"); left != 5 {
		t.Fatalf("remaining %d after bad input, want 5", left)
	}
	if rows, _, _ := s.ordersInDB(t, "guarded"); rows != 0 {
		t.Fatalf("%d orders after bad input, want 0", rows)
	}
}
