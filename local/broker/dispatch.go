package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackMargin is added to the handling time a consumer's AckWait must cover.
const ackMargin = 2 * time.Second

// dispatcher delivers one trigger's events from its durable pull consumer
// to its subscriber with a bounded pool of workers.
type dispatcher struct {
	route   route
	cons    jetstream.Consumer
	client  *http.Client
	ing     ingester
	metrics triggerMetrics
	log     *slog.Logger
	workers int
	copies  int          // 2 in duplicate-delivery mode
	busy    atomic.Int64 // deliveries in hand
}

// consumerConfig is the durable consumer of a route: it sees only the
// route's type when it filters on one, and is redelivered a message whose
// handling (every copy plus a dead letter, each bounded by the timeout)
// did not finish within AckWait.
func consumerConfig(r route, workers, copies int) (jetstream.ConsumerConfig, error) {
	cc := jetstream.ConsumerConfig{
		Durable:       durableName(r.name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       time.Duration(copies+1)*r.timeout + ackMargin,
		MaxAckPending: max(4*workers, 256), // retries waiting out a delay hold a slot
		MaxDeliver:    -1,                  // the broker counts attempts itself
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if typ := r.filter["type"]; typ != "" {
		subject, err := subjectFor(typ)
		if err != nil {
			return cc, fmt.Errorf("trigger %s filter: %w", r.name, err)
		}
		cc.FilterSubject = subject
	}
	return cc, nil
}

// durableName makes a Knative object name a valid JetStream durable name.
func durableName(trigger string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(trigger)
}

// run pulls messages until ctx is done; handlers run under deliverCtx and
// are tracked by inflight so the caller can drain them. Each fetch asks for
// as many messages as there are free workers, so the fetch's buffer always
// has room for the server's status messages as well: a pull that fills its
// buffer while the workers are busy loses them, and with them the count of
// messages still to come (nats.go's Messages iterator then waited out two
// missed heartbeats, 30 s, before it pulled again; make bench caught it).
func (d *dispatcher) run(ctx, deliverCtx context.Context, inflight *sync.WaitGroup) error {
	slots := make(chan struct{}, d.workers)
	for {
		n, ok := acquire(ctx, slots)
		if !ok {
			return nil
		}
		got, err := d.fetch(ctx, deliverCtx, n, slots, inflight)
		for range n - got { // the slots no message came for
			<-slots
		}
		if err == nil {
			continue
		}
		d.log.WarnContext(ctx, "pull failed", "trigger", d.route.name, "err", err)
		select { // do not spin on a persistent error
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fetchWait bounds one pull request; the next asks for the workers free by
// then.
const fetchWait = time.Second

// acquire blocks until a worker is free, then takes every other free one.
func acquire(ctx context.Context, slots chan struct{}) (int, bool) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0, false
	}
	n := 1
	for ; n < cap(slots); n++ {
		select {
		case slots <- struct{}{}:
		default:
			return n, true
		}
	}
	return n, true
}

// fetch pulls up to n messages and hands each to a worker as it arrives;
// it returns how many came. A fetch that ends with fewer is not an error.
func (d *dispatcher) fetch(ctx, deliverCtx context.Context, n int, slots chan struct{}, inflight *sync.WaitGroup) (int, error) {
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	batch, err := d.cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, ignoreEnd(ctx, err)
	}
	got := 0
	for msg := range batch.Messages() {
		got++
		inflight.Add(1)
		d.busy.Add(1)
		go func() { // exits when the delivery (bounded by its timeouts) returns
			defer inflight.Done()
			defer func() { d.busy.Add(-1); <-slots }()
			d.handle(deliverCtx, msg)
		}()
	}
	return got, ignoreEnd(ctx, batch.Error())
}

// ignoreEnd drops the errors that only say a fetch or the broker ended.
func ignoreEnd(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return nil
	}
	return err
}
