package stats

import "math/bits"

// Histogram counts durations in microseconds in log-linear buckets: values under 64 µs each have a
// bucket of their own; above, every power of two is cut into histogramSubBuckets equal buckets, so a
// bucket's width is at most 1/32 of its lower bound and its midpoint is within 1/64 (1.6%) of every
// value in it. Values from 2^32 µs (about 71 minutes) up share the last bucket. The counts are a
// fixed array: recording is O(1) and never allocates. A Histogram is not safe for concurrent use;
// Table guards its own with its mutex.
type Histogram struct {
	counts [histogramBuckets]uint64
	total  uint64
}

const (
	histogramSubBits    = 5
	histogramSubBuckets = 1 << histogramSubBits // buckets per power of two
	// histogramMaxBits: values below 2^histogramMaxBits µs are bucketed exactly as described.
	histogramMaxBits = 32
	// The first 2*histogramSubBuckets buckets hold one value each; then histogramSubBuckets per
	// power of two from 2^(histogramSubBits+1) to 2^histogramMaxBits.
	histogramBuckets = 2*histogramSubBuckets + (histogramMaxBits-histogramSubBits-1)*histogramSubBuckets
)

// Record counts one duration; a negative one counts as 0.
func (h *Histogram) Record(us int64) {
	h.counts[histogramBucket(us)]++
	h.total++
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Reset forgets every duration recorded.
func (h *Histogram) Reset() { *h = Histogram{} }

// Quantile is the representative value (the midpoint) of the bucket holding the quantile of
// perMille thousandths (500: the median, 999: p99.9) of the durations recorded, by nearest rank:
// the first bucket at or below which at least that share of them lie. 0 when none were recorded.
// Integer arithmetic keeps the rank exact (perMille*total overflows only past 10^16 records).
func (h *Histogram) Quantile(perMille uint64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := max((perMille*h.total+999)/1000, 1)
	var seen uint64
	for i, n := range h.counts {
		if seen += n; seen >= rank {
			return histogramMidpoint(i)
		}
	}
	return histogramMidpoint(histogramBuckets - 1)
}

// histogramBucket is the index of the bucket holding us.
func histogramBucket(us int64) int {
	v := uint64(max(us, 0))
	if v < 2*histogramSubBuckets {
		return int(v)
	}
	if v >= 1<<histogramMaxBits {
		return histogramBuckets - 1
	}
	// v has e+1 significant bits; its top histogramSubBits+1 of them pick the sub-bucket.
	e := bits.Len64(v) - 1
	shift := e - histogramSubBits
	return (shift+1)*histogramSubBuckets + int(v>>shift) - histogramSubBuckets
}

// histogramBounds is the range [low, low+width) of the values in bucket i.
func histogramBounds(i int) (low, width int64) {
	if i < 2*histogramSubBuckets {
		return int64(i), 1
	}
	shift := i/histogramSubBuckets - 1
	sub := int64(i%histogramSubBuckets + histogramSubBuckets)
	return sub << shift, 1 << shift
}

// histogramMidpoint is the value bucket i reports.
func histogramMidpoint(i int) int64 {
	low, width := histogramBounds(i)
	return low + (width-1)/2
}

// Percentiles are the p50, p99 and p99.9 of a Histogram, in microseconds.
type Percentiles struct{ P50, P99, P999 int64 }

// Percentiles reads the three percentiles AI.INFO reports.
func (h *Histogram) Percentiles() Percentiles {
	return Percentiles{P50: h.Quantile(500), P99: h.Quantile(990), P999: h.Quantile(999)}
}
