package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/shared/plane"
)

// kill -9 of the broker in the middle of a sale of 1,000 units to 3,000
// patient users: its supervisor restarts it from its JetStream store.
// After the drain and one reconcile pass, the winners are exactly the
// stock, every reservation ended as an order (none left reserved or
// inflight), every winner sees its order in GET /v1/orders, and every user
// told limit_reached holds an order.
func TestBrokerKilledMidSale(t *testing.T) {
	const stock, users = 1000, 3000
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "crash", SKU: "cup", Stock: stock, Limit: 1})
	killed := make(chan error, 1)
	var killedAt time.Time
	go func() {
		time.Sleep(300 * time.Millisecond)
		killedAt = time.Now()
		killed <- s.Kill("broker")
	}()
	clicks := s.clickPatiently(t, "crash", "buyer", users, time.Minute)
	clicked := time.Now()
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	if !killedAt.Before(clicked) || s.Restarts("broker") < 1 {
		t.Fatalf("the broker was killed at %v, the crowd done at %v, restarted %d times; want killed mid-crowd and restarted", killedAt, clicked, s.Restarts("broker"))
	}
	statuses := map[int]int{}
	for _, a := range clicks {
		statuses[a.status]++
	}
	claims := accepted202(clicks)
	final := func(st claimStatus) bool { return st.State == "settled" || st.State == "rejected" }
	s.awaitQuiet(t, "crash")
	s.ping(t, plane.Real)
	decided := s.api.await(t, claims, final)
	rows, units, distinct := s.ordersInDB(t, "crash")
	if rows != stock || units != stock || distinct != stock {
		t.Fatalf("%d orders, %d units, %d users in PostgreSQL; want %d each (answers %v)", rows, units, distinct, stock, statuses)
	}
	rdb := s.redis(t)
	if n := rdb.HLen(context.Background(), s.env.KeyPrefix+":{c:crash}:inflight").Val(); n != 0 {
		t.Errorf("%d reservations still inflight after the drain and a pass", n)
	}
	winners := 0
	for user, st := range decided {
		if st.State != "settled" {
			continue
		}
		winners++
		if got := s.api.orders(t, user)[st.OrderNo]; len(got) != 1 {
			t.Errorf("%s won %s, GET /v1/orders lists it %v", user, st.OrderNo, got)
		}
	}
	if winners != stock {
		t.Errorf("%d claims settled; want %d", winners, stock)
	}
	for user, a := range clicks {
		if a.status == http.StatusConflict && a.claimID == "" {
			continue // sold out
		}
		if a.status != http.StatusAccepted {
			t.Errorf("%s's last answer: %d %+v", user, a.status, a)
		}
	}
	assertReconciled(t, s)
	t.Logf("answers %v; %d winners", statuses, winners)
}

// awaitQuiet waits until the campaign's order count in PostgreSQL has not
// moved for two seconds: the broker has drained what it held.
func (s *stack) awaitQuiet(t *testing.T, campaignID string) {
	t.Helper()
	last := -1
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		rows, _, _ := s.ordersInDB(t, campaignID)
		if rows == last {
			return
		}
		last = rows
	}
	t.Fatal("orders still settling after two minutes")
}

// withoutTrigger is the base manifests without Trigger name: the broker
// then stores the events it took and delivers them to nobody.
func withoutTrigger(t *testing.T, name string) string {
	t.Helper()
	return editedManifests(t, func(doc string) string {
		if isTrigger(doc, name) {
			return ""
		}
		return doc
	})
}

// Stuck tokens: every order.queued is lost (no settle Trigger: the
// broker delivers them to nobody), so every winner's claim stays reserved
// with its receipt. The next reconcile pass, past the grace, settles each
// through settle's own address: every order once, every claim settled.
func TestStuckTokensRepaired(t *testing.T) {
	const stock = 50
	s := startEngineWith(t, engine.Config{TriggersDir: withoutTrigger(t, "settle"), Env: []string{"SURGE_REPAIR_GRACE=1s"}})
	s.api.openSale(t, sale{ID: "stuck", SKU: "cup", Stock: stock, Limit: 1})
	clicked := s.api.crowd(t, "stuck", "cup", 2*stock)
	decided := s.api.await(t, clicked.claims, func(st claimStatus) bool {
		return st.State == "rejected" || (st.State == "reserved" && st.OrderNo != "")
	})
	winners := splitWinnersOf(t, decided, "reserved", stock)
	if rows, _, _ := s.ordersInDB(t, "stuck"); rows != 0 {
		t.Fatalf("%d orders with no settle Trigger; want none", rows)
	}
	time.Sleep(1100 * time.Millisecond) // past the grace
	s.ping(t, plane.Real)
	s.api.await(t, pick(clicked.claims, winners), func(st claimStatus) bool { return st.State == "settled" })
	if rows, units, users := s.ordersInDB(t, "stuck"); rows != stock || units != stock || users != stock {
		t.Fatalf("%d orders, %d units, %d users after the pass; want %d each", rows, units, users, stock)
	}
	if left := s.remaining(t, "stuck", "cup"); left != 0 {
		t.Errorf("Redis remaining %d, want 0", left)
	}
	assertReconciled(t, s)
}
