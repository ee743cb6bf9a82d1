package switches

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// DefaultPoll is how often a Watcher reads the version.
const DefaultPoll = 200 * time.Millisecond

// Watcher keeps one instance's copy of the switches: Run reads the
// version every poll interval and the whole hash when it changed, and Now
// hands out the copy without touching Redis.
type Watcher struct {
	rdb     redis.UniversalClient
	key     string
	poll    time.Duration
	timeout time.Duration
	now     atomic.Pointer[Snapshot]
}

// NewWatcher returns a watcher of keys' switches (every one off until Run
// has read them); poll <= 0 is DefaultPoll.
func NewWatcher(rdb redis.UniversalClient, keys keyspace.Space, poll time.Duration) *Watcher {
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &Watcher{rdb: rdb, key: keys.Switches(), poll: poll, timeout: time.Second}
}

// Now is the switches as last read; never nil-unsafe (a nil *Snapshot
// reads every switch off).
func (w *Watcher) Now() *Snapshot {
	if w == nil {
		return nil
	}
	return w.now.Load()
}

// Run keeps the copy current until ctx ends. While the hash is missing
// (Redis flushed; admin publishes it again) or Redis does not answer, the
// copy stays as last read.
func (w *Watcher) Run(ctx context.Context) {
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		_ = w.refresh(ctx) // read again at the next tick
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refresh reads the version, and the hash when the version changed.
func (w *Watcher) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	v, err := w.rdb.HGet(ctx, w.key, versionField).Int64()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur := w.now.Load(); cur != nil && cur.version == v {
		return nil
	}
	fields, err := w.rdb.HGetAll(ctx, w.key).Result()
	if err != nil || len(fields) == 0 {
		return err
	}
	w.now.Store(newSnapshot(fields))
	return nil
}
