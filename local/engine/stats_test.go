package engine_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/stats"
)

// A sale's statistics, read through the gateway once every instance has
// flushed, are the sale's outcome: every click, each refusal by its code,
// every win and failure, every settlement, and the distinct users within
// the HyperLogLog's error.
func TestStatsCountTheSale(t *testing.T) {
	const stock, users = 50, 300
	s := startEngine(t, false)
	s.api.openSale(t, sale{ID: "counted", SKU: "cup", Stock: stock, Limit: 1})
	clicked := s.api.crowd(t, "counted", "cup", users)
	decided := s.api.await(t, clicked.claims, func(st claimStatus) bool {
		return st.State == "rejected" || st.State == "settled"
	})
	wins, failures := 0, 0
	for _, st := range decided {
		if st.State == "settled" {
			wins++
		} else {
			failures++
		}
	}
	if wins != stock {
		t.Fatalf("%d claims settled; want %d", wins, stock)
	}
	want := stats.Tally{Clicks: users, Accepted: int64(len(clicked.claims)), Wins: stock, Settlements: stock}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Every count is waited for: the clients have seen every decision, but
	// each instance flushes its counts once a second, so the last
	// second's rejections may come after the last settlement.
	var got stats.Report
	var failed int64
	for {
		s.api.must(t, http.StatusOK, http.MethodGet, "/v1/campaigns/counted/stats", s.api.admin, nil, &got)
		g := got.Totals
		failed = 0
		for _, n := range g.Failures {
			failed += n
		}
		if g.Clicks == want.Clicks && g.Accepted == want.Accepted && g.Wins == want.Wins && g.Settlements == want.Settlements &&
			failed == int64(failures) && g.Rejected["sold_out"] == int64(len(clicked.soldOut)) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	g := got.Totals
	if g.Clicks != want.Clicks || g.Accepted != want.Accepted || g.Wins != want.Wins || g.Settlements != want.Settlements {
		t.Errorf("stats totals %+v; want clicks %d, accepted %d, wins %d, settlements %d", g, want.Clicks, want.Accepted, want.Wins, want.Settlements)
	}
	if n := g.Rejected["sold_out"]; n != int64(len(clicked.soldOut)) {
		t.Errorf("stats: %d clicks refused sold out; the clients were told %d", n, len(clicked.soldOut))
	}
	if failed != int64(failures) {
		t.Errorf("stats: %d claims failed (%v); %d were rejected", failed, g.Failures, failures)
	}
	if math.Abs(float64(g.Users-users)) > 0.03*users {
		t.Errorf("stats: %d distinct users; %d clicked", g.Users, users)
	}
	if len(got.Days) == 0 || got.Days[len(got.Days)-1].Clicks == 0 || got.Days[len(got.Days)-1].ActiveUsers == 0 {
		t.Errorf("stats days %+v; want today's clicks and active users", got.Days)
	}
	s.api.must(t, http.StatusNotFound, http.MethodGet, "/v1/campaigns/nothing-here/stats", s.api.admin, nil, nil)
	s.api.must(t, http.StatusUnauthorized, http.MethodGet, "/v1/campaigns/counted/stats", s.api.token(t, "user-1"), nil, nil)
}
