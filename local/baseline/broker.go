package baseline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/local/broker"
)

// deliverWait bounds how long BrokerDeliver waits for the last delivery
// after the last publish was acknowledged.
const deliverWait = 2 * time.Minute

// BrokerDeliver measures the local broker end to end with empty events: a
// broker in-process on a fresh store under t.Dir, one Trigger to a bare
// sink answering 202, t.Ops events published by t.Concurrency workers to
// its ingress. Events/s run from the first publish to the last delivery;
// latency is from an event's publish to its first delivery.
func BrokerDeliver(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	f, err := brokerDeliver(ctx, t)
	if err != nil {
		return f, fmt.Errorf("%s: %w", NameBroker, err)
	}
	return f, nil
}

func brokerDeliver(ctx context.Context, t Target) (Figure, error) {
	dir, err := os.MkdirTemp(t.Dir, "surge-bench-broker-")
	if err != nil {
		return Figure{}, err
	}
	defer os.RemoveAll(dir)
	sk := newSink(t.Ops)
	sinkURL, stopSink, err := serve(sk)
	if err != nil {
		return Figure{}, err
	}
	defer stopSink()
	ingress, stopBroker, err := startBroker(ctx, dir, sinkURL)
	if err != nil {
		return Figure{}, err
	}
	defer stopBroker()
	return publish(ctx, t, ingress, sk)
}

// publish sends t.Ops events and waits for their deliveries.
func publish(ctx context.Context, t Target, ingress string, sk *sink) (Figure, error) {
	var st tally
	r := closed(ctx, t.Ops, t.Concurrency, func(ctx context.Context, i int) (int, error) {
		sk.sent[i].Store(sk.now())
		req, err := cehttp.NewHTTPRequestFromEvent(ctx, ingress, emptyEvent(i))
		if err != nil {
			return 0, err
		}
		return 1, st.do(t.HTTP, req, nil)
	})
	want := int64(r.ops)
	wait, cancel := context.WithTimeout(ctx, deliverWait)
	defer cancel()
	for sk.count.Load() < want && wait.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	got := sk.count.Load()
	lat, last := sk.latencies()
	f := Figure{Name: NameBroker, Unit: "event", Ops: int(got), Errors: r.errs + int(want-got),
		Concurrency: t.Concurrency, Elapsed: last, Latency: percentiles(lat)}
	st.mu.Lock()
	f.Statuses = st.m
	st.mu.Unlock()
	if last > 0 {
		f.PerSecond = float64(got) / last.Seconds()
	}
	if got < want {
		return f, fmt.Errorf("%d of %d published events delivered within %v", got, want, deliverWait)
	}
	if got == 0 {
		return f, errors.Join(errors.New("no event delivered"), r.firstErr)
	}
	return f, nil
}

// startBroker runs a broker with one trigger of benchType to sinkURL and
// returns its ingress URL once it is ready, and how to stop it.
func startBroker(ctx context.Context, dir, sinkURL string) (string, func(), error) {
	triggers := filepath.Join(dir, "triggers")
	if err := os.MkdirAll(triggers, 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(triggers, "trigger.yaml"), []byte(benchTrigger), 0o644); err != nil {
		return "", nil, err
	}
	cfg := broker.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "store"), TriggersDir: triggers,
		Services: map[string]string{"bench-sink": sinkURL}}
	b, err := broker.New(ctx, cfg, nil)
	if err != nil {
		return "", nil, fmt.Errorf("start broker: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }() // exits when stop cancels runCtx
	stop := func() { cancel(); <-done }
	for !b.Ready() {
		select {
		case err := <-done:
			cancel()
			return "", nil, fmt.Errorf("broker stopped: %w", err)
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return "http://" + b.Addr().String() + "/", stop, nil
}

// benchTrigger routes the baseline's events to the sink, as the Surge
// triggers route theirs (retry with exponential backoff).
const benchTrigger = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: bench
spec:
  broker: surge
  filter:
    attributes:
      type: ` + benchType + `
  subscriber:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: bench-sink
  delivery:
    retry: 5
    backoffPolicy: exponential
    backoffDelay: PT0.05S
    timeout: PT5S
`

// sink answers 202 to every delivery and notes when event i first came.
type sink struct {
	sent      []atomic.Int64 // ns since the run began, at publish
	delivered []atomic.Int64 // ns since the run began, at first delivery; 0 none
	count     atomic.Int64   // distinct events delivered
	begin     time.Time
}

func newSink(n int) *sink {
	return &sink{sent: make([]atomic.Int64, n), delivered: make([]atomic.Int64, n), begin: time.Now()}
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusAccepted)
	i, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("Ce-Id"), "bench-"))
	if err != nil || i < 0 || i >= len(s.delivered) {
		return
	}
	if s.delivered[i].CompareAndSwap(0, s.now()) {
		s.count.Add(1)
	}
}

// now is nanoseconds since the sink was made, at least 1.
func (s *sink) now() int64 { return max(time.Since(s.begin).Nanoseconds(), 1) }

// latencies returns publish-to-delivery of each delivered event and the
// span from the first publish to the last delivery.
func (s *sink) latencies() ([]time.Duration, time.Duration) {
	var (
		lat         []time.Duration
		first, last int64
	)
	for i := range s.delivered {
		sent, got := s.sent[i].Load(), s.delivered[i].Load()
		if sent > 0 && (first == 0 || sent < first) {
			first = sent
		}
		if got == 0 {
			continue
		}
		lat = append(lat, time.Duration(got-sent))
		last = max(last, got)
	}
	if last == 0 {
		return lat, 0
	}
	return lat, time.Duration(last - first)
}
