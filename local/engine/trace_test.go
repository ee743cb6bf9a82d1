package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/local/collector"
	"github.com/surgekit/surge/local/engine"
)

// hop is a span a claim's trace must hold, named by its service and span
// name, and the span that must be its parent ("" for the root).
type hop struct{ service, name, parent string }

// claimTrace is the tree of one won claim, click to order.settled: the
// captcha request, its send, and each event's ingest and delivery in the
// broker and its handling in the next function, whose reply the broker
// ingests in turn.
var claimTrace = []hop{
	{"captcha", "POST /v1/campaigns/{id}/claims", ""},
	{"captcha", "send dev.surgekit.claim.requested.v1", "captcha POST /v1/campaigns/{id}/claims"},
	{"broker", "ingest dev.surgekit.claim.requested.v1", "captcha send dev.surgekit.claim.requested.v1"},
	{"broker", "deliver dev.surgekit.claim.requested.v1", "broker ingest dev.surgekit.claim.requested.v1"},
	{"prededuct", "dev.surgekit.claim.requested.v1", "broker deliver dev.surgekit.claim.requested.v1"},
	{"broker", "ingest dev.surgekit.claim.reserved.v1", "prededuct dev.surgekit.claim.requested.v1"},
	{"broker", "deliver dev.surgekit.claim.reserved.v1", "broker ingest dev.surgekit.claim.reserved.v1"},
	{"enqueue", "dev.surgekit.claim.reserved.v1", "broker deliver dev.surgekit.claim.reserved.v1"},
	{"broker", "ingest dev.surgekit.order.queued.v1", "enqueue dev.surgekit.claim.reserved.v1"},
	{"broker", "deliver dev.surgekit.order.queued.v1", "broker ingest dev.surgekit.order.queued.v1"},
	{"settle", "dev.surgekit.order.queued.v1", "broker deliver dev.surgekit.order.queued.v1"},
	{"broker", "ingest dev.surgekit.order.settled.v1", "settle dev.surgekit.order.queued.v1"},
}

// Every span of a claim, from the click through the gateway to
// order.settled, in every function and in the broker's hops, is in one
// trace, and the spans' parent links form one tree rooted at the click;
// another claim is another trace.
func TestOneTracePerClaim(t *testing.T) {
	col, err := collector.Start(collector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(col.Close)
	s := startEngineWith(t, engine.Config{Env: []string{
		"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=" + col.URL(),
		"OTEL_BSP_SCHEDULE_DELAY=100", // ms: spans reach the collector soon after they end
	}})
	s.api.openSale(t, sale{ID: "traced", SKU: "lamp", Stock: 5, Limit: 1})
	var traces []string
	for i := range 2 {
		clicked := s.api.crowdFrom(t, "traced", "lamp", i, 1) // user-i
		claimID := clicked.claims[fmt.Sprintf("user-%d", i)]
		if claimID == "" {
			t.Fatalf("the click of user-%d was not accepted: %+v", i, clicked)
		}
		s.api.await(t, clicked.claims, func(st claimStatus) bool { return st.State == "settled" })
		traces = append(traces, assertOneTree(t, col, claimID))
	}
	if traces[0] == traces[1] {
		t.Errorf("two claims share trace %s; want one trace each", traces[0])
	}
}

// assertOneTree waits until the collector holds the whole claimTrace of
// claimID, then checks that every span naming one of the claim's events
// is in that one trace, that the trace is one tree rooted at the click,
// and that each hop's parent is the one claimTrace names. It returns the
// trace id.
func assertOneTree(t *testing.T, col *collector.Collector, claimID string) string {
	t.Helper()
	var trace []collector.Span
	deadline := time.Now().Add(time.Minute)
	for {
		traceID, ids := claimSpans(col.Spans(), claimID)
		if len(ids) > 1 {
			t.Fatalf("the events of claim %s are spans of %d traces: %v", claimID, len(ids), ids)
		}
		trace = inTrace(col.Spans(), traceID)
		if traceID != "" && missingHops(trace) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim %s: trace %q lacks %v; it holds %v", claimID, traceID, missingHops(trace), names(trace))
		}
		time.Sleep(100 * time.Millisecond)
	}
	byID := make(map[string]collector.Span, len(trace))
	for _, sp := range trace {
		byID[sp.SpanID] = sp
	}
	roots := 0
	for _, sp := range trace {
		if id := sp.Attributes["cloudevents.event_id"]; id != "" && !ofClaim(id, claimID) {
			t.Errorf("span %s of event %s, another claim's, is in claim %s's trace", label(sp), id, claimID)
		}
		switch _, ok := byID[sp.ParentID]; {
		case sp.ParentID == "":
			roots++
		case !ok:
			t.Errorf("span %s's parent %s is not in the trace", label(sp), sp.ParentID)
		}
	}
	if roots != 1 {
		t.Errorf("claim %s's trace has %d roots; want 1 (the click)", claimID, roots)
	}
	for _, h := range claimTrace {
		if !hasHop(trace, byID, h) {
			t.Errorf("claim %s: no span %s %s whose parent is %q", claimID, h.service, h.name, h.parent)
		}
	}
	return trace[0].TraceID
}

// claimSpans returns the trace of the spans naming one of claimID's
// events, and every trace id they are in.
func claimSpans(spans []collector.Span, claimID string) (string, map[string]bool) {
	ids := map[string]bool{}
	traceID := ""
	for _, sp := range spans {
		if ofClaim(sp.Attributes["cloudevents.event_id"], claimID) {
			ids[sp.TraceID] = true
			traceID = sp.TraceID
		}
	}
	return traceID, ids
}

// ofClaim: the claim's own event ids are the claim id (claim.requested)
// and the claim id with a suffix (claim.reserved, order.queued, …).
func ofClaim(eventID, claimID string) bool {
	return eventID == claimID || strings.HasPrefix(eventID, claimID+"/") || strings.HasPrefix(eventID, claimID+"~")
}

func inTrace(spans []collector.Span, traceID string) []collector.Span {
	var out []collector.Span
	for _, sp := range spans {
		if sp.TraceID == traceID {
			out = append(out, sp)
		}
	}
	return out
}

func missingHops(trace []collector.Span) []string {
	have := map[string]bool{}
	for _, sp := range trace {
		have[label(sp)] = true
	}
	var missing []string
	for _, h := range claimTrace {
		if !have[h.service+" "+h.name] {
			missing = append(missing, h.service+" "+h.name)
		}
	}
	return missing
}

func hasHop(trace []collector.Span, byID map[string]collector.Span, h hop) bool {
	for _, sp := range trace {
		if sp.Service != h.service || sp.Name != h.name {
			continue
		}
		parent, ok := byID[sp.ParentID]
		if (h.parent == "" && sp.ParentID == "") || (ok && label(parent) == h.parent) {
			return true
		}
	}
	return false
}

func label(sp collector.Span) string { return sp.Service + " " + sp.Name }

func names(trace []collector.Span) []string {
	out := make([]string, len(trace))
	for i, sp := range trace {
		out[i] = label(sp)
	}
	return out
}
