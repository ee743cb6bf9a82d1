package broker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var errDuration = errors.New("want an ISO-8601 duration like PT0.2S, PT1M or P1DT2H")

// parseISODuration parses the ISO-8601 durations Knative uses in a
// DeliverySpec: P[nD][T[nH][nM][nS]], each number possibly fractional.
// Years, months and weeks are rejected: their length is ambiguous.
func parseISODuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" || rest == "T" {
		return 0, fmt.Errorf("duration %q: %w", s, errDuration)
	}
	date, clock, hasT := strings.Cut(rest, "T")
	if hasT && clock == "" {
		return 0, fmt.Errorf("duration %q: %w", s, errDuration)
	}
	d, err := sumUnits(date, map[byte]time.Duration{'D': 24 * time.Hour})
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	c, err := sumUnits(clock, map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second})
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	return d + c, nil
}

// sumUnits adds up "<number><unit>" pairs, each unit at most once.
func sumUnits(s string, units map[byte]time.Duration) (time.Duration, error) {
	var total time.Duration
	seen := map[byte]bool{}
	for s != "" {
		i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, errDuration
		}
		unit, ok := units[s[i]]
		if !ok || seen[s[i]] {
			return 0, errDuration
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, errDuration
		}
		seen[s[i]] = true
		total += time.Duration(n * float64(unit))
		s = s[i+1:]
	}
	return total, nil
}
