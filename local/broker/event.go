package broker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/surgekit/surge/events"
)

var errBadType = errors.New("event type must be dot-separated tokens without spaces, '*' or '>'")

// subjectFor maps an event type to its stream subject: "events." + type.
func subjectFor(typ string) (string, error) {
	if typ == "" || strings.ContainsAny(typ, " \t\r\n*>") {
		return "", fmt.Errorf("type %q: %w", typ, errBadType)
	}
	for _, tok := range strings.Split(typ, ".") {
		if tok == "" {
			return "", fmt.Errorf("type %q: %w", typ, errBadType)
		}
	}
	return subjectPrefix + typ, nil
}

// dedupID is the JetStream message id of an event: source + " " + id, the
// identity every Surge handler is idempotent on, and the redrive number of
// an operator's redrive (events.RedriveExtension), which must not be taken
// for a re-send of the event the broker gave up on.
func dedupID(e *event.Event) string {
	id := e.Source() + " " + e.ID()
	if n, ok := e.Extensions()[events.RedriveExtension]; ok {
		id += fmt.Sprintf(" redrive %v", n)
	}
	return id
}

// matches reports whether e has every attribute of filter; an empty filter
// value matches any value (Knative's "any" filter).
func matches(e *event.Event, filter map[string]string) bool {
	for k, want := range filter {
		if want == "" {
			continue
		}
		got, ok := attribute(e, k)
		if !ok || got != want {
			return false
		}
	}
	return true
}

// attribute returns a context attribute or extension as a string.
func attribute(e *event.Event, name string) (string, bool) {
	switch name {
	case "specversion":
		return e.SpecVersion(), true
	case "id":
		return e.ID(), true
	case "source":
		return e.Source(), true
	case "type":
		return e.Type(), true
	case "subject":
		return e.Subject(), e.Subject() != ""
	case "datacontenttype":
		return e.DataContentType(), e.DataContentType() != ""
	case "dataschema":
		return e.DataSchema(), e.DataSchema() != ""
	case "time":
		return types.FormatTime(e.Time()), !e.Time().IsZero()
	}
	v, ok := e.Extensions()[name]
	if !ok {
		return "", false
	}
	s, err := types.Format(v)
	return s, err == nil
}
