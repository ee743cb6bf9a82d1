package engine_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/local/engine"
)

// The degrade switches, each flipped while buyers click (two captcha
// instances behind the gateway, each with its own watcher), its effect
// seen, flipped back, and nothing lost: every accepted claim final, the
// stock and the orders adding up.

// switchStock is more than the traffic's buyers: the sale never sells
// out by itself.
const switchStock = trafficMaxUsers

// spread waits a second: longer than a watcher takes to see a change,
// so every instance answers by the switch after it.
func spread() { time.Sleep(time.Second) }

func startSwitchEngine(t *testing.T) *stack {
	t.Helper()
	return startEngineWith(t, engine.Config{Instances: map[string]int{"captcha": 2}})
}

// pause_claims: while on, every click is answered 503 claims_paused with
// Retry-After and no claim is recorded; the buyers who were paused are
// accepted once it is off.
func TestSwitchPauseClaims(t *testing.T) {
	s := startSwitchEngine(t)
	s.api.openSale(t, sale{ID: "paused", SKU: "cup", Stock: switchStock, Limit: 1})
	tr := s.api.startTraffic(t, "paused", `{"sku":"cup","qty":1}`)
	tr.await(t, answeredAccepted, 30)

	s.api.flip(t, "pause_claims", map[string]any{"value": true})
	paused := clickAnswer{http.StatusServiceUnavailable, "claims_paused"}
	tr.await(t, paused, 10)
	spread()
	records, accepted := len(s.claimRecords(t, "paused")), tr.count(answeredAccepted)
	tr.await(t, paused, 50)
	if n := len(s.claimRecords(t, "paused")); n != records {
		t.Errorf("%d claims recorded while claims were paused; want none", n-records)
	}
	if n := tr.count(answeredAccepted); n != accepted {
		t.Errorf("%d clicks accepted while claims were paused; want none", n-accepted)
	}

	s.api.flip(t, "pause_claims", map[string]any{"value": false})
	tr.await(t, answeredAccepted, 30)
	tr.finish(t, answeredAccepted)
	assertNothingLost(t, s, tr, "paused", "cup", switchStock)
}

// sold_out: while on for the SKU, clicks are answered 409 sold_out at
// once though units are left, and the stock in Redis is not touched;
// once off, clicks are accepted again.
func TestSwitchSoldOut(t *testing.T) {
	s := startSwitchEngine(t)
	s.api.openSale(t, sale{ID: "declared", SKU: "cup", Stock: switchStock, Limit: 1})
	tr := s.api.startTraffic(t, "declared", `{"sku":"cup","qty":1}`)
	tr.await(t, answeredAccepted, 30)

	s.api.flip(t, "sold_out", map[string]any{"value": true, "campaign": "declared", "sku": "cup"})
	tr.await(t, answeredSoldOut, 10)
	spread()
	s.awaitClaimsDecided(t, "declared")
	left, accepted := s.remaining(t, "declared", "cup"), tr.count(answeredAccepted)
	tr.await(t, answeredSoldOut, 50)
	if left == 0 {
		t.Fatal("the sale sold out by itself; the test needs units left")
	}
	if now := s.remaining(t, "declared", "cup"); now != left {
		t.Errorf("stock went from %d to %d while the SKU was declared sold out; want untouched", left, now)
	}
	if n := tr.count(answeredAccepted); n != accepted {
		t.Errorf("%d clicks accepted while the SKU was declared sold out; want none", n-accepted)
	}

	s.api.flip(t, "sold_out", map[string]any{"value": false, "campaign": "declared", "sku": "cup"})
	tr.await(t, answeredAccepted, 30)
	tr.finish(t, answeredAccepted, answeredSoldOut)
	assertNothingLost(t, s, tr, "declared", "cup", switchStock)
}

// shed_fraction: at 0.5 about half the clicks are answered 503 shed with
// Retry-After while the others go through; at 0 none is shed, and every
// buyer shed is accepted on a later try.
func TestSwitchShedFraction(t *testing.T) {
	s := startSwitchEngine(t)
	s.api.openSale(t, sale{ID: "shed", SKU: "cup", Stock: switchStock, Limit: 1})
	tr := s.api.startTraffic(t, "shed", `{"sku":"cup","qty":1}`)
	tr.await(t, answeredAccepted, 30)

	s.api.flip(t, "shed_fraction", map[string]any{"value": 0.5})
	shed := clickAnswer{http.StatusServiceUnavailable, "shed"}
	tr.await(t, shed, 30)
	tr.await(t, answeredAccepted, 10) // not every click is shed

	s.api.flip(t, "shed_fraction", map[string]any{"value": 0})
	spread()
	n := tr.count(shed)
	tr.await(t, answeredAccepted, 50)
	if got := tr.count(shed); got != n {
		t.Errorf("%d clicks shed after shed_fraction went back to 0; want none", got-n)
	}
	tr.finish(t, answeredAccepted)
	assertNothingLost(t, s, tr, "shed", "cup", switchStock)
}

