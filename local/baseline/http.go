package baseline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Client is the HTTP client of a crowd of concurrency workers: keep-alive
// connections, as many idle ones kept per host as there are workers.
func Client(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(concurrency, 100)
	t.MaxIdleConnsPerHost = max(concurrency, 2)
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// claimBody is the size and shape of a claim: what a bare handler reads.
const claimBody = `{"sku":"phone-x","qty":1,"challenge_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","answer":"4821"}`

// HTTP measures a bare net/http handler that reads the body and answers
// 202, on a loopback listener: requests/s of a POST with a claim's body.
func HTTP(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	url, stop, err := ServeBare()
	if err != nil {
		return Figure{}, err
	}
	defer stop()
	var st tally
	r := closed(ctx, t.Ops, t.Concurrency, func(ctx context.Context, _ int) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(claimBody))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		return 1, st.do(t.HTTP, req, nil)
	})
	return st.figure(r, NameHTTP, "request", t.Concurrency)
}

// ServeBare serves the bare handler of the http.bare baseline on a
// loopback port until stop is called: it reads the body and answers 202,
// whatever the path. The HTTP baseline and make bench's click phase both
// measure it, each with its own client.
func ServeBare() (url string, stop func(), err error) {
	url, stop, err = serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", NameHTTP, err)
	}
	return url, stop, nil
}

// CloudEvents measures a bare CloudEvents receiver: the sdk-go HTTP
// binding parses the binary-mode event, then 202, no work. Each event is a
// claim.requested-shaped event of a claim's size.
func CloudEvents(ctx context.Context, t Target) (Figure, error) {
	t = t.filled()
	url, stop, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil || e.Validate() != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	if err != nil {
		return Figure{}, fmt.Errorf("%s: %w", NameCloudEvents, err)
	}
	defer stop()
	f, err := stage(ctx, t.HTTP, url, emptyEvent, t.Ops, t.Concurrency)
	f.Name = NameCloudEvents
	return f, err
}

// emptyEvent is event i of a bare receiver or broker run.
func emptyEvent(i int) event.Event {
	e := event.New()
	e.SetID(fmt.Sprintf("bench-%d", i))
	e.SetSource("/surge/bench")
	e.SetType(benchType)
	_ = e.SetData(event.ApplicationJSON, []byte(claimBody))
	return e
}

// benchType is the type of the events baselines send.
const benchType = "dev.surge.bench.empty.v1"

// Stage posts n CloudEvents, built by mk, to one function at url (binary
// mode, as the broker delivers them) from concurrency workers, and measures
// events/s and latency. Any 2xx counts as done (200 with a reply or 202).
func Stage(ctx context.Context, url string, mk func(i int) event.Event, n, concurrency int) (Figure, error) {
	return stage(ctx, Client(concurrency), url, mk, n, concurrency)
}

// StageWith is Stage with the crowd's own client.
func StageWith(ctx context.Context, client *http.Client, url string, mk func(i int) event.Event, n, concurrency int) (Figure, error) {
	return stage(ctx, client, url, mk, n, concurrency)
}

// StageReplies is StageWith that also keeps the reply event of each call
// answered 200 with one: replies[i] is event i's, nil where there was none.
// A chain of stages feeds one stage's replies to the next.
func StageReplies(ctx context.Context, client *http.Client, url string, mk func(i int) event.Event, n, concurrency int) (Figure, []*event.Event, error) {
	replies := make([]*event.Event, n)
	f, err := post(ctx, client, url, mk, n, concurrency, func(i int, resp *http.Response) {
		if resp.StatusCode != http.StatusOK {
			return
		}
		if e, err := cehttp.NewEventFromHTTPResponse(resp); err == nil {
			replies[i] = e
		}
	})
	return f, replies, err
}

func stage(ctx context.Context, client *http.Client, url string, mk func(i int) event.Event, n, concurrency int) (Figure, error) {
	return post(ctx, client, url, mk, n, concurrency, nil)
}

// post sends the n events and hands each answer to keep (when not nil)
// before its body is drained.
func post(ctx context.Context, client *http.Client, url string, mk func(i int) event.Event, n, concurrency int,
	keep func(i int, resp *http.Response)) (Figure, error) {
	var st tally
	r := closed(ctx, n, concurrency, func(ctx context.Context, i int) (int, error) {
		req, err := cehttp.NewHTTPRequestFromEvent(ctx, url, mk(i))
		if err != nil {
			return 0, err
		}
		if keep == nil {
			return 1, st.do(client, req, nil)
		}
		return 1, st.do(client, req, func(resp *http.Response) { keep(i, resp) })
	})
	return st.figure(r, "stage", "event", concurrency)
}

// tally counts HTTP statuses from concurrent calls.
type tally struct {
	mu sync.Mutex
	m  map[int]int
}

// do sends req, hands the answer to keep (when not nil), drains it and
// counts its status; a status other than 2xx is an error.
func (s *tally) do(client *http.Client, req *http.Request, keep func(*http.Response)) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	if keep != nil {
		keep(resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	s.mu.Lock()
	if s.m == nil {
		s.m = map[int]int{}
	}
	s.m[resp.StatusCode]++
	s.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
	}
	return nil
}

func (s *tally) figure(r run, name, unit string, workers int) (Figure, error) {
	f, err := r.figure(name, unit, workers, 0)
	s.mu.Lock()
	f.Statuses = s.m
	s.mu.Unlock()
	return f, err
}

// serve runs h on a loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // exits when stop shuts the server down
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	stop = func() { // the run is over: no request to wait for
		_ = srv.Close()
		<-done
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}
