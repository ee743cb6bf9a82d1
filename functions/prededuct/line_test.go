package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/eventsig/eventsigtest"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/fn/fntest"
)

// The line of each decision says its outcome: a win its reply's type, a
// loss its reason (sold_out), not claim.rejected.
func TestLineSaysWhyAClaimLost(t *testing.T) {
	h := newHarness(t)
	h.warm(t, "sale", 1)
	var buf bytes.Buffer
	host, err := fn.Handler(slog.New(slog.NewJSONHandler(&buf, nil)), h.f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ unique, user, want string }{
		{"1", "bob", "claim.reserved"},
		{"2", "alice", events.ReasonSoldOut},
		{"3", "bob", events.ReasonLimitReached},
	} {
		buf.Reset()
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, fntest.Request(t, "http://prededuct/", eventsigtest.Signed(t, events.ClaimRequested(requested("sale", tt.unique, tt.user, 1)))))
		if rec.Code != http.StatusOK {
			t.Fatalf("claim %s: status %d", tt.unique, rec.Code)
		}
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("claim %s: line %q: %v", tt.unique, buf.String(), err)
		}
		if line["msg"] != "handled event" || line["outcome"] != tt.want {
			t.Errorf("claim %s by %s: line %v; want outcome %s", tt.unique, tt.user, line, tt.want)
		}
	}
}
