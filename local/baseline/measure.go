package baseline

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// call is call i of a run; it reports how many operations it completed
// (1, or a batch's size).
type call func(ctx context.Context, i int) (int, error)

// run is the outcome of a closed-loop run.
type run struct {
	lat      []time.Duration // of the calls that succeeded
	ops      int
	errs     int
	elapsed  time.Duration
	firstErr error
}

// closed runs calls of op from workers goroutines, each taking the next
// index as soon as its previous call returns, and times every call. It
// stops early when ctx ends.
func closed(ctx context.Context, calls, workers int, op call) run {
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	var all run
	begin := time.Now()
	for range min(workers, calls) {
		wg.Go(func() {
			var mine run
			for i := int(next.Add(1)) - 1; i < calls && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				t0 := time.Now()
				n, err := op(ctx, i)
				mine.record(time.Since(t0), n, err)
			}
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(begin)
	return all
}

func (r *run) record(d time.Duration, n int, err error) {
	if err == nil {
		r.lat = append(r.lat, d)
		r.ops += n
		return
	}
	r.errs++
	if r.firstErr == nil {
		r.firstErr = err
	}
}

func (r *run) merge(o run) {
	r.lat = append(r.lat, o.lat...)
	r.ops += o.ops
	r.errs += o.errs
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

// figure turns a run into a Figure; batch is the ops per call when calls
// are batched (0 otherwise). It fails when no call succeeded.
func (r run) figure(name, unit string, workers, batch int) (Figure, error) {
	f := Figure{
		Name: name, Unit: unit, Concurrency: workers, Ops: r.ops, Errors: r.errs, Batch: batch,
		Elapsed: r.elapsed, Latency: percentiles(r.lat),
	}
	if r.elapsed > 0 {
		f.PerSecond = float64(f.Ops) / r.elapsed.Seconds()
	}
	if f.Ops == 0 {
		return f, errors.Join(errors.New(name+": no operation succeeded"), r.firstErr)
	}
	return f, nil
}

// percentiles reads the nearest-rank percentiles of lat (sorted in place).
func percentiles(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1)+0.5)] }
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: lat[len(lat)-1]}
}
