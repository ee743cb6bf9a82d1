// Package switches holds Surge's degrade switches (seed 001, 降级开关):
// levers the operator pulls on the night of a sale, seen by every
// instance within a second, without a restart. PostgreSQL is their record
// (Store); Redis carries the live state, one hash under keyspace.Switches
// with a version that only grows (Publish); each function runs a Watcher
// that polls the version every 200 ms and keeps the whole state in memory,
// so reading a switch costs no Redis round trip per click.
package switches

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/surgekit/surge/shared/campaign"
)

// The switches. A switch is off unless set: false, or a fraction of 0.
const (
	// PauseClaims: captcha answers every claim 503 claims_paused with
	// Retry-After; nothing is recorded or reserved.
	PauseClaims = "pause_claims"
	// SkipCaptcha (per campaign): a claim of the campaign goes without the
	// captcha answer check.
	SkipCaptcha = "skip_captcha"
	// SoldOut (per campaign and SKU): a click on the SKU is answered 409
	// sold_out at once, before any Redis stock is touched.
	SoldOut = "sold_out"
	// ShedFraction (0..1): that fraction of clicks is answered 503 shed
	// with Retry-After at once.
	ShedFraction = "shed_fraction"
	// PauseSettlement: settle answers 503 with a Surge-Paused header; the
	// broker keeps the order and delivers it again later.
	PauseSettlement = "pause_settlement"
	// ReadsCacheOnly: query answers from Redis only, never PostgreSQL,
	// with the header Surge-Degraded: cache-only.
	ReadsCacheOnly = "reads_cache_only"
)

// Scope is what a switch applies to.
type Scope int

const (
	Global   Scope = iota // the whole deployment (of one plane)
	Campaign              // one campaign
	SKU                   // one SKU of one campaign
)

// kind is how a switch's value reads.
type kind int

const (
	boolean  kind = iota // true or false
	fraction             // a number from 0 to 1
)

type spec struct {
	scope Scope
	kind  kind
}

var specs = map[string]spec{
	PauseClaims:     {Global, boolean},
	SkipCaptcha:     {Campaign, boolean},
	SoldOut:         {SKU, boolean},
	ShedFraction:    {Global, fraction},
	PauseSettlement: {Global, boolean},
	ReadsCacheOnly:  {Global, boolean},
}

// Names lists every switch, in a fixed order.
func Names() []string {
	return []string{PauseClaims, SkipCaptcha, SoldOut, ShedFraction, PauseSettlement, ReadsCacheOnly}
}

// ScopeOf is the scope of switch name; ok is false for an unknown name.
func ScopeOf(name string) (Scope, bool) {
	s, ok := specs[name]
	return s.scope, ok
}

// Target is one switch at one place: its name, and the campaign and SKU
// its scope asks for ("" where it does not).
type Target struct {
	Name     string `json:"name"`
	Campaign string `json:"campaign,omitempty"`
	SKU      string `json:"sku,omitempty"`
}

// field is the target's field in the Redis hash: the name, then the
// campaign and the SKU where given, joined by ':' (ids never hold one).
func (t Target) field() string {
	f := t.Name
	if t.Campaign != "" {
		f += ":" + t.Campaign
	}
	if t.SKU != "" {
		f += ":" + t.SKU
	}
	return f
}

// parseField is the inverse of field.
func parseField(f string) Target {
	parts := strings.SplitN(f, ":", 3)
	t := Target{Name: parts[0]}
	if len(parts) > 1 {
		t.Campaign = parts[1]
	}
	if len(parts) > 2 {
		t.SKU = parts[2]
	}
	return t
}

// Errors of a change that cannot be made.
var (
	ErrUnknown  = fmt.Errorf("unknown switch")
	ErrScope    = fmt.Errorf("switch scope")
	ErrBadValue = fmt.Errorf("switch value")
)

// Check validates a change of t to value: a known name, the campaign and
// SKU its scope asks for and no others, and a value of its kind. It
// returns the value in its stored form (JSON).
func (t Target) Check(value json.RawMessage) (json.RawMessage, error) {
	s, ok := specs[t.Name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknown, t.Name)
	}
	switch {
	case s.scope >= Campaign && !campaign.ValidID(t.Campaign):
		return nil, fmt.Errorf("%w: %s needs a valid campaign", ErrScope, t.Name)
	case s.scope < Campaign && t.Campaign != "":
		return nil, fmt.Errorf("%w: %s takes no campaign", ErrScope, t.Name)
	case s.scope == SKU && !campaign.ValidID(t.SKU):
		return nil, fmt.Errorf("%w: %s needs a valid sku", ErrScope, t.Name)
	case s.scope < SKU && t.SKU != "":
		return nil, fmt.Errorf("%w: %s takes no sku", ErrScope, t.Name)
	}
	switch s.kind {
	case boolean:
		var b bool
		if err := json.Unmarshal(value, &b); err != nil {
			return nil, fmt.Errorf("%w: %s takes true or false", ErrBadValue, t.Name)
		}
		return json.RawMessage(strconv.FormatBool(b)), nil
	default:
		var f float64
		if err := json.Unmarshal(value, &f); err != nil || f < 0 || f > 1 {
			return nil, fmt.Errorf("%w: %s takes a number from 0 to 1", ErrBadValue, t.Name)
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
}
