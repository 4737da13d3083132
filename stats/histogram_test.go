package stats

import (
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// maxRelativeError bounds how far a reported percentile is from the value it stands for: half a
// bucket, whose width is at most 1/32 of its lower bound.
const maxRelativeError = 1.0 / 64

func withinBound(got, want int64) bool {
	return math.Abs(float64(got-want)) <= maxRelativeError*float64(want)
}

// Below 64 µs every value is reported exactly.
func TestHistogramExactForSmallValues(t *testing.T) {
	for v := int64(0); v < 64; v++ {
		var h Histogram
		h.Record(v)
		if got := h.Quantile(500); got != v {
			t.Errorf("recorded %d µs, p50 %d", v, got)
		}
	}
}

// Every value from 1 µs to the top of the range, past an hour, lands in a bucket that contains it,
// buckets follow the values' order, and the value reported is within the bound.
func TestHistogramRelativeErrorBound(t *testing.T) {
	const top = 1<<histogramMaxBits - 1
	if top < time.Hour.Microseconds() {
		t.Fatalf("the range ends at %d µs, before an hour", int64(top))
	}
	var values []int64 // every value up to 200, then steps of 0.5%, and the top
	for v := int64(1); v < top; v += max(1, v/200) {
		values = append(values, v)
	}
	prev := -1
	for _, v := range append(values, top) {
		i := histogramBucket(v)
		if i < prev || i >= histogramBuckets {
			t.Fatalf("%d µs in bucket %d, after %d (of %d)", v, i, prev, histogramBuckets)
		}
		prev = i
		if low, width := histogramBounds(i); v < low || v >= low+width {
			t.Fatalf("%d µs in bucket %d, [%d,%d)", v, i, low, low+width)
		}
		var h Histogram
		h.Record(v)
		if got := h.Quantile(999); !withinBound(got, v) {
			t.Fatalf("recorded %d µs, reported %d", v, got)
		}
	}
}

// Beyond the range, values share the last bucket; negative ones count as 0.
func TestHistogramClamps(t *testing.T) {
	var h Histogram
	h.Record(-5)
	if got := h.Quantile(500); got != 0 {
		t.Errorf("negative: %d", got)
	}
	h.Reset()
	h.Record(math.MaxInt64)
	if got := h.Quantile(500); got != histogramMidpoint(histogramBuckets-1) || got < time.Hour.Microseconds() {
		t.Errorf("huge: %d", got)
	}
}

// The percentiles of known distributions are within the bound of the exact nearest-rank ones.
func TestHistogramKnownDistributions(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	distributions := map[string]func(i int) int64{
		"uniform 1..100000 µs": func(i int) int64 { return int64(i%100000) + 1 },
		"log-normal around 2 ms": func(int) int64 {
			return int64(math.Exp(math.Log(2000) + r.NormFloat64()))
		},
		"bimodal 150 µs and 40 ms": func(i int) int64 {
			if i%10 == 0 {
				return 40000 + r.Int63n(1000)
			}
			return 150 + r.Int63n(10)
		},
	}
	for name, next := range distributions {
		var h Histogram
		values := make([]int64, 100000)
		for i := range values {
			values[i] = next(i)
			h.Record(values[i])
		}
		slices.Sort(values)
		for _, perMille := range []uint64{1, 500, 990, 999, 1000} {
			rank := (perMille*uint64(len(values)) + 999) / 1000
			want := values[rank-1]
			if got := h.Quantile(perMille); !withinBound(got, want) {
				t.Errorf("%s: quantile %d‰ %d µs, exact %d µs", name, perMille, got, want)
			}
		}
		if h.Count() != uint64(len(values)) {
			t.Errorf("%s: count %d", name, h.Count())
		}
	}
}

func TestHistogramEmptyAndReset(t *testing.T) {
	var h Histogram
	if got := h.Percentiles(); got != (Percentiles{}) {
		t.Errorf("empty: %+v", got)
	}
	for v := range int64(1000) {
		h.Record(v)
	}
	if got := h.Percentiles(); got.P50 == 0 || got.P50 > got.P99 || got.P99 > got.P999 {
		t.Errorf("filled: %+v", got)
	}
	h.Reset()
	if got := h.Percentiles(); got != (Percentiles{}) || h.Count() != 0 {
		t.Errorf("after Reset: %+v, count %d", got, h.Count())
	}
}

// Recording never allocates, whatever the value.
func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*3 + 1 }); n != 0 {
		t.Errorf("%v allocations per Record", n)
	}
}
