package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/surgekit/surge/local/scrape"
	"github.com/surgekit/surge/shared/metrics"
)

// A sale's metrics, scraped from GET /metrics of every function instance
// and summed, are the sale's outcome: 100 units sold to a crowd of 300 is
// surge_claims_total{outcome="reserved"} 100, each refusal counted as the
// clients were told it, 100 orders queued and settled. With every event
// delivered twice the counts are the same: a decision is counted where it
// is made, once.
func TestMetricsCountTheSale(t *testing.T) {
	for _, duplicate := range []bool{false, true} {
		t.Run(fmt.Sprintf("duplicate delivery %v", duplicate), func(t *testing.T) {
			countTheSale(t, startEngine(t, duplicate))
		})
	}
}

func countTheSale(t *testing.T, s *stack) {
	const stock, users = 100, 300
	s.api.openSale(t, sale{ID: "metered", SKU: "cup", Stock: stock, Limit: 1})
	clicked := s.api.crowd(t, "metered", "cup", users)
	decided := s.api.await(t, clicked.claims, func(st claimStatus) bool {
		return st.State == "rejected" || st.State == "settled"
	})
	won, rejected := 0, map[string]int{}
	for _, st := range decided {
		if st.State == "settled" {
			won++
		} else {
			rejected[st.Reason]++
		}
	}
	if won != stock {
		t.Fatalf("%d claims settled; want %d", won, stock)
	}
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"surge_claims_total", []string{"outcome", "reserved"}, stock},
		{"surge_claims_total", []string{"outcome", "rejected", "reason", "sold_out"}, float64(rejected["sold_out"])},
		{"surge_claims_total", nil, float64(len(clicked.claims))}, // each claim decided once
		{"surge_clicks_total", []string{"outcome", "refused", "reason", "sold_out"}, float64(len(clicked.soldOut))},
		{"surge_orders_queued_total", nil, stock},
		{"surge_settlements_total", nil, stock},
		{"surge_reservations_released_total", nil, 0},
		{"surge_dead_letters_total", nil, 0},
	}
	var got scraped
	ok := func() bool {
		for _, w := range want {
			if got.sum(w.name, w.labels...) != w.value {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for got = scrapeAll(t, s); !ok() && time.Now().Before(deadline); got = scrapeAll(t, s) {
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a late duplicate delivery must not count again
	got = scrapeAll(t, s)
	for _, w := range want {
		if v := got.sum(w.name, w.labels...); v != w.value {
			t.Errorf("%s%v summed over every instance = %v; want %v", w.name, w.labels, v, w.value)
		}
	}
	if n := got.sum("surge_claims_total", "outcome", "rejected") + got.sum("surge_clicks_total", "reason", "sold_out"); n < float64(users-stock) {
		t.Errorf("%v refusals counted; %d users were refused", n, users-stock)
	}
	for _, nonzero := range []struct {
		name   string
		labels []string
	}{
		{"surge_settle_batch_size", nil},
		{"surge_http_requests_total", []string{"route", "/v1/campaigns/{id}/claims", "code", "202"}},
		{"surge_http_requests_total", []string{"route", "claim.requested"}},
		{"surge_redis_command_duration_seconds", []string{"command", "evalsha"}},
		{"surge_postgres_query_duration_seconds", []string{"operation", "insert orders"}},
	} {
		if got.sum(nonzero.name, nonzero.labels...) == 0 {
			t.Errorf("no %s%v in any instance's /metrics", nonzero.name, nonzero.labels)
		}
	}
	got.noLabelHolds(t, "user-", "metered", "metered:")
}

// scraped is every function instance's /metrics, parsed.
type scraped map[string]map[string]*dto.MetricFamily // instance → name → family

// scrapeAll GETs /metrics of every function instance the engine runs.
func scrapeAll(t *testing.T, s *stack) scraped {
	t.Helper()
	out := scraped{}
	for name, url := range s.Targets() {
		if name == "broker" || name == "gateway" {
			continue
		}
		out[name] = scrape.Families(t, url+"/metrics")
	}
	return out
}

// sum adds up, over every instance, the counters (or the histograms'
// counts) of family name whose labels include labels (name, value, …).
func (s scraped) sum(name string, labels ...string) float64 {
	var total float64
	for _, families := range s {
		if f, ok := families[name]; ok {
			total += metrics.Sum(f, labels...)
		}
	}
	return total
}

// noLabelHolds fails t if any surge_ metric has a label value holding one
// of ids: no user, claim or campaign id is ever a label.
func (s scraped) noLabelHolds(t *testing.T, ids ...string) {
	t.Helper()
	for instance, families := range s {
		for name, f := range families {
			if !strings.HasPrefix(name, "surge_") {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					for _, id := range ids {
						if strings.Contains(l.GetValue(), id) {
							t.Errorf("%s: %s{%s=%q} holds an id", instance, name, l.GetName(), l.GetValue())
						}
					}
				}
			}
		}
	}
}
