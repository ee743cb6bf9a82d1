package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig"
	"github.com/surgekit/surge/shared/plane"
)

var eventKey = mustKey()

func mustKey() *eventsig.Key {
	k, err := eventsig.NewKey([]byte("an event key of at least 32 bytes!!"))
	if err != nil {
		panic(err)
	}
	return k
}

// deadClaim is a signed claim.requested of user in campaign as the broker
// dead-letters it (knativeerror* added), marked shadow when shadow.
func deadClaim(t *testing.T, campaign, user string, shadow bool) event.Event {
	t.Helper()
	e := events.ClaimRequested(events.ClaimRequestedData{ClaimID: campaign + "-" + user, CampaignID: campaign,
		UserID: user, SKU: "phone-x", Qty: 1, RequestedAt: time.Now().UTC().Truncate(time.Millisecond)})
	if shadow {
		plane.Mark(&e, plane.Shadow)
	}
	if err := eventKey.Sign(&e); err != nil {
		t.Fatal(err)
	}
	e.SetExtension("knativeerrorcode", "500")
	e.SetExtension("knativeerrordest", "http://prededuct")
	e.SetExtension("knativeerrordata", "Ym9vbQ==")
	return e
}

func (fx *fixture) put(t *testing.T, es ...event.Event) {
	t.Helper()
	for _, e := range es {
		if err := fx.letters.Put(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

type listed struct {
	Letters []struct {
		ID           int64      `json:"id"`
		EventID      string     `json:"event_id"`
		EventType    string     `json:"event_type"`
		CampaignID   *string    `json:"campaign_id"`
		ErrorCode    *int       `json:"error_code"`
		RedriveCount int        `json:"redrive_count"`
		RedrivenAt   *time.Time `json:"redriven_at"`
	} `json:"dead_letters"`
	Next string `json:"next_cursor"`
}

func (fx *fixture) list(t *testing.T, query string) listed {
	t.Helper()
	w := fx.call(t, http.MethodGet, "/v1/dead-letters?"+query, adminToken, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("list ?%s: %d %s", query, w.Code, w.Body)
	}
	var got listed
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func ids(l listed) []string {
	out := make([]string, len(l.Letters))
	for i, x := range l.Letters {
		out[i] = x.EventID
	}
	return out
}

func TestDeadLettersFiltered(t *testing.T) {
	fx := newFixture(t)
	queued := events.OrderQueued(events.OrderQueuedData{ClaimID: "b-carol", OrderNo: "b:phone-x:carol:1", CampaignID: "b", UserID: "carol"}, time.Now())
	queued.SetExtension("knativeerrorcode", "503")
	fx.put(t, deadClaim(t, "a", "alice", false), deadClaim(t, "a", "bob", false), queued)
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", "a-alice a-bob b-carol/queued"},
		{"type=" + events.TypeOrderQueued, "b-carol/queued"},
		{"campaign=a", "a-alice a-bob"},
		{"campaign=a&type=" + events.TypeOrderQueued, ""},
		{"since=" + past, "a-alice a-bob b-carol/queued"},
		{"since=" + future, ""},
		{"until=" + past, ""},
		{"until=" + future + "&campaign=b", "b-carol/queued"},
	} {
		if got := strings.Join(ids(fx.list(t, tc.query)), " "); got != tc.want {
			t.Errorf("?%s: got %q; want %q", tc.query, got, tc.want)
		}
	}
	first := fx.list(t, "limit=2")
	if got := strings.Join(ids(first), " "); got != "a-alice a-bob" || first.Next == "" {
		t.Fatalf("limit=2: got %q next %q; want a-alice a-bob and a cursor", got, first.Next)
	}
	rest := fx.list(t, "limit=2&cursor="+first.Next)
	if got := strings.Join(ids(rest), " "); got != "b-carol/queued" || rest.Next != "" {
		t.Errorf("next page: got %q next %q; want b-carol/queued, no cursor", got, rest.Next)
	}
	l := first.Letters[0]
	if l.CampaignID == nil || *l.CampaignID != "a" || l.ErrorCode == nil || *l.ErrorCode != 500 || l.RedriveCount != 0 || l.RedrivenAt != nil {
		t.Errorf("letter = %+v; want campaign a, error 500, never redriven", l)
	}
}

func TestRedriveRepublishesTheOriginal(t *testing.T) {
	fx := newFixture(t)
	dead := deadClaim(t, "a", "alice", true)
	fx.put(t, dead)
	id := fx.list(t, "").Letters[0].ID
	for round := 1; round <= 2; round++ {
		fx.clock.Add(time.Minute)
		w := fx.call(t, http.MethodPost, fmt.Sprintf("/v1/dead-letters/%d/redrive", id), adminToken, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("redrive %d: %d %s", round, w.Code, w.Body)
		}
		var got struct {
			RedriveCount int       `json:"redrive_count"`
			RedrivenAt   time.Time `json:"redriven_at"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.RedriveCount != round || !got.RedrivenAt.Equal(fx.clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("redrive %d: count %d at %v; want %d at %v", round, got.RedriveCount, got.RedrivenAt, round, fx.clock.Now())
		}
	}
	sent := fx.broker.Events()
	if len(sent) != 2 {
		t.Fatalf("broker got %d events; want 2", len(sent))
	}
	e := sent[0]
	if e.ID() != dead.ID() || e.Source() != dead.Source() || e.Type() != dead.Type() || string(e.Data()) != string(dead.Data()) {
		t.Errorf("redriven %s %s %s %s; want the original %s %s %s %s", e.ID(), e.Source(), e.Type(), e.Data(), dead.ID(), dead.Source(), dead.Type(), dead.Data())
	}
	for name := range e.Extensions() {
		if strings.HasPrefix(name, "knativeerror") {
			t.Errorf("redriven event keeps %s", name)
		}
	}
	if p, err := plane.Of(e); err != nil || p != plane.Shadow {
		t.Errorf("redriven plane = %v, %v; want shadow", p, err)
	}
	if err := eventKey.Verify(e); err != nil {
		t.Errorf("redriven signature: %v; want captcha's, intact", err)
	}
}

func TestRedriveAllOfAFilter(t *testing.T) {
	fx := newFixture(t)
	fx.put(t, deadClaim(t, "a", "alice", false), deadClaim(t, "b", "bob", false), deadClaim(t, "a", "carol", false))
	var got struct {
		Redriven int    `json:"redriven"`
		Next     string `json:"next_cursor"`
	}
	w := fx.call(t, http.MethodPost, "/v1/dead-letters/redrive?campaign=a&limit=1", adminToken, nil)
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Redriven != 1 || got.Next == "" {
		t.Fatalf("first page: %d %s; want 1 redriven and a cursor", w.Code, w.Body)
	}
	w = fx.call(t, http.MethodPost, "/v1/dead-letters/redrive?campaign=a&limit=1&cursor="+got.Next, adminToken, nil)
	got.Next = ""
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Redriven != 1 {
		t.Fatalf("second page: %d %s; want 1 redriven", w.Code, w.Body)
	}
	var sent []string
	for _, e := range fx.broker.Events() {
		sent = append(sent, e.ID())
	}
	if strings.Join(sent, " ") != "a-alice a-carol" {
		t.Errorf("broker got %v; want a-alice a-carol", sent)
	}
	for _, l := range fx.list(t, "").Letters {
		if want := map[bool]int{true: 1, false: 0}[*l.CampaignID == "a"]; l.RedriveCount != want {
			t.Errorf("%s redriven %d times; want %d", l.EventID, l.RedriveCount, want)
		}
	}
}

func TestDeadLettersBadInput(t *testing.T) {
	fx := newFixture(t)
	fx.put(t, deadClaim(t, "a", "alice", false))
	for _, tc := range []struct {
		method, path, bearer string
		status               int
		code                 string
	}{
		{http.MethodPost, "/v1/dead-letters/999999/redrive", adminToken, 404, "dead_letter_not_found"},
		{http.MethodPost, "/v1/dead-letters/abc/redrive", adminToken, 404, "dead_letter_not_found"},
		{http.MethodPost, "/v1/dead-letters/-1/redrive", adminToken, 404, "dead_letter_not_found"},
		{http.MethodGet, "/v1/dead-letters", "", 401, "unauthorized"},
		{http.MethodPost, "/v1/dead-letters/redrive", "wrong", 401, "unauthorized"},
		{http.MethodGet, "/v1/dead-letters?since=yesterday", adminToken, 400, "invalid_filter"},
		{http.MethodGet, "/v1/dead-letters?until=2026-01-01", adminToken, 400, "invalid_filter"},
		{http.MethodGet, "/v1/dead-letters?limit=0", adminToken, 400, "invalid_filter"},
		{http.MethodGet, "/v1/dead-letters?limit=1001", adminToken, 400, "invalid_filter"},
		{http.MethodGet, "/v1/dead-letters?limit=ten", adminToken, 400, "invalid_filter"},
		{http.MethodGet, "/v1/dead-letters?cursor=-5", adminToken, 400, "invalid_filter"},
		{http.MethodPost, "/v1/dead-letters/redrive?cursor=x", adminToken, 400, "invalid_filter"},
	} {
		w := fx.call(t, tc.method, tc.path, tc.bearer, nil)
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tc.status || body.Error.Code != tc.code {
			t.Errorf("%s %s: %d %s; want %d %s", tc.method, tc.path, w.Code, body.Error.Code, tc.status, tc.code)
		}
	}
	if n := len(fx.broker.Events()); n != 0 {
		t.Errorf("broker got %d events; want none", n)
	}
}

func TestRedriveBrokerDownRecordsNothing(t *testing.T) {
	fx := newFixture(t)
	fx.put(t, deadClaim(t, "a", "alice", false))
	id := fx.list(t, "").Letters[0].ID
	fx.broker.Failing.Store(true)
	w := fx.call(t, http.MethodPost, fmt.Sprintf("/v1/dead-letters/%d/redrive", id), adminToken, nil)
	if w.Code != http.StatusBadGateway {
		t.Fatalf("redrive, broker down: %d %s; want 502", w.Code, w.Body)
	}
	if l := fx.list(t, "").Letters[0]; l.RedriveCount != 0 || l.RedrivenAt != nil {
		t.Errorf("after a failed redrive: %+v; want never redriven", l)
	}
}
