// Package click is a lean closed-loop HTTP client for measuring one kind of
// request at its limit: a fixed number of workers, each on one keep-alive
// connection of its own, writes pre-built request bytes and reads the
// answer, for a fixed window of time. Nothing is encoded or signed while
// the window runs: every request (its JWT, its body) is built before, so
// the client's own CPU is as small as it can be, and it is measured
// (Result.ClientCPU) to show how much of the machine the client took.
//
// A window can also be open loop (Config.Rate: requests start at a fixed
// rate whatever the server answers) and sent from client IPs of its own
// (Config.Sources: local addresses on loopback), as a flood from one bot
// or one address is.
package click

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one window of clicks.
type Config struct {
	URL    string        // the server's base URL, http://host:port; requests carry their own path
	Conns  int           // workers, one keep-alive connection each (default 100)
	Window time.Duration // how long new requests are sent (default 15 s)
	// Requests are whole HTTP/1.1 requests (see Build), each sent once in
	// order; the window ends early when they run out, unless Cycle.
	Requests [][]byte
	Cycle    bool          // send Requests round and round (a server that does not care who asks)
	Timeout  time.Duration // bounds one request (default 10 s)
	// Rate, when positive, makes the window open loop: requests start at
	// Rate per second whatever the server answers, each on an idle worker;
	// an arrival that finds every worker busy is not sent (Result.Missed).
	Rate float64
	// Sources are the local addresses the workers dial from, worker i from
	// Sources[i % len(Sources)]: on loopback each is a client IP of its own
	// (127.0.1.1, …) as the server sees it. None: the system picks.
	Sources []netip.Addr
	// Answer are the statuses that count as answered (default 202 and 409:
	// a click accepted or refused for good).
	Answer []int
}

func (c *Config) fill() error {
	if len(c.Requests) == 0 {
		return errors.New("click: no request to send")
	}
	if c.Conns <= 0 {
		c.Conns = 100
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if len(c.Answer) == 0 {
		c.Answer = []int{http.StatusAccepted, http.StatusConflict}
	}
	return nil
}

// Result is one window's outcome.
type Result struct {
	Requests  int           // answered with any status
	Answered  int           // answered with a status of Config.Answer (202 or 409)
	Errors    int           // any other status, and requests with no answer
	Statuses  map[int]int   // status counts; 0 counts requests with no answer
	Missed    int           // open loop: arrivals not sent, every worker busy
	Unhinted  int           // 429 and 503 answers without both Retry-After and Retry-After-Ms
	Elapsed   time.Duration // from the first request to the last answer
	Latency   Latency       // of the answered requests
	ClientCPU time.Duration // this process's CPU during Elapsed
	Exhausted bool          // Requests ran out before the window ended
	FirstErr  error         // the first request with no answer
}

// PerSecond is Requests / Elapsed.
func (r Result) PerSecond() float64 { return perSecond(r.Requests, r.Elapsed) }

// Sent is every request sent, answered or not.
func (r Result) Sent() int { return r.Requests + r.Statuses[0] }

// AnsweredPerSecond is Answered / Elapsed.
func (r Result) AnsweredPerSecond() float64 { return perSecond(r.Answered, r.Elapsed) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Run sends cfg.Requests from cfg.Conns workers for cfg.Window and waits
// for the answers still in flight. An error means nothing could be sent.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.fill(); err != nil {
		return Result{}, err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return Result{}, fmt.Errorf("click: url %q: %w", cfg.URL, errors.Join(err, errors.New("no host")))
	}
	q := &queue{reqs: cfg.Requests, cycle: cfg.Cycle}
	cpu0, begin := ProcessCPU(), time.Now()
	deadline := begin.Add(cfg.Window)
	var (
		all    tally
		missed int
	)
	if cfg.Rate > 0 {
		arrivals := make(chan []byte)
		wait := startWorkers(cfg, u.Host, openLoop(ctx, arrivals))
		missed = arrive(ctx, deadline, cfg.Rate, q.take, arrivals)
		all = wait()
	} else {
		all = startWorkers(cfg, u.Host, closedLoop(ctx, deadline, q.take))()
	}
	res := all.result(time.Since(begin), ProcessCPU()-cpu0)
	res.Exhausted, res.Missed = q.exhausted.Load(), missed
	if res.Requests == 0 {
		return res, fmt.Errorf("click: no request answered: %w", errors.Join(res.FirstErr, ctx.Err()))
	}
	return res, nil
}

// queue hands out the requests in order, round and round when cycle.
type queue struct {
	reqs      [][]byte
	cycle     bool
	taken     atomic.Int64
	exhausted atomic.Bool
}

func (q *queue) take() ([]byte, bool) {
	i := int(q.taken.Add(1) - 1)
	if q.cycle {
		return q.reqs[i%len(q.reqs)], true
	}
	if i >= len(q.reqs) {
		q.exhausted.Store(true)
		return nil, false
	}
	return q.reqs[i], true
}

// startWorkers runs cfg.Conns workers on host, each sending what next
// hands it; wait returns what they saw once every one is done.
func startWorkers(cfg Config, host string, next func() ([]byte, bool)) (wait func() tally) {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		all tally
	)
	for i := range cfg.Conns {
		wg.Go(func() { // exits when next has no more: the deadline, the requests run out, ctx ends
			w := worker{addr: host, timeout: cfg.Timeout, seen: tally{answer: cfg.Answer}}
			if len(cfg.Sources) > 0 {
				w.source = cfg.Sources[i%len(cfg.Sources)]
			}
			defer w.close()
			mine := w.loop(next)
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		})
	}
	return func() tally {
		wg.Wait()
		return all
	}
}

// closedLoop hands a worker the next request as soon as it is free, until
// the deadline passes, take has no more or ctx ends.
func closedLoop(ctx context.Context, deadline time.Time, take func() ([]byte, bool)) func() ([]byte, bool) {
	return func() ([]byte, bool) {
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			return nil, false
		}
		return take()
	}
}

// openLoop hands a worker the requests arrive sends it, until arrive is
// done (it closes arrivals) or ctx ends.
func openLoop(ctx context.Context, arrivals <-chan []byte) func() ([]byte, bool) {
	return func() ([]byte, bool) {
		select {
		case req, ok := <-arrivals:
			return req, ok
		case <-ctx.Done():
			return nil, false
		}
	}
}

// arrive starts requests at rate per second until the deadline, handing
// each to an idle worker on arrivals; it returns how many arrived with no
// worker idle (not sent), and closes arrivals.
func arrive(ctx context.Context, deadline time.Time, rate float64, take func() ([]byte, bool), arrivals chan<- []byte) (missed int) {
	defer close(arrivals)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start, started := time.Now(), 0
	for now := start; now.Before(deadline); now = time.Now() {
		for due := int(now.Sub(start).Seconds() * rate); started < due; started++ {
			req, ok := take()
			if !ok {
				return missed
			}
			select {
			case arrivals <- req:
			default:
				missed++
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return missed
		}
	}
	return missed
}

// answers reports whether status is one of answer.
func answers(answer []int, status int) bool { return slices.Contains(answer, status) }
