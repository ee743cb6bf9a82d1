package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// Local is an in-process token bucket per key, in shards of bounded size.
// Each instance's bucket fills at the shared rate, so when it is empty this
// instance alone has let through all the limit allows: the Redis bucket
// would refuse too. It never admits what Redis would refuse; Redis decides.
type Local struct {
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	max     int
}

type bucket struct {
	tokens float64
	at     time.Time
}

// localShards spreads the keys so that one lock is not every request's.
const localShards = 64

// NewLocal keeps at most maxKeys buckets (at least one per shard); past it
// a shard evicts a full bucket, else an arbitrary one (a bucket evicted
// refills at once: eviction only ever admits more, never refuses more).
func NewLocal(maxKeys int) *Local {
	per := max(1, maxKeys/localShards)
	l := &Local{seed: maphash.MakeSeed(), shards: make([]shard, localShards)}
	for i := range l.shards {
		l.shards[i] = shard{buckets: make(map[string]*bucket, per), max: per}
	}
	return l
}

// Allow takes a token from key's bucket at rate r, or reports how long
// until one is there.
func (l *Local) Allow(key string, r Rate, now time.Time) (bool, time.Duration) {
	if r.Unlimited() {
		return true, 0
	}
	var ok bool
	var wait time.Duration
	l.with(key, func(s *shard) {
		b := s.get(key, r, now)
		b.refill(r, now)
		if ok = b.tokens >= 1; ok {
			b.tokens--
		} else {
			wait = r.wait(b.tokens)
		}
	})
	return ok, wait
}

// Undo gives back the token Allow took, when a later check refused the
// request, so the local bucket counts only what was let through.
func (l *Local) Undo(key string, r Rate) {
	if r.Unlimited() {
		return
	}
	l.with(key, func(s *shard) {
		if b, ok := s.buckets[key]; ok {
			b.tokens = min(r.size(), b.tokens+1)
		}
	})
}

// Hold empties key's bucket until now+wait: Redis said no token is there
// before then, so asking again sooner is a wasted round trip.
func (l *Local) Hold(key string, r Rate, wait time.Duration, now time.Time) {
	if r.Unlimited() {
		return
	}
	l.with(key, func(s *shard) {
		b := s.get(key, r, now)
		b.tokens, b.at = 1-wait.Seconds()*r.PerSec, now
	})
}

func (l *Local) with(key string, fn func(*shard)) {
	s := &l.shards[maphash.String(l.seed, key)%localShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

// Len is the number of buckets kept.
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

func (s *shard) get(key string, r Rate, now time.Time) *bucket {
	if b, ok := s.buckets[key]; ok {
		return b
	}
	if len(s.buckets) >= s.max {
		s.evict(r, now)
	}
	b := &bucket{tokens: r.size(), at: now}
	s.buckets[key] = b
	return b
}

// evict drops a bucket that has refilled (it holds nothing worth keeping),
// or else the first one map iteration yields.
func (s *shard) evict(r Rate, now time.Time) {
	victim := ""
	for k, b := range s.buckets {
		if victim == "" {
			victim = k
		}
		if b.tokens+now.Sub(b.at).Seconds()*r.PerSec >= r.size() {
			victim = k
			break
		}
	}
	delete(s.buckets, victim)
}

func (b *bucket) refill(r Rate, now time.Time) {
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(r.size(), b.tokens+dt*r.PerSec)
		b.at = now
	}
}
