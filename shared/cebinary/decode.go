// Package cebinary is the CloudEvents binary content mode for spec 1.0,
// written out: attributes and extensions in ce-* headers, datacontenttype
// in Content-Type, the data as the body. Surge's events all travel this
// way, over HTTP and in the broker's store, so the function host and the
// broker read and write it directly instead of through the sdk's generic
// binding, which cost more than the work around it (BENCHMARKS.md).
// Anything else (structured mode, batches, spec 0.3) is left to the sdk.
//
// Keys are canonical header keys ("Ce-Id", "Content-Type") on write and
// are matched canonically on read, so a case-sensitive header map such as
// a NATS header round-trips as long as it keeps the keys it was given.
package cebinary

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

const prefix = "Ce-"

// IsBinaryV1 reports whether h announces a binary-mode 1.0 event: no
// CloudEvents format in Content-Type and ce-specversion 1.0 (the sdk's own
// test, in its order).
func IsBinaryV1(h http.Header) bool {
	if format.Lookup(first(h, "Content-Type")) != nil {
		return false
	}
	return first(h, "Ce-Specversion") == event.CloudEventsVersionV1
}

func first(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Decode builds the event of a binary-mode 1.0 message from its headers
// and body; an empty body is no data, as in the sdk. It does not validate
// the event. The event's data is body itself, not a copy.
func Decode(h http.Header, body []byte) (*event.Event, error) {
	ec, err := DecodeContext(h)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		body = nil
	}
	return &event.Event{Context: ec, DataEncoded: body}, nil
}

// DecodeContext reads the attributes and extensions of a binary-mode 1.0
// message from its headers; headers that are neither are ignored.
func DecodeContext(h http.Header) (*event.EventContextV1, error) {
	ec := &event.EventContextV1{}
	for k, v := range h {
		if len(v) == 0 {
			continue
		}
		if err := setHeader(ec, k, v[0]); err != nil {
			return nil, err
		}
	}
	return ec, nil
}

// setHeader sets the attribute or extension header k carries. Keys are
// expected canonical, so the attributes are matched without lower-casing.
func setHeader(ec *event.EventContextV1, k, v string) error {
	var err error
	switch k {
	case "Content-Type":
		err = ec.SetDataContentType(v)
	case "Ce-Specversion":
	case "Ce-Id":
		err = ec.SetID(v)
	case "Ce-Source":
		err = ec.SetSource(v)
	case "Ce-Type":
		err = ec.SetType(v)
	case "Ce-Subject":
		err = ec.SetSubject(v)
	case "Ce-Dataschema":
		err = ec.SetDataSchema(v)
	case "Ce-Time":
		err = setTime(ec, v)
	default:
		err = setExtension(ec, k, v)
	}
	if err != nil {
		return fmt.Errorf("header %s: %w", k, err)
	}
	return nil
}

// setExtension sets the extension a ce-* header k carries.
func setExtension(ec *event.EventContextV1, k, v string) error {
	if len(k) <= len(prefix) || !strings.EqualFold(k[:len(prefix)], prefix) {
		return nil
	}
	name := strings.ToLower(k[len(prefix):])
	switch name { // a non-canonical key of an attribute
	case "specversion", "id", "source", "type", "subject", "dataschema", "time":
		return setHeader(ec, http.CanonicalHeaderKey(k), v)
	}
	return ec.SetExtension(name, v)
}

func setTime(ec *event.EventContextV1, v string) error {
	t, err := types.ParseTime(v)
	if err != nil {
		return err
	}
	return ec.SetTime(t)
}
