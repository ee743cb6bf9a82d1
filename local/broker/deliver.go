package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/surgekit/surge/shared/cebinary"
)

// maxReplyBytes bounds a reply event read from a subscriber.
const maxReplyBytes = 4 << 20

// errorDataBytes bounds the response body carried in knativeerrordata.
const errorDataBytes = 1024

// result is the outcome of one delivery attempt.
type result struct {
	status int    // HTTP status, 0 on a network error or timeout
	body   []byte // the first errorDataBytes of a failed response
	err    error
	reply  *event.Event
	local  bool // the broker itself failed (storing a reply): always retry
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// retryable follows the Knative data-plane contract: network errors,
// timeouts, 404, 408, 409, 429 and 5xx are retried; other 4xx are not.
func (r result) retryable() bool {
	switch {
	case r.local, r.status == 0, r.status >= 500:
		return true
	case r.status == http.StatusNotFound, r.status == http.StatusRequestTimeout,
		r.status == http.StatusConflict, r.status == http.StatusTooManyRequests:
		return true
	}
	return false
}

// handle delivers one message and settles it (ack, nak or dead letter).
func (d *dispatcher) handle(ctx context.Context, msg jetstream.Msg) {
	// No InProgress here: fetch pulls only as many messages as there are
	// free workers, so AckWait starts as the handling does.
	e, err := decodeStored(msg.Headers(), msg.Data())
	if err != nil {
		d.log.ErrorContext(ctx, "undecodable stored event dropped", "trigger", d.route.name, "err", err)
		_ = msg.Term()
		return
	}
	if !matches(e, d.route.filter) {
		d.ack(ctx, msg, e)
		return
	}
	attempt := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		attempt = md.NumDelivered
	}
	if attempt > 1 {
		d.metrics.redeliveries.Inc()
	}
	ctx, span := d.ing.hops.startDelivery(ctx, e, d.route, attempt)
	res := d.deliverCopies(ctx, e)
	d.settle(ctx, msg, e, attempt, res)
	endDelivery(span, res)
}

// deliverCopies delivers e once (twice in duplicate mode, one after the
// other) and stores every reply, deduplicated unless in duplicate mode.
func (d *dispatcher) deliverCopies(ctx context.Context, e *event.Event) result {
	var res result
	for range d.copies {
		start := time.Now()
		res = d.send(ctx, d.route.subscriber, e)
		d.metrics.delivered(res, time.Since(start))
		if !res.ok() {
			return res
		}
		if res.reply == nil {
			continue
		}
		if err := d.ing.ingest(ctx, res.reply, d.copies == 1); err != nil {
			return result{status: res.status, err: fmt.Errorf("store reply: %w", err), local: true}
		}
	}
	return res
}

// send POSTs e in binary mode to url and reads a reply event, if any.
func (d *dispatcher) send(ctx context.Context, url string, e *event.Event) result {
	ctx, cancel := context.WithTimeout(ctx, d.route.timeout)
	defer cancel()
	req, err := cebinary.NewRequest(ctx, url, e)
	if err != nil {
		return result{err: fmt.Errorf("encode request: %w", err)}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return result{err: fmt.Errorf("post: %w", err)}
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode}
	if !res.ok() {
		res.body, _ = io.ReadAll(io.LimitReader(resp.Body, errorDataBytes))
		res.err = fmt.Errorf("status %d", resp.StatusCode)
		return res
	}
	res.reply, res.err = readReply(ctx, resp)
	return res
}

// readReply returns the CloudEvent in a 2xx response, or nil if there is
// none. A malformed reply event is an error (not retried: it would be
// malformed again).
func readReply(ctx context.Context, resp *http.Response) (*event.Event, error) {
	reply, err := decodeReply(ctx, resp)
	if reply == nil && err == nil {
		return nil, nil
	}
	if err == nil {
		err = reply.Validate()
	}
	if err != nil {
		return nil, errors.Join(errBadReply, err)
	}
	return reply, nil
}

var errBadReply = errors.New("invalid reply event")

// decodeReply decodes a binary-mode 1.0 reply with cebinary and any other
// with the sdk; it returns nil, nil when the response carries no event.
func decodeReply(ctx context.Context, resp *http.Response) (*event.Event, error) {
	if !cebinary.IsBinaryV1(resp.Header) {
		msg := cehttp.NewMessage(resp.Header, io.NopCloser(io.LimitReader(resp.Body, maxReplyBytes)))
		if msg.ReadEncoding() == binding.EncodingUnknown {
			return nil, nil
		}
		return binding.ToEvent(ctx, msg)
	}
	body, err := readBounded(resp.Body, resp.ContentLength, maxReplyBytes)
	if err != nil {
		return nil, err
	}
	return cebinary.Decode(resp.Header, body)
}

// readBounded reads at most limit bytes of body, n of them at once when
// its length n is known and within the limit.
func readBounded(body io.Reader, n, limit int64) ([]byte, error) {
	if n <= 0 || n > limit {
		b, err := io.ReadAll(io.LimitReader(body, limit))
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return b, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(body, b); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}
