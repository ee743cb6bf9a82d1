// Package plane keeps shadow traffic apart from real traffic (seed 001,
// 压测流量隔离): a load test on a live deployment runs the very same code
// as real users, on state of its own. A plane is where a request's state
// lives: its Redis key space, its PostgreSQL schema, its S3 key prefix.
//
// A request is shadow only when the host said so in what it signs: a user
// JWT with "shadow": true (package auth). HTTP functions choose the plane
// of each request by its verified JWT (Requests, ByCaller); event functions
// by the surgeshadow extension attribute of each event (Events), and every
// event they reply keeps it, so a chain stays on the plane its first event
// was published on.
package plane

import (
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/keyspace"
)

// Plane is real or shadow traffic.
type Plane uint8

// The planes. Real is the zero value: whatever says nothing is real.
const (
	Real Plane = iota
	Shadow
)

// Extension is the CloudEvents extension attribute of a shadow event; its
// only value is "true". A real event does not carry it.
const Extension = "surgeshadow"

// ShadowSchema is the PostgreSQL schema of the shadow plane; the real plane
// uses the database's own search_path.
const ShadowSchema = "surge_shadow"

// All lists the planes, real first.
func All() []Plane { return []Plane{Real, Shadow} }

func (p Plane) String() string {
	if p == Shadow {
		return "shadow"
	}
	return "real"
}

// Parse reads a plane's name: "real" (or "") and "shadow".
func Parse(name string) (Plane, error) {
	switch name {
	case "", "real":
		return Real, nil
	case "shadow":
		return Shadow, nil
	}
	return Real, fmt.Errorf("plane %q: want real or shadow", name)
}

// Keys is p's Redis key space under base (keyspace.Space.Shadow).
func (p Plane) Keys(base keyspace.Space) keyspace.Space {
	if p == Shadow {
		return base.Shadow()
	}
	return base
}

// Schema is p's PostgreSQL schema: "" (the database's search_path) for
// the real plane, ShadowSchema for the shadow one.
func (p Plane) Schema() string {
	if p == Shadow {
		return ShadowSchema
	}
	return ""
}

// ObjectPrefix is what p's S3 object keys begin with.
func (p Plane) ObjectPrefix() string {
	if p == Shadow {
		return "shadow/"
	}
	return ""
}

// Of is the plane of e: shadow when its Extension is "true", real when it
// has none. Any other value is an invalid event (poison): an event whose
// plane cannot be told is run on neither.
func Of(e event.Event) (Plane, error) {
	v, ok := e.Extensions()[Extension]
	if !ok {
		return Real, nil
	}
	if s, isString := v.(string); (isString && s == "true") || v == true {
		return Shadow, nil
	}
	return Real, fmt.Errorf("%w: extension %s = %v, want \"true\" or none", events.ErrInvalid, Extension, v)
}

// Mark puts e on plane p: the Extension for shadow, none for real (a
// real event is left as it is unless it carries one).
func Mark(e *event.Event, p Plane) {
	if p == Shadow {
		e.SetExtension(Extension, "true")
		return
	}
	if _, marked := e.Extensions()[Extension]; marked {
		e.SetExtension(Extension, nil)
	}
}

// Each holds one value per plane, indexed by Plane.
type Each[T any] [2]T

// Build makes one value per plane, real first.
func Build[T any](build func(Plane) (T, error)) (Each[T], error) {
	var out Each[T]
	for _, p := range All() {
		v, err := build(p)
		if err != nil {
			return out, fmt.Errorf("%s plane: %w", p, err)
		}
		out[p] = v
	}
	return out, nil
}
