// Package click is a lean closed-loop HTTP client for measuring one kind of
// request at its limit: a fixed number of workers, each on one keep-alive
// connection of its own, writes pre-built request bytes and reads the
// answer, for a fixed window of time. Nothing is encoded or signed while
// the window runs: every request (its JWT, its body) is built before, so
// the client's own CPU is as small as it can be, and it is measured
// (Result.ClientCPU) to show how much of the machine the client took.
package click

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
	return nil
}

// Result is one window's outcome.
type Result struct {
	Requests  int           // answered with any status
	Answered  int           // answered 202 or 409: a click decided or accepted
	Errors    int           // any other status, and requests with no answer
	Statuses  map[int]int   // status counts; 0 counts requests with no answer
	Elapsed   time.Duration // from the first request to the last answer
	Latency   Latency       // of the requests answered 202 or 409
	ClientCPU time.Duration // this process's CPU during Elapsed
	Exhausted bool          // Requests ran out before the window ended
	FirstErr  error         // the first request with no answer
}

// PerSecond is Requests / Elapsed.
func (r Result) PerSecond() float64 { return perSecond(r.Requests, r.Elapsed) }

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
	var (
		next      atomic.Int64
		exhausted atomic.Bool
		mu        sync.Mutex
		wg        sync.WaitGroup
		all       tally
	)
	take := func() ([]byte, bool) {
		i := int(next.Add(1) - 1)
		if cfg.Cycle {
			return cfg.Requests[i%len(cfg.Requests)], true
		}
		if i >= len(cfg.Requests) {
			exhausted.Store(true)
			return nil, false
		}
		return cfg.Requests[i], true
	}
	cpu0, begin := ProcessCPU(), time.Now()
	deadline := begin.Add(cfg.Window)
	for range cfg.Conns {
		wg.Go(func() { // exits at the deadline, when the requests run out or when ctx ends
			w := worker{addr: u.Host, timeout: cfg.Timeout}
			defer w.close()
			mine := w.loop(ctx, deadline, take)
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	res := all.result(time.Since(begin), ProcessCPU()-cpu0)
	res.Exhausted = exhausted.Load()
	if res.Requests == 0 {
		return res, fmt.Errorf("click: no request answered: %w", errors.Join(res.FirstErr, ctx.Err()))
	}
	return res, nil
}
