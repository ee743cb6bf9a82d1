package cebinary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
)

// ErrNotV1 means an event this package does not write: its context is not
// CloudEvents 1.0.
var ErrNotV1 = errors.New("not a CloudEvents 1.0 event")

// SetHeaders writes e's attributes and extensions into h as binary-mode
// headers under canonical keys, datacontenttype as Content-Type, all the
// values in one backing array. The data (e.Data()) is the body to send.
func SetHeaders(h http.Header, e *event.Event) error {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok || ec == nil {
		return ErrNotV1
	}
	vals := make([]string, 0, 8+len(ec.Extensions))
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
		set(ExtensionHeader(name), s)
	}
	return nil
}

// ExtensionHeader is the header of extension name as the sdk names it: a
// canonical header key, since extension names are lower-case letters and
// digits.
func ExtensionHeader(name string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(name))
	b.WriteString(prefix)
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

// NewRequest is the POST of e to url in binary mode: built directly for a
// 1.0 event, by the sdk otherwise.
func NewRequest(ctx context.Context, url string, e *event.Event) (*http.Request, error) {
	if _, ok := e.Context.(*event.EventContextV1); !ok {
		return cehttp.NewHTTPRequestFromEvent(ctx, url, *e)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(e.Data()))
	if err != nil {
		return nil, err
	}
	if err := SetHeaders(req.Header, e); err != nil {
		return nil, err
	}
	return req, nil
}
