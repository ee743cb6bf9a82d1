package pending

import (
	"testing"

	"github.com/surgekit/surge/shared/receipt"
)

// BenchmarkMerge measures the read-time merge behind GET /v1/orders and
// the wallet: 20 settled orders and 5 pending tokens, 2 of which settled
// between the two reads (seen in both, counted once), then the totals.
func BenchmarkMerge(b *testing.B) {
	settled := make([]Order, 0, 20)
	for seq := 1; seq <= 20; seq++ {
		settled = append(settled, order(seq, 100))
	}
	pend := make([]receipt.Receipt, 0, 5)
	for seq := 19; seq <= 23; seq++ {
		pend = append(pend, token(seq, 100))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out := Merge(settled, pend)
		if len(out) != 23 || Total(out).Pending != 3 {
			b.Fatalf("merged %d entries, %d pending; want 23 and 3", len(out), Total(out).Pending)
		}
	}
}
