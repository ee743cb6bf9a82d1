package broker

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/surgekit/surge/shared/cebinary"
)

// An event is stored in binary mode, as it travels over HTTP: attributes
// and extensions in ce-* message headers under canonical keys (NATS
// headers are case-sensitive; cebinary writes and matches canonical keys),
// datacontenttype in Content-Type, the data as the body. Events the headers
// cannot carry unchanged (spec 0.3, values NATS would trim or break a
// header line on) are stored as before this format: a JSON event as the
// body and no ce-specversion header. Both are read back.

// storedMsg is the message that stores e on subject.
func storedMsg(subject string, e *event.Event) (*nats.Msg, error) {
	msg := nats.NewMsg(subject)
	if err := cebinary.SetHeaders(http.Header(msg.Header), e); err == nil && headerSafe(msg.Header) {
		msg.Data = e.Data()
		return msg, nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	msg.Header = nats.Header{}
	msg.Data = data
	return msg, nil
}

// decodeStored reads a stored event: binary when it has a ce-specversion
// header, else a JSON event (the format of earlier versions, and the
// fallback of storedMsg). A binary event's data is data itself.
func decodeStored(h nats.Header, data []byte) (*event.Event, error) {
	if len(h["Ce-Specversion"]) > 0 {
		return cebinary.Decode(http.Header(h), data)
	}
	var e event.Event
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// headerSafe reports whether NATS stores every key and value of h as is:
// keys of printable ASCII without ':', values without control characters
// and without the leading or trailing blanks it trims.
func headerSafe(h nats.Header) bool {
	for k, vs := range h {
		if !keySafe(k) {
			return false
		}
		for _, v := range vs {
			if !valueSafe(v) {
				return false
			}
		}
	}
	return true
}

func keySafe(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

func valueSafe(v string) bool {
	if v == "" {
		return true
	}
	if blank(v[0]) || blank(v[len(v)-1]) {
		return false
	}
	for i := range len(v) {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func blank(c byte) bool { return c == ' ' || c == '\t' }
