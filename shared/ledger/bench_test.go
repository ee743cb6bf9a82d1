package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkCommitter measures group-committed inserts from parallel
// callers (one order of one unit each).
func BenchmarkCommitter(b *testing.B) {
	pool := newPool(b, 1<<30, 1)
	c := newCommitter(b, pool)
	var next atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			if _, err := c.Submit(context.Background(), order(fmt.Sprintf("u%d", i), 1, i, 1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
