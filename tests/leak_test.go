package tests

import (
	"strings"
	"testing"
)

// TestNoLeakOnErrors: refused commands free what they allocated on the way: used_memory (which
// counts tensor memory, from Redis' allocator) does not grow over thousands of them.
func TestNoLeakOnErrors(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "SET", "str", "x")
	// A VALUES list whose last value is bad: the tensor is allocated and filled before the error.
	values := []any{"AI.TENSORSET", "t", "FLOAT", 4096, "VALUES"}
	for i := 0; i < 4095; i++ {
		values = append(values, "1.5")
	}
	values = append(values, "x")
	bad := [][]any{
		values,
		{"AI.TENSORSET", "t", "INT8", 4096, "BLOB", strings.Repeat("a", 4095)},
		{"AI.TENSORSET", "t", "STRING", 3, "VALUES", "a", "b\x00c", "d"},
		{"AI.TENSORSET", "t", "BOOL", 4096, "BLOB", strings.Repeat("\x02", 4096)},
		{"AI.TENSORSET", "t", "FLOAT", 1 << 40},
		{"AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", strings.Repeat("garbage", 1000)},
		// built, then refused: the key holds a string (the model and its blob are dropped)
		{"AI.MODELSTORE", "str", "ONNX", "CPU", "BLOB", iris},
		{"AI.MODELEXECUTE", "missing", "INPUTS", 1, "a", "OUTPUTS", 1, "b"},
	}
	run := func(n int) {
		for i := 0; i < n; i++ {
			for _, cmd := range bad {
				if v := do(t, c, cmd...); !v.IsError() {
					t.Fatalf("%v was not refused: %v", cmd[:4], v)
				}
			}
		}
	}
	run(50) // warm-up: Redis' and the backend's own first allocations
	before := usedMemory(t, c)
	run(1000)
	after := usedMemory(t, c)
	// Tensors of 4 KiB to 16 KiB: a leak on any path would add megabytes.
	if after-before > 256<<10 {
		t.Fatalf("used_memory grew by %d bytes over 1000 rounds of refused commands", after-before)
	}
	t.Logf("used_memory: %d before, %d after", before, after)
}
