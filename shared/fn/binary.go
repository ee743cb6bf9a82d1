package fn

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
)

// The CloudEvents HTTP binding in binary mode: attributes in ce-* headers,
// datacontenttype in Content-Type, the data as the body. Surge's events
// all travel this way, so the host reads and writes it directly instead of
// through the sdk's generic binding, which cost more than the functions'
// own work (BENCHMARKS.md). Anything else (structured mode, batches, spec
// 0.3) still goes through the sdk.

const cePrefix = "Ce-"

// readEvent decodes the event of r: binary mode 1.0 directly, anything
// else through the sdk.
func readEvent(r *http.Request) (*event.Event, error) {
	if !isBinaryV1(r.Header) {
		return cehttp.NewEventFromHTTPRequest(r)
	}
	return readBinary(r)
}

// isBinaryV1 reports whether header announces a binary-mode 1.0 event: no
// CloudEvents format in Content-Type and ce-specversion 1.0 (the sdk's own
// test, in its order).
func isBinaryV1(header http.Header) bool {
	if format.Lookup(header.Get("Content-Type")) != nil {
		return false
	}
	v := header["Ce-Specversion"]
	return len(v) > 0 && v[0] == event.CloudEventsVersionV1
}

func readBinary(r *http.Request) (*event.Event, error) {
	ec := &event.EventContextV1{}
	for k, v := range r.Header {
		if err := setHeader(ec, k, v[0]); err != nil {
			return nil, err
		}
	}
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return &event.Event{Context: ec, DataEncoded: data}, nil
}

// setHeader sets the attribute or extension header k carries; headers
// that are neither are ignored. Keys come canonical from net/http, so the
// attributes are matched without lower-casing them.
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
	if len(k) <= len(cePrefix) || !strings.EqualFold(k[:len(cePrefix)], cePrefix) {
		return nil
	}
	name := strings.ToLower(k[len(cePrefix):])
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

// readBody reads the data; an empty body is no data, as in the sdk.
func readBody(r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > MaxEventBytes {
		return readAll(r.Body)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r.Body, data); err != nil {
		return nil, fmt.Errorf("read event data: %w", err)
	}
	return data, nil
}

// readAll reads a body of unknown length (chunked, or over the limit, where
// the MaxBytesReader fails it).
func readAll(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read event data: %w", err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	return data, nil
}

// errNotBinaryV1 means a reply the direct writer does not handle.
var errNotBinaryV1 = errors.New("reply is not a CloudEvents 1.0 event")

// writeBinary writes e as a binary-mode response with status.
func writeBinary(w http.ResponseWriter, e *event.Event, status int) error {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok || ec == nil {
		return errNotBinaryV1
	}
	h := w.Header()
	if err := setReplyHeaders(h, ec); err != nil {
		return err
	}
	data := e.Data()
	if len(data) > 0 {
		h["Content-Length"] = []string{strconv.Itoa(len(data))}
	}
	w.WriteHeader(status)
	if len(data) == 0 {
		return nil
	}
	_, err := w.Write(data)
	return err
}

// setReplyHeaders writes ec's attributes and extensions as headers, all
// values in one backing array.
func setReplyHeaders(h http.Header, ec *event.EventContextV1) error {
	vals := make([]string, 0, 7+len(ec.Extensions))
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	set("Ce-Specversion", event.CloudEventsVersionV1)
	set("Ce-Id", ec.ID)
	set("Ce-Source", ec.Source.String())
	set("Ce-Type", ec.Type)
	if ec.Subject != nil {
		set("Ce-Subject", *ec.Subject)
	}
	if ec.Time != nil {
		set("Ce-Time", types.FormatTime(ec.Time.Time))
	}
	if ec.DataSchema != nil {
		set("Ce-Dataschema", ec.DataSchema.String())
	}
	if ec.DataContentType != nil {
		set("Content-Type", *ec.DataContentType)
	}
	for name, v := range ec.Extensions {
		s, err := types.Format(v)
		if err != nil {
			return fmt.Errorf("extension %s: %w", name, err)
		}
		set(extensionHeader(name), s)
	}
	return nil
}

// extensionHeader is the header of extension name as the sdk names it: a
// canonical header key, since extension names are lower-case letters and
// digits.
func extensionHeader(name string) string {
	var b strings.Builder
	b.Grow(len(cePrefix) + len(name))
	b.WriteString(cePrefix)
	if name != "" {
		b.WriteByte(upper(name[0]))
		b.WriteString(name[1:])
	}
	return b.String()
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