// skip_captcha: a captcha sale's clicks without an answer are refused
// 400 challenge_required; while the switch is on for the campaign they
// are accepted, and once off refused again.
func TestSwitchSkipCaptcha(t *testing.T) {
	s := startSwitchEngine(t)
	now := time.Now().UTC()
	spec := saleSpec("quiz", now, switchStock, 1, true, map[string]any{"expected_crowd": 200})
	s.api.must(t, http.StatusCreated, http.MethodPost, "/v1/campaigns", s.api.admin, spec, nil)
	s.api.must(t, http.StatusOK, http.MethodPost, "/v1/campaigns/quiz/warmup", s.api.admin, nil, nil)
	tr := s.api.startTraffic(t, "quiz", `{"sku":"cup","qty":1}`)
	required := clickAnswer{http.StatusBadRequest, "challenge_required"}
	tr.await(t, required, 20)
	if n := tr.count(answeredAccepted); n != 0 {
		t.Fatalf("%d clicks without a captcha answer accepted before the switch", n)
	}

	s.api.flip(t, "skip_captcha", map[string]any{"value": true, "campaign": "quiz"})
	tr.await(t, answeredAccepted, 50)

	s.api.flip(t, "skip_captcha", map[string]any{"value": false, "campaign": "quiz"})
	spread()
	accepted := tr.count(answeredAccepted)
	tr.await(t, required, 30)
	if n := tr.count(answeredAccepted); n != accepted {
		t.Errorf("%d clicks without a captcha answer accepted after skip_captcha went off; want none", n-accepted)
	}
	tr.finish(t, answeredAccepted, required)
	assertNothingLost(t, s, tr, "quiz", "cup", switchStock)
}

// pause_settlement: while on, clicks are still accepted and decided but
// no order is written: settle answers every order 503 Surge-Paused and
// the broker keeps it, far past the settle trigger's retry budget (cut to
// three attempts 0.1 and 0.2 s apart here), spending none of its
// attempts; once off, every order settles and none went to the dead
// letters.
func TestSwitchPauseSettlement(t *testing.T) {
	few := strings.NewReplacer("retry: 8", "retry: 2", "backoffDelay: PT0.2S", "backoffDelay: PT0.1S")
	s := startEngineWith(t, engine.Config{TriggersDir: editedManifests(t, func(doc string) string {
		if isTrigger(doc, "settle") {
			return few.Replace(doc)
		}
		return doc
	})})
	s.api.openSale(t, sale{ID: "held", SKU: "cup", Stock: switchStock, Limit: 1})
	tr := s.api.startTraffic(t, "held", `{"sku":"cup","qty":1}`)
	tr.await(t, answeredAccepted, 30)

	s.api.flip(t, "pause_settlement", map[string]any{"value": true})
	spread()
	orders := s.ordersSettle(t, "held") // the orders settle had in hand when paused
	tr.await(t, answeredAccepted, 50)   // claims go on while settlement waits
	time.Sleep(3 * time.Second)         // three attempts would be spent many times over
	if now, _, _ := s.ordersInDB(t, "held"); now != orders {
		t.Errorf("%d orders written while settlement was paused; want none", now-orders)
	}
	s.awaitClaimsDecided(t, "held")
	if reserved := byState(s.claimRecords(t, "held"))["reserved"]; reserved < 50 {
		t.Errorf("%d claims wait reserved while settlement is paused; want the 50 accepted since at least", reserved)
	}

	s.api.flip(t, "pause_settlement", map[string]any{"value": false})
	tr.finish(t, answeredAccepted)
	assertNothingLost(t, s, tr, "held", "cup", switchStock)
	var letters struct {
		Letters []struct {
			Type string `json:"event_type"`
		} `json:"dead_letters"`
	}
	s.api.must(t, http.StatusOK, http.MethodGet, "/v1/dead-letters", s.api.admin, nil, &letters)
	if len(letters.Letters) != 0 {
		t.Errorf("%d dead letters after the pause (%+v); want none", len(letters.Letters), letters.Letters)
	}
}

// reads_cache_only: while on, a buyer's orders are read from Redis alone
// (a settled order, only in PostgreSQL, is not listed; a pending one is)
// with Surge-Degraded: cache-only, the wallet is 503 cache_only, and a
// claim is read from its Redis record; once off, the settled order is
// listed again, and the clicks meanwhile lost nothing.
func TestSwitchReadsCacheOnly(t *testing.T) {
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "cached", SKU: "cup", Stock: switchStock, Limit: 1})
	tr := s.api.startTraffic(t, "cached", `{"sku":"cup","qty":1}`)
	tr.await(t, answeredAccepted, 30)
	user, claimID := tr.anyClaim(t)
	s.api.await(t, map[string]string{user: claimID}, func(st claimStatus) bool { return st.State == "settled" })

	s.api.flip(t, "reads_cache_only", map[string]any{"value": true})
	spread()
	orders, header := s.api.ordersWithHeader(t, user)
	if header != "cache-only" || len(orders) != 0 {
		t.Errorf("under reads_cache_only: orders %v, Surge-Degraded %q; want none listed (the settled one is in PostgreSQL only), cache-only", orders, header)
	}
	s.api.must(t, http.StatusServiceUnavailable, http.MethodGet, "/v1/wallet", s.api.token(t, user), nil, nil)
	var st claimStatus
	s.api.must(t, http.StatusOK, http.MethodGet, "/v1/claims/"+claimID, s.api.token(t, user), nil, &st)
	if st.State != "settled" {
		t.Errorf("claim %s read from Redis is %q; want settled", claimID, st.State)
	}
	tr.await(t, answeredAccepted, 30) // clicks go on

	s.api.flip(t, "reads_cache_only", map[string]any{"value": false})
	spread()
	orders, header = s.api.ordersWithHeader(t, user)
	if header != "" || len(orders) != 1 {
		t.Errorf("after reads_cache_only: orders %v, Surge-Degraded %q; want the settled order, no header", orders, header)
	}
	tr.finish(t, answeredAccepted)
	assertNothingLost(t, s, tr, "cached", "cup", switchStock)
}
