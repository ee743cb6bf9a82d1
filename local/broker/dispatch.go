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
// are tracked by inflight so the caller can drain them.
func (d *dispatcher) run(ctx, deliverCtx context.Context, inflight *sync.WaitGroup) error {
	it, err := d.cons.Messages(jetstream.PullMaxMessages(d.workers))
	if err != nil {
		return fmt.Errorf("trigger %s consume: %w", d.route.name, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	slots := make(chan struct{}, d.workers)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		msg, err := it.Next()
		if err != nil {
			<-slots
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			d.log.WarnContext(ctx, "pull failed", "trigger", d.route.name, "err", err)
			select { // do not spin on a persistent error
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		inflight.Add(1)
		d.busy.Add(1)
		go func() { // exits when the delivery (bounded by its timeouts) returns
			defer inflight.Done()
			defer func() { d.busy.Add(-1); <-slots }()
			d.handle(deliverCtx, msg)
		}()
	}
}
