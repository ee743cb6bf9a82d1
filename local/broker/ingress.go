package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/shared/cebinary"
)

// ingester stores events into the stream: from HTTP ingress, from
// PingSources and from subscriber replies.
type ingester struct {
	store   *store
	metrics *metrics
	hops    hops
}

func (b *Broker) ingester() ingester { return ingester{store: b.store, metrics: b.metrics, hops: b.hops} }

// ingest validates e and stores it, deduplicated on source+id when dedup
// is true. It returns once JetStream has acknowledged the event. With
// tracing on, storing is a span and e is stored carrying its context.
func (g ingester) ingest(ctx context.Context, e *event.Event, dedup bool) error {
	ctx, span := g.hops.startIngest(ctx, e)
	err := g.put(ctx, e, dedup)
	endIngest(span, err)
	return err
}

func (g ingester) put(ctx context.Context, e *event.Event, dedup bool) error {
	subject, err := subjectFor(e.Type())
	if err != nil {
		return err
	}
	msg, err := storedMsg(subject, e)
	if err != nil {
		return err
	}
	id := ""
	if dedup {
		id = dedupID(e)
	}
	duplicate, err := g.store.publish(ctx, msg, id)
	if err != nil {
		return err
	}
	g.metrics.stored(e.Type(), duplicate)
	return nil
}

// ingressHandler accepts CloudEvents over HTTP, binary or structured.
type ingressHandler struct {
	ingester
	log        *slog.Logger
	brokerName string
	maxBytes   int64
}

func (h ingressHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b := r.PathValue("broker"); b != "" && b != h.brokerName {
		writeError(w, http.StatusNotFound, "unknown_broker", fmt.Sprintf("no broker %q here", b))
		return
	}
	e, status, err := h.readEvent(w, r)
	if err != nil {
		writeError(w, status, errorCode(status), err.Error())
		return
	}
	if err := h.ingest(r.Context(), e, true); err != nil {
		if errors.Is(err, errBadType) {
			writeError(w, http.StatusBadRequest, "bad_type", err.Error())
			return
		}
		h.log.ErrorContext(r.Context(), "ingress store failed", "id", e.ID(), "type", e.Type(), "source", e.Source(), "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "event not stored; retry")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// readEvent reads a bounded body and decodes a valid CloudEvent from it.
func (h ingressHandler) readEvent(w http.ResponseWriter, r *http.Request) (*event.Event, int, error) {
	if r.ContentLength > h.maxBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", h.maxBytes)
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.maxBytes), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", h.maxBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	e, err := decodeRequest(r, body)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("not a CloudEvent: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("invalid CloudEvent: %w", err)
	}
	return e, 0, nil
}

// readBody reads a body of length n at once when n is known, else until
// EOF (or the MaxBytesReader's error).
func readBody(body io.Reader, n int64) ([]byte, error) {
	if n <= 0 {
		return io.ReadAll(body)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(body, b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeRequest decodes the event of r, whose body has been read: binary
// mode 1.0 with cebinary, anything else (structured, batch, 0.3) with the
// sdk.
func decodeRequest(r *http.Request, body []byte) (*event.Event, error) {
	if cebinary.IsBinaryV1(r.Header) {
		return cebinary.Decode(r.Header, body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return cehttp.NewEventFromHTTPRequest(r)
}

func errorCode(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "too_large"
	}
	return "invalid_event"
}

// writeError writes the Surge JSON error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]map[string]string{"error": {"code": code, "message": msg}}
	_ = json.NewEncoder(w).Encode(body) // the client is gone if this fails
}
