package deadletter_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/metrics"
	"github.com/surgekit/surge/shared/schema"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

func newStore(t *testing.T) *deadletter.Store {
	t.Helper()
	pool := servertest.Postgres(t, servertest.Fresh(t, deps), 2)
	if err := schema.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return deadletter.NewStore(pool)
}

// dead is a claim.requested as the broker dead-letters it, its data in an
// order no encoder would choose, so a store that normalises them is caught.
func dead(t *testing.T, campaign, user string) event.Event {
	t.Helper()
	e := events.ClaimRequested(events.ClaimRequestedData{ClaimID: campaign + "-" + user, CampaignID: campaign, UserID: user, SKU: "tv", Qty: 1})
	if err := e.SetData(event.ApplicationJSON, []byte(`{"user_id":"`+user+`",  "claim_id":"`+campaign+"-"+user+`"}`)); err != nil {
		t.Fatal(err)
	}
	e.SetExtension("surgesig", "c2lnbmVk")
	e.SetExtension("knativeerrorcode", "503")
	e.SetExtension("knativeerrordest", "http://settle")
	e.SetExtension("knativeerrordata", "ZG93bg==")
	return e
}

func TestPutOnceRedriveAsFirstSent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	e := dead(t, "sale1", "alice")
	before, _ := metrics.Value("surge_dead_letters_total", "type", e.Type())
	for range 2 {
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := metrics.Value("surge_dead_letters_total", "type", e.Type()); after-before != 1 {
		t.Errorf("surge_dead_letters_total{type=%q} moved by %v; want 1 (stored once, counted once)", e.Type(), after-before)
	}
	got, err := s.List(ctx, deadletter.Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %d letters, %v; want the one, stored once", len(got), err)
	}
	l := got[0]
	if l.CampaignID == nil || *l.CampaignID != "sale1" || l.ErrorCode == nil || *l.ErrorCode != 503 ||
		l.ErrorDest == nil || *l.ErrorDest != "http://settle" || l.RedriveCount != 0 {
		t.Errorf("letter = %+v; want campaign sale1, 503 from http://settle, never redriven", l)
	}
	again, err := l.Redrive()
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Data()) != string(e.Data()) || again.ID() != e.ID() || again.Source() != e.Source() {
		t.Errorf("redrive %s %s %s; want %s %s %s, byte for byte", again.ID(), again.Source(), again.Data(), e.ID(), e.Source(), e.Data())
	}
	ext := again.Extensions()
	if _, ok := ext["knativeerrorcode"]; ok || ext["knativeerrordata"] != nil || ext["surgesig"] != "c2lnbmVk" || ext["partitionkey"] != "sale1/alice" {
		t.Errorf("redrive extensions %v; want surgesig and partitionkey, no knativeerror*", ext)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	for n := 1; n <= 2; n++ {
		l, err = s.MarkRedriven(ctx, l.ID, at)
		if err != nil || l.RedriveCount != n || l.RedrivenAt == nil || !l.RedrivenAt.Equal(at) {
			t.Fatalf("MarkRedriven %d: %+v, %v; want count %d at %v", n, l, err, n, at)
		}
	}
}

func TestUnknownLetter(t *testing.T) {
	s := newStore(t)
	if _, err := s.Get(context.Background(), 42); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("Get(42) = %v; want ErrNotFound", err)
	}
	if _, err := s.MarkRedriven(context.Background(), 42, time.Now()); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("MarkRedriven(42) = %v; want ErrNotFound", err)
	}
}

func TestListPagesByCursor(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		if err := s.Put(ctx, dead(t, "sale1", u)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	f := deadletter.Filter{Campaign: "sale1", Limit: 2}
	for page := 0; page < 4; page++ {
		got, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, l := range got {
			seen = append(seen, l.EventID)
		}
		f.After = got[len(got)-1].ID
	}
	if want := "sale1-a sale1-b sale1-c sale1-d sale1-e"; strings.Join(seen, " ") != want {
		t.Errorf("pages gave %q; want %q, each once", strings.Join(seen, " "), want)
	}
}

func TestCount(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, e := range []event.Event{dead(t, "sale1", "alice"), dead(t, "sale1", "bob"), dead(t, "sale1", "carol"), dead(t, "sale2", "alice")} {
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	letters, err := s.List(ctx, deadletter.Filter{Campaign: "sale1", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkRedriven(ctx, letters[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for campaign, want := range map[string]deadletter.Counts{"sale1": {Total: 3, Waiting: 2}, "sale2": {Total: 1, Waiting: 1}, "none": {}} {
		if got, err := s.Count(ctx, campaign); err != nil || got != want {
			t.Errorf("Count(%s) = %+v, %v; want %+v", campaign, got, err, want)
		}
	}
}
