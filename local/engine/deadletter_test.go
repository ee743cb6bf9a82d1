package engine_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/engine"
)

// A settle outage longer than every retry: settle is paused while a crowd
// buys, the broker gives up on every order.queued and dead-letters it to
// reconcile; settle comes back, the operator redrives the dead letters
// through the gateway, and every winner is settled exactly once, a second
// redrive changing nothing. The settle Trigger's delivery is shortened for
// the test (2 attempts of 1 s), and the broker drops re-sends for 1 s only
// (a redrive keeps the event's id, and the local broker drops a re-send of
// a source + id within its window).
func TestSettleOutageRedriven(t *testing.T) {
	const stock, buyers = 20, 40
	e, env, secrets := suite.Start(t, engine.Config{TriggersDir: shortSettleRetries(t), DedupWindow: time.Second})
	s := &stack{Engine: e, api: newClient(e.URL(), secrets.AdminToken, secrets.JWTSecret), env: env}
	s.api.openSale(t, sale{ID: "outage", SKU: "tv", Stock: stock, Limit: 1})
	if err := s.Pause("settle"); err != nil {
		t.Fatal(err)
	}
	claims := s.api.crowd(t, "outage", "tv", buyers).claims
	decided := s.api.await(t, claims, func(st claimStatus) bool {
		return st.State == "rejected" || (st.State == "reserved" && st.OrderNo != "")
	})
	winners := make(map[string]claimStatus)
	for user, st := range decided {
		if st.State == "reserved" {
			winners[user] = st
		}
	}
	if len(winners) != stock {
		t.Fatalf("%d winners; want %d", len(winners), stock)
	}
	s.awaitDeadLetters(t, "outage", stock)
	if err := s.Resume("settle"); err != nil {
		t.Fatal(err)
	}
	before, _, _ := s.ordersInDB(t, "outage")
	query := "?campaign=outage&type=" + url.QueryEscape(events.TypeOrderQueued)
	var redriven struct {
		Redriven int `json:"redriven"`
	}
	s.api.must(t, http.StatusOK, http.MethodPost, "/v1/dead-letters/redrive"+query, s.api.admin, nil, &redriven)
	if redriven.Redriven != stock {
		t.Fatalf("redrove %d dead letters; want %d", redriven.Redriven, stock)
	}
	s.api.await(t, pick(claims, winners), func(st claimStatus) bool { return st.State == "settled" })
	time.Sleep(1100 * time.Millisecond) // past the broker's dedup window of the first redrive
	delivered := s.delivered(t, "settle")
	s.api.must(t, http.StatusOK, http.MethodPost, "/v1/dead-letters/redrive"+query, s.api.admin, nil, &redriven)
	for deadline := time.Now().Add(30 * time.Second); s.delivered(t, "settle") < delivered+stock; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second redrive reached settle %d times; want %d", s.delivered(t, "settle")-delivered, stock)
		}
	}
	if rows, units, users := s.ordersInDB(t, "outage"); rows != stock || units != stock || users != stock {
		t.Fatalf("PostgreSQL holds %d orders, %d units, %d users; want %d each", rows, units, users, stock)
	}
	var listed struct {
		Letters []struct {
			EventID      string `json:"event_id"`
			RedriveCount int    `json:"redrive_count"`
		} `json:"dead_letters"`
	}
	s.api.must(t, http.StatusOK, http.MethodGet, "/v1/dead-letters"+query, s.api.admin, nil, &listed)
	for _, l := range listed.Letters {
		if l.RedriveCount != 2 {
			t.Errorf("dead letter %s redriven %d times; want 2", l.EventID, l.RedriveCount)
		}
	}
	s.api.must(t, http.StatusNotFound, http.MethodPost, "/v1/dead-letters/987654/redrive", s.api.admin, nil, nil)
	t.Logf("%d of %d orders in PostgreSQL before the redrive", before, stock)
}

// shortSettleRetries copies the Trigger manifests with the settle
// Trigger's delivery cut to 2 attempts of 1 s, 0.1 s apart.
func shortSettleRetries(t *testing.T) string {
	t.Helper()
	short := strings.NewReplacer("retry: 8", "retry: 1", "backoffDelay: PT0.2S", "backoffDelay: PT0.1S", "timeout: PT10S", "timeout: PT1S")
	return editedManifests(t, func(doc string) string {
		if isTrigger(doc, "settle") {
			return short.Replace(doc)
		}
		return doc
	})
}

// editedManifests copies the base manifests into a directory of the
// test's, each YAML document passed through edit ("" drops it), for the
// broker's TriggersDir.
func editedManifests(t *testing.T, edit func(doc string) string) string {
	t.Helper()
	src := filepath.Join(suite.Root, "infra", "knative", "base")
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for _, d := range strings.Split(string(b), "\n---\n") {
			if d = edit(d); d != "" {
				docs = append(docs, d)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func isTrigger(doc, name string) bool {
	return strings.Contains(doc, "kind: Trigger\nmetadata:\n  name: "+name+"\n")
}

// awaitDeadLetters waits until reconcile has stored n dead order.queued
// events of campaignID.
func (s *stack) awaitDeadLetters(t *testing.T, campaignID string, n int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var got int
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM dead_letters WHERE campaign_id = $1 AND event_type = $2`,
			campaignID, events.TypeOrderQueued).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
	}
	t.Fatalf("%d dead order.queued of %s stored; want %d", got, campaignID, n)
}
