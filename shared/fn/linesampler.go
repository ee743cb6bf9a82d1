package fn

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultLinesPerSecond is how many handled-event or handled-request lines
// a process writes each second before it counts the rest instead
// (SURGE_LOG_EVENTS_PER_SECOND).
const DefaultLinesPerSecond = 100

// LineLimit reads SURGE_LOG_EVENTS ("off" writes no line per event or
// request, only the errors) and SURGE_LOG_EVENTS_PER_SECOND: the lines a
// second the host writes, 0 when off.
func LineLimit(getenv func(string) string) (int, error) {
	switch v := strings.ToLower(getenv("SURGE_LOG_EVENTS")); v {
	case "off", "false", "0":
		return 0, nil
	case "", "on", "true", "1":
	default:
		return 0, fmt.Errorf("SURGE_LOG_EVENTS %q: want on or off", v)
	}
	v := getenv("SURGE_LOG_EVENTS_PER_SECOND")
	if v == "" {
		return DefaultLinesPerSecond, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("SURGE_LOG_EVENTS_PER_SECOND %q: want a whole number of at least 1", v)
	}
	return n, nil
}

// WithLineLimit sets how many lines a second the host writes for the
// events and requests it handled (0: none); DefaultLinesPerSecond unless
// given. Run reads it with LineLimit.
func WithLineLimit(perSecond int) Option {
	return func(h *host) { h.lines = newLineSampler(h.log, perSecond, time.Now) }
}

// lineSampler keeps the handled lines cheap under load: it lets every
// line through while fewer than limit went out in the current second;
// past that it only counts them by outcome, and the first line of a later
// second (or flush) writes one summary of the second that had lines
// suppressed: "handled 12345: 12000 ok, 345 sold_out (12245 lines
// suppressed)". One mutex, held for a few counter updates.
type lineSampler struct {
	log   *slog.Logger
	limit int
	now   func() time.Time

	mu         sync.Mutex
	second     int64          // the Unix second being counted
	lines      int            // lines let through in it
	handled    int            // everything handled in it
	suppressed int            // lines not written in it
	outcomes   map[string]int // handled in it, by outcome
}

func newLineSampler(log *slog.Logger, limit int, now func() time.Time) *lineSampler {
	return &lineSampler{log: log, limit: limit, now: now, outcomes: make(map[string]int)}
}

// on reports whether lines are written at all (SURGE_LOG_EVENTS not off).
func (s *lineSampler) on() bool { return s != nil && s.limit > 0 }

// admit counts one handled event or request of outcome and reports
// whether its line is to be written.
func (s *lineSampler) admit(outcome string) bool {
	sec := s.now().Unix()
	s.mu.Lock()
	var summary *secondSummary
	if sec != s.second {
		summary = s.roll(sec)
	}
	s.handled++
	s.outcomes[outcome]++
	ok := s.lines < s.limit
	if ok {
		s.lines++
	} else {
		s.suppressed++
	}
	s.mu.Unlock()
	summary.write(s.log)
	return ok
}

// flush writes the summary of the second being counted, if it had lines
// suppressed; the host calls it once drained.
func (s *lineSampler) flush() {
	if !s.on() {
		return
	}
	s.mu.Lock()
	summary := s.roll(s.now().Unix() + 1)
	s.mu.Unlock()
	summary.write(s.log)
}

// roll starts second sec and returns the summary of the one it ends, nil
// when that one wrote every line. Called with mu held.
func (s *lineSampler) roll(sec int64) *secondSummary {
	var out *secondSummary
	if s.suppressed > 0 {
		out = &secondSummary{second: time.Unix(s.second, 0).UTC(), handled: s.handled, suppressed: s.suppressed, outcomes: s.outcomes}
		s.outcomes = make(map[string]int, len(out.outcomes))
	} else {
		clear(s.outcomes)
	}
	s.second, s.lines, s.handled, s.suppressed = sec, 0, 0, 0
	return out
}

// secondSummary is one second whose lines were not all written.
type secondSummary struct {
	second              time.Time
	handled, suppressed int
	outcomes            map[string]int
}

func (m *secondSummary) write(log *slog.Logger) {
	if m == nil {
		return
	}
	names := make([]string, 0, len(m.outcomes))
	for o := range m.outcomes {
		names = append(names, o)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(m.outcomes[b], m.outcomes[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(names))
	group := make([]any, len(names))
	for i, o := range names {
		parts[i] = fmt.Sprintf("%d %s", m.outcomes[o], o)
		group[i] = slog.Int(o, m.outcomes[o])
	}
	msg := fmt.Sprintf("handled %d: %s (%d lines suppressed)", m.handled, strings.Join(parts, ", "), m.suppressed)
	log.LogAttrs(context.Background(), slog.LevelInfo, msg, slog.Time("second", m.second),
		slog.Int("handled", m.handled), slog.Int("suppressed", m.suppressed), slog.Group("outcomes", group...))
}
