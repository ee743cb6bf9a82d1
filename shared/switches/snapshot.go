package switches

import (
	"encoding/json"
	"strconv"
)

// Snapshot is the state of every switch at one version. A nil or empty
// snapshot has every switch off. The values are decoded once, when the
// snapshot is made: a click reads a switch with one map lookup.
type Snapshot struct {
	version int64
	values  map[string]json.RawMessage // Target.field → value
	enabled map[Target]bool            // the targets whose value is true
	shed    float64                    // shed_fraction, within 0..1
}

// newSnapshot reads the Redis hash's fields (version and one per switch).
func newSnapshot(fields map[string]string) *Snapshot {
	s := &Snapshot{values: make(map[string]json.RawMessage, len(fields)), enabled: make(map[Target]bool)}
	for f, v := range fields {
		if f == versionField {
			s.version, _ = strconv.ParseInt(v, 10, 64)
			continue
		}
		s.values[f] = json.RawMessage(v)
		var b bool
		if json.Unmarshal(s.values[f], &b) == nil && b {
			s.enabled[parseField(f)] = true
		}
	}
	var shed float64
	if json.Unmarshal(s.values[Target{Name: ShedFraction}.field()], &shed) == nil {
		s.shed = min(max(shed, 0), 1)
	}
	return s
}

// Version is the version of the last change the snapshot holds (0: none).
func (s *Snapshot) Version() int64 {
	if s == nil {
		return 0
	}
	return s.version
}

func (s *Snapshot) on(t Target) bool {
	return s != nil && s.enabled[t]
}

// PauseClaims reports whether new claims are paused.
func (s *Snapshot) PauseClaims() bool { return s.on(Target{Name: PauseClaims}) }

// SkipCaptcha reports whether campaign's claims skip the captcha check.
func (s *Snapshot) SkipCaptcha(campaign string) bool {
	return s.on(Target{Name: SkipCaptcha, Campaign: campaign})
}

// SoldOut reports whether campaign's sku is declared sold out.
func (s *Snapshot) SoldOut(campaign, sku string) bool {
	return s.on(Target{Name: SoldOut, Campaign: campaign, SKU: sku})
}

// ShedFraction is the fraction of clicks to shed, 0 to 1.
func (s *Snapshot) ShedFraction() float64 {
	if s == nil {
		return 0
	}
	return s.shed
}

// PauseSettlement reports whether settlement is paused.
func (s *Snapshot) PauseSettlement() bool { return s.on(Target{Name: PauseSettlement}) }

// ReadsCacheOnly reports whether reads are served from Redis only.
func (s *Snapshot) ReadsCacheOnly() bool { return s.on(Target{Name: ReadsCacheOnly}) }

// Set lists the switches that are set (to any value), by target.
func (s *Snapshot) Set() map[Target]json.RawMessage {
	out := make(map[Target]json.RawMessage)
	if s == nil {
		return out
	}
	for f, v := range s.values {
		out[parseField(f)] = v
	}
	return out
}
