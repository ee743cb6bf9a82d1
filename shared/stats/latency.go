package stats

import (
	"strconv"
	"time"
)

// Latency histograms: each second's StatsSecond hash counts its
// latencies into fixed buckets, field <histogram>:<upper bound in ms>
// (inf for the last), so that the seconds of every instance add up and a
// percentile over any span is read off the summed buckets.
const (
	decisionLatency = "decision_ms"
	settleLatency   = "settle_ms"
)

// bounds are the buckets' upper bounds, in milliseconds; a latency above
// the last is counted in the inf bucket.
var bounds = []int64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000}

func bucketField(histogram string, d time.Duration) string {
	ms := d.Milliseconds()
	for _, b := range bounds {
		if ms < b {
			return histogram + ":" + strconv.FormatInt(b, 10)
		}
	}
	return histogram + ":inf"
}

// Histogram is latency counts by bucket, in the order of bounds plus one
// bucket for the latencies above the last bound.
type Histogram [16]int64

func (h *Histogram) addField(bound string, n int64) {
	if bound == "inf" {
		h[len(bounds)] += n
		return
	}
	b, err := strconv.ParseInt(bound, 10, 64)
	if err != nil {
		return
	}
	for i, ub := range bounds {
		if ub == b {
			h[i] += n
			return
		}
	}
}

// Count is how many latencies h holds.
func (h Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q ≤ 1) of h in milliseconds,
// interpolating inside the bucket where it falls (as Prometheus's
// histogram_quantile does); 0 for an empty histogram. A quantile in the
// inf bucket is reported as the last bound.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var below int64
	for i, c := range h {
		if c == 0 || float64(below+c) < rank {
			below += c
			continue
		}
		if i == len(bounds) {
			return float64(bounds[len(bounds)-1])
		}
		lower := 0.0
		if i > 0 {
			lower = float64(bounds[i-1])
		}
		return lower + (float64(bounds[i])-lower)*(rank-float64(below))/float64(c)
	}
	return float64(bounds[len(bounds)-1])
}
