// Package eventsig authenticates the events that start work in the chain:
// an HMAC-SHA256 over the event, carried in its CloudEvents extension
// attribute surgesig. Captcha signs every claim.requested it publishes and
// prededuct every reply it makes; prededuct and enqueue verify before they
// do anything, so an event posted straight to the broker is poison.
//
// The MAC covers the id, the source, the type, the subject when there is
// one, every extension attribute sorted by name, and the data bytes. Left
// out are the signature itself and the extensions that brokers and tracers
// add or rewrite on the way (names starting with "knative", traceparent,
// tracestate): a Knative broker sets knativearrivaltime on every event and
// knativeerror* on a dead letter. Time, datacontenttype and dataschema are
// not covered either: nothing in Surge acts on them.
//
// A signed event can be replayed as it is; every handler is idempotent on
// the event's id, so a replay changes nothing.
package eventsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/surgekit/surge/events"
)

// Extension is the CloudEvents extension attribute holding the signature
// (lower-case letters and digits only, as the spec requires of a name).
const Extension = "surgesig"

// MinKeyBytes is the shortest secret NewKey takes.
const MinKeyBytes = 32

// Errors of Verify.
var (
	// ErrUnsigned: the event carries no signature.
	ErrUnsigned = errors.New("event not signed")
	// ErrForged: the signature is not the key's MAC of this event.
	ErrForged = errors.New("event signature does not verify")
)

// domain starts every MAC input, so the key signs nothing else by mistake.
const domain = "surge event v1\n"

// Key signs and verifies events with one secret (SURGE_EVENT_KEY).
type Key struct {
	secret []byte
}

// NewKey returns the key of secret, which must be at least MinKeyBytes long.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeyBytes {
		return nil, fmt.Errorf("event key: %d bytes, want at least %d", len(secret), MinKeyBytes)
	}
	return &Key{secret: slices.Clone(secret)}, nil
}

// FromEnv is the key in the environment variable name (SURGE_EVENT_KEY),
// which must be set. Each function names the variable itself, so the
// manifest validator sees that it reads it.
func FromEnv(getenv func(string) string, name string) (*Key, error) {
	v := getenv(name)
	if v == "" {
		return nil, fmt.Errorf("%s is required", name)
	}
	k, err := NewKey([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// Sign sets e's surgesig extension to the MAC of e, replacing any there.
// Copies of an event.Event share its context: clone e first to keep the
// original unsigned.
func (k *Key) Sign(e *event.Event) error {
	mac, err := k.mac(*e)
	if err != nil {
		return fmt.Errorf("sign %s %s: %w", e.Type(), e.ID(), err)
	}
	return e.Context.SetExtension(Extension, base64.RawURLEncoding.EncodeToString(mac))
}

// Verify returns nil only when e carries the key's MAC of e, compared in
// constant time; otherwise ErrUnsigned or ErrForged.
func (k *Key) Verify(e event.Event) error {
	v, ok := e.Extensions()[Extension]
	if !ok {
		return fmt.Errorf("%s %s: %w", e.Type(), e.ID(), ErrUnsigned)
	}
	s, err := types.ToString(v)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %v", e.Type(), e.ID(), ErrForged, err)
	}
	got, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %v", e.Type(), e.ID(), ErrForged, err)
	}
	want, err := k.mac(e)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("%s %s: %w", e.Type(), e.ID(), ErrForged)
	}
	return nil
}

// mac is the HMAC-SHA256 of e's signed parts. Each part is written as its
// name and its value, both length-prefixed, so no two events share an input.
func (k *Key) mac(e event.Event) ([]byte, error) {
	h := hmac.New(sha256.New, k.secret)
	h.Write([]byte(domain))
	part(h, "id", e.ID())
	part(h, "source", e.Source())
	part(h, "type", e.Type())
	if s := e.Subject(); s != "" {
		part(h, "subject", s)
	}
	exts := e.Extensions()
	for _, name := range signedExtensions(exts) {
		v, err := types.Format(exts[name])
		if err != nil {
			return nil, fmt.Errorf("extension %s: %w", name, err)
		}
		part(h, "ext:"+name, v)
	}
	part(h, "data", string(e.Data()))
	return h.Sum(nil), nil
}

// signedExtensions are the names of the extensions the MAC covers, sorted.
func signedExtensions(exts map[string]any) []string {
	names := make([]string, 0, len(exts))
	for name := range exts {
		if !inTransit(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// inTransit: the signature itself, or an extension that brokers and
// tracers add or rewrite after the sender signed.
func inTransit(name string) bool {
	return name == Extension || name == events.RedriveExtension || name == "traceparent" || name == "tracestate" ||
		strings.HasPrefix(name, "knative")
}

func part(h hash.Hash, name, value string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(name)))])
	h.Write([]byte(name))
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(value)))])
	h.Write([]byte(value))
}
