package commands

import (
	"math"
	"testing"
	"time"
)

func TestUnitsSaturate(t *testing.T) {
	for _, c := range []struct {
		n    int64
		unit time.Duration
		want time.Duration
	}{
		{0, time.Millisecond, 0},
		{1500, time.Millisecond, 1500 * time.Millisecond},
		{9223372036854, time.Millisecond, 9223372036854 * time.Millisecond},
		{9223372036855, time.Millisecond, math.MaxInt64},  // wrapped negative
		{18446744073710, time.Millisecond, math.MaxInt64}, // wrapped to 0.45 ms
		{math.MaxInt64, time.Microsecond, math.MaxInt64},
	} {
		if got := Duration(c.n, c.unit); got != c.want {
			t.Errorf("Duration(%d, %v) = %v, want %v", c.n, c.unit, got, c.want)
		}
	}
	for _, c := range []struct{ n, want int64 }{
		{0, 0}, {1, 1_000_000}, {9223372036854, 9223372036854_000_000},
		{9223372036855, math.MaxInt64}, {76480200929599801, math.MaxInt64}, // 76480200929599801: 64 bytes
	} {
		if got := Megabytes(c.n); got != c.want {
			t.Errorf("Megabytes(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
