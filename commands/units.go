package commands

import (
	"math"
	"time"
)

// The settings and arguments counted in milliseconds, microseconds or megabytes take up to 2^63-1,
// more than a time.Duration or a byte count can hold: multiplied as they are, they wrapped round
// (MINBATCHTIMEOUT 9223372036855 ran a batch at once, BACKEND_MEMORY_LIMIT 76480200929599801 capped
// ONNX Runtime at 64 bytes). Too large to hold is the largest there is: no limit in effect.

// Duration is n (≥ 0) units as a time.Duration.
func Duration(n int64, unit time.Duration) time.Duration {
	if n > math.MaxInt64/int64(unit) {
		return math.MaxInt64
	}
	return time.Duration(n) * unit
}

// Megabytes is n (≥ 0) megabytes of 10^6 bytes, as RedisAI counts BACKEND_MEMORY_LIMIT, in bytes.
func Megabytes(n int64) int64 {
	if n > math.MaxInt64/1_000_000 {
		return math.MaxInt64
	}
	return n * 1_000_000
}
