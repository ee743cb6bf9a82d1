package fn

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeClock is a time a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSamplerLetsLinesThroughUnderTheLimitThenSummarises(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	s := newLineSampler(slog.New(slog.NewJSONHandler(&buf, nil)), 3, clock.now)
	var admitted int
	for i := range 10 {
		outcome := "ok"
		if i%4 == 3 {
			outcome = "sold_out"
		}
		if s.admit(outcome) {
			admitted++
		}
	}
	if admitted != 3 {
		t.Fatalf("admitted %d of 10 at a limit of 3", admitted)
	}
	if buf.Len() != 0 {
		t.Fatalf("a summary before the second ended: %s", buf.String())
	}
	clock.t = clock.t.Add(1500 * time.Millisecond)
	if !s.admit("ok") {
		t.Fatal("the first line of a new second was suppressed")
	}
	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d summary lines, want 1: %s", len(lines), buf.String())
	}
	m := lines[0]
	want := "handled 10: 8 ok, 2 sold_out (7 lines suppressed)"
	if m["msg"] != want {
		t.Errorf("msg = %q, want %q", m["msg"], want)
	}
	if m["handled"] != 10.0 || m["suppressed"] != 7.0 {
		t.Errorf("handled %v, suppressed %v; want 10 and 7", m["handled"], m["suppressed"])
	}
	if o, _ := m["outcomes"].(map[string]any); o["ok"] != 8.0 || o["sold_out"] != 2.0 {
		t.Errorf("outcomes = %v", m["outcomes"])
	}
}

func TestSamplerWritesNoSummaryForASecondUnderTheLimit(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	s := newLineSampler(slog.New(slog.NewJSONHandler(&buf, nil)), 5, clock.now)
	for range 5 {
		s.admit("ok")
	}
	clock.t = clock.t.Add(time.Second)
	for range 5 {
		if !s.admit("ok") {
			t.Fatal("a line under the limit of a new second was suppressed")
		}
	}
	s.flush()
	if buf.Len() != 0 {
		t.Errorf("summary written though no line was suppressed: %s", buf.String())
	}
}

func TestSamplerFlushWritesTheLastSecond(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	s := newLineSampler(slog.New(slog.NewJSONHandler(&buf, nil)), 1, clock.now)
	s.admit("done")
	s.admit("poison")
	s.flush()
	lines := logLines(t, &buf)
	if len(lines) != 1 || lines[0]["msg"] != "handled 2: 1 done, 1 poison (1 lines suppressed)" {
		t.Fatalf("after flush: %s", buf.String())
	}
	s.flush()
	if got := len(logLines(t, &buf)); got != 1 {
		t.Errorf("a second flush wrote again: %d lines", got)
	}
}

func TestLineLimit(t *testing.T) {
	cases := []struct {
		logEvents, perSecond string
		want                 int
		bad                  bool
	}{
		{"", "", DefaultLinesPerSecond, false},
		{"off", "", 0, false},
		{"OFF", "50", 0, false},
		{"on", "50", 50, false},
		{"", "0", 0, true},
		{"", "many", 0, true},
		{"sometimes", "", 0, true},
	}
	for _, c := range cases {
		got, err := LineLimit(func(k string) string {
			return map[string]string{"SURGE_LOG_EVENTS": c.logEvents, "SURGE_LOG_EVENTS_PER_SECOND": c.perSecond}[k]
		})
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("SURGE_LOG_EVENTS=%q SURGE_LOG_EVENTS_PER_SECOND=%q: got %d, %v; want %d (error %v)",
				c.logEvents, c.perSecond, got, err, c.want, c.bad)
		}
	}
}
