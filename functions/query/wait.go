package main

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/surgekit/surge/shared/claim"
	"github.com/surgekit/surge/shared/httpapi"
)

// MaxWait caps ?wait=: a longer wait is served as MaxWait.
const MaxWait = 30 * time.Second

// parseWait reads ?wait= as a Go duration ("5s", "1500ms"); none is 0 (no
// wait). A negative or malformed value is the client's error.
func parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, httpapi.Errorf(http.StatusBadRequest, "invalid_wait", "wait %q: want a duration like 5s, at most %s", v, MaxWait)
	}
	return min(d, MaxWait), nil
}

// await long-polls rec's claim: it returns once the claim is in a state
// other than from (the client's ?state= hint, else the state first read),
// at once when it is already or when the state is final, else when the
// claim changes, wait runs out, the client goes away or the function
// stops. It answers the record as last read. Past the waiter bound (or
// before Start) it answers rec at once: a long poll degrades to a poll,
// never to an error.
func (f *Function) await(ctx context.Context, rec claim.Record, hint string, wait time.Duration) (claim.Record, error) {
	from := cmp.Or(hint, rec.State)
	if rec.State != from || claim.Final(rec.State) {
		return rec, nil
	}
	w, ok := f.hub.Watch(rec.ID, from)
	if !ok {
		return rec, nil
	}
	defer w.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for last := false; ; {
		// Re-read first: a change made between the first read and Watch
		// was published before the waiter existed.
		now, err := f.ownClaim(ctx, rec.ID, rec.UserID, f.switches.Now().ReadsCacheOnly())
		if err != nil && ctx.Err() != nil {
			return rec, nil // the client is gone; nobody reads this
		}
		if err != nil || last || now.State != from || claim.Final(now.State) {
			return now, err
		}
		select {
		case <-w.Woken():
		case <-timer.C:
			last = true // one more read: the event may have been lost
		case <-w.Released():
			last = true
		case <-ctx.Done():
			return now, nil // the client is gone; nobody reads this
		}
	}
}

// Start runs the claim watch hub and the degrade switches' watcher until
// ctx ends (SIGTERM under fn.Run) or Stop. Without Start, ?wait= answers
// at once and every switch is off.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	ctx, cancel := context.WithCancel(ctx)
	f.stopHub, f.hubDone = cancel, make(chan struct{})
	go func() { // exits when ctx ends: Stop, or the end of fn.Run's context
		defer close(f.hubDone)
		watched := make(chan struct{})
		go func() { defer close(watched); f.switches.Run(ctx) }()
		defer func() { <-watched }()
		if err := f.hub.Run(ctx); err != nil {
			f.cfg.Log.Error("claim watch stopped", "error", err.Error())
		}
	}()
	return nil
}

// Stop releases every waiter (each answers its claim's state at once) and
// waits for the hub to close its subscription.
func (f *Function) Stop(ctx context.Context) error {
	if f.stopHub == nil {
		return nil
	}
	f.stopHub()
	select {
	case <-f.hubDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
