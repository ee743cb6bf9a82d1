// Package flush runs the loop of an in-memory counter that writes what it
// counted to Redis now and then (the rain's money issued, the campaigns'
// statistics): a flush every interval, and one more as it ends.
package flush

import (
	"context"
	"time"
)

// Last bounds the flush made after ctx ended.
const Last = 2 * time.Second

// Every calls flush every interval until ctx ends, then once more with a
// context of its own (Last at most), so what was counted since the last
// tick is not lost on the way out. A failed flush is the counter's to
// carry over: its error is dropped here.
func Every(ctx context.Context, every time.Duration, flush func(context.Context) error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), Last)
			_ = flush(last)
			cancel()
			return
		case <-tick.C:
			_ = flush(ctx)
		}
	}
}
