package fn

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/shared/cebinary"
)

// The host reads and writes binary-mode 1.0 events with cebinary; anything
// else (structured mode, batches, spec 0.3) still goes through the sdk.

// readEvent decodes the event of r: binary mode 1.0 directly, anything
// else through the sdk.
func readEvent(r *http.Request) (*event.Event, error) {
	if !cebinary.IsBinaryV1(r.Header) {
		return cehttp.NewEventFromHTTPRequest(r)
	}
	return readBinary(r)
}

// readBinary decodes the headers before it reads the body, so that a
// malformed header is refused without reading the data.
func readBinary(r *http.Request) (*event.Event, error) {
	ec, err := cebinary.DecodeContext(r.Header)
	if err != nil {
		return nil, err
	}
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return &event.Event{Context: ec, DataEncoded: data}, nil
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
	h := w.Header()
	if err := cebinary.SetHeaders(h, e); err != nil {
		if errors.Is(err, cebinary.ErrNotV1) {
			return errNotBinaryV1
		}
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
