// Package claimwatch wakes in-process waiters when a claim's state changes.
// A Hub holds one Redis subscription for the whole process and fans each
// claim event (package claim's Event, published by every script that
// writes a claim's state) out to the waiters of that claim id.
//
// The subscription is one PSUBSCRIBE on the claim events channels of every
// campaign (keyspace Space.ClaimEventsPattern), not a SUBSCRIBE per
// campaign on demand: a query instance serves every campaign anyway, the
// event rate is one message per state change (far below the click rate),
// and one fixed pattern leaves nothing to track, no subscribe-before-wait
// race per new campaign and nothing to unsubscribe. Redis matches one
// pattern per instance on each PUBLISH, which costs next to nothing.
//
// Pub/Sub is at most once: a message published while the connection is
// down is lost. So a waiter is a hint to re-read, never the truth: after
// every (re)subscription the Hub wakes every waiter to re-read its record,
// and a waiter always has its own deadline.
package claimwatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/keyspace"
)

// DefaultMaxWaiters bounds the waiters of one Hub unless configured.
const DefaultMaxWaiters = 10_000

// Hub fans claim events out to waiters. Watch refuses waiters until Run
// has started and after it has returned.
type Hub struct {
	rdb     redis.UniversalClient
	pattern string
	max     int

	mu       sync.Mutex
	state    runState
	waiters  map[string]map[*Waiter]struct{} // claim id → its waiters
	n        int
	released chan struct{} // closed when Run returns

	subscriptions, wakes, resyncs atomic.Int64
}

type runState int

const (
	idle runState = iota
	running
	ended
)

// New returns a Hub over the claim events of key space keys, holding at
// most maxWaiters waiters (DefaultMaxWaiters when maxWaiters <= 0).
func New(rdb redis.UniversalClient, keys keyspace.Space, maxWaiters int) *Hub {
	if maxWaiters <= 0 {
		maxWaiters = DefaultMaxWaiters
	}
	return &Hub{
		rdb: rdb, pattern: keys.ClaimEventsPattern(), max: maxWaiters,
		waiters: make(map[string]map[*Waiter]struct{}), released: make(chan struct{}),
	}
}

// Run subscribes and fans events out until ctx ends, then releases every
// waiter (Released is closed) and closes the subscription. Call it once.
func (h *Hub) Run(ctx context.Context) error {
	if !h.begin() {
		return errors.New("claimwatch: Run called twice")
	}
	ps := h.rdb.PSubscribe(ctx, h.pattern)
	msgs := ps.ChannelWithSubscriptions()
	err := h.fanOut(ctx, msgs)
	h.end()
	_ = ps.Close()
	for range msgs { // until go-redis's receiving goroutine has exited
	}
	return err
}

// fanOut dispatches msgs until ctx ends.
func (h *Hub) fanOut(ctx context.Context, msgs <-chan any) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				return errors.New("claimwatch: subscription closed")
			}
			h.dispatch(m)
		}
	}
}

func (h *Hub) begin() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != idle {
		return false
	}
	h.state = running
	return true
}

// end refuses new waiters and releases the current ones.
func (h *Hub) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state = ended
	close(h.released)
}

func (h *Hub) dispatch(m any) {
	switch m := m.(type) {
	case *redis.Subscription:
		// A (re)subscription: events published while unsubscribed are
		// lost, so every waiter re-reads its record.
		h.subscriptions.Add(1)
		h.wakeAll()
	case *redis.Message:
		if e, ok := claim.ParseEvent(m.Payload); ok {
			h.wake(e)
		}
	}
}

// wake wakes the waiters of e's claim that wait for a state other than
// e's (a write that kept the state, like an order number added, wakes
// nobody).
func (h *Hub) wake(e claim.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters[e.ClaimID] {
		if w.state != e.State {
			w.signal()
			h.wakes.Add(1)
		}
	}
}

func (h *Hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.waiters {
		for w := range ws {
			w.signal()
			h.resyncs.Add(1)
		}
	}
}

// Watch registers a waiter for a change of claimID away from state. It
// returns false, registering nothing, when the Hub holds its maximum of
// waiters or is not running. Close the waiter when done with it. Re-read
// the claim after Watch: a change made before it is not signalled.
func (h *Hub) Watch(claimID, state string) (*Waiter, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != running || h.n >= h.max {
		return nil, false
	}
	w := &Waiter{hub: h, claimID: claimID, state: state, woken: make(chan struct{}, 1)}
	ws := h.waiters[claimID]
	if ws == nil {
		ws = make(map[*Waiter]struct{})
		h.waiters[claimID] = ws
	}
	ws[w] = struct{}{}
	h.n++
	return w, true
}

func (h *Hub) remove(w *Waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.waiters[w.claimID]
	if _, ok := ws[w]; !ok {
		return
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(h.waiters, w.claimID)
	}
	h.n--
}

// Stats are a Hub's counters, for tests and logs.
type Stats struct {
	Waiting       int   // waiters registered now
	Subscriptions int64 // subscription confirmations: 1, plus one per reconnect
	Wakes         int64 // waiters woken by a claim event
	Resyncs       int64 // waiters woken by a (re)subscription
}

// Stats returns the Hub's counters now.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n := h.n
	h.mu.Unlock()
	return Stats{Waiting: n, Subscriptions: h.subscriptions.Load(), Wakes: h.wakes.Load(), Resyncs: h.resyncs.Load()}
}

// Waiter waits for one claim to leave one state.
type Waiter struct {
	hub     *Hub
	claimID string
	state   string
	woken   chan struct{}
}

// Woken receives when the claim may have changed: re-read it.
func (w *Waiter) Woken() <-chan struct{} { return w.woken }

// Released is closed when the Hub stops: answer at once.
func (w *Waiter) Released() <-chan struct{} { return w.hub.released }

// Close unregisters w; it may be called more than once.
func (w *Waiter) Close() { w.hub.remove(w) }

// signal wakes w without blocking; one pending wake is enough.
func (w *Waiter) signal() {
	select {
	case w.woken <- struct{}{}:
	default:
	}
}
