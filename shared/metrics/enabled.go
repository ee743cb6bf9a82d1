package metrics

import (
	"os"
	"sync"
)

// Enabled reports whether this process times its store calls and its
// requests: true unless SURGE_METRICS is "off" (read once). GET /metrics
// is served either way; the domain counters cost a few atomic adds and
// always count.
var Enabled = sync.OnceValue(func() bool { return EnabledBy(os.Getenv) })

// EnabledBy reads SURGE_METRICS through getenv: "off" (or "false", "0")
// turns the instrumentation off.
func EnabledBy(getenv func(string) string) bool {
	switch getenv("SURGE_METRICS") {
	case "off", "false", "0":
		return false
	}
	return true
}
