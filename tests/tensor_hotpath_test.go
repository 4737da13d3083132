package tests

import (
	"strconv"
	"testing"

	"gorai/tests/resp"
)

// What the module's C trampoline does for AI.TENSORSET and AI.TENSORGET before and after Go: it
// looks their key up (keyspace_hits and keyspace_misses count that lookup), and it applies the
// command's effects program, which Go writes into the trampoline's stack, or applies itself when
// the program outgrows it.

// TestTensorKeyLookups: one lookup per command that runs, as when Go looked the key up, and none
// for a wrong number of arguments (too few or, for AI.TENSORGET, too many), refused before the key
// is read.
func TestTensorKeyLookups(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "SET", "str", "x")
	lookups := func() (hits, misses int) {
		stats := info(t, c, "stats")
		h, err1 := strconv.Atoi(stats["keyspace_hits"])
		m, err2 := strconv.Atoi(stats["keyspace_misses"])
		if err1 != nil || err2 != nil {
			t.Fatalf("keyspace_hits %q, keyspace_misses %q", stats["keyspace_hits"], stats["keyspace_misses"])
		}
		return h, m
	}
	for _, tc := range []struct {
		cmd          []any
		hits, misses int
	}{
		{[]any{"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 1}, 0, 1},
		{[]any{"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 2}, 1, 0},
		{[]any{"AI.TENSORSET", "t", "NOPE", 1}, 1, 0},
		{[]any{"AI.TENSORSET", "str", "FLOAT", 1}, 1, 0},
		{[]any{"AI.TENSORGET", "t", "BLOB"}, 1, 0},
		{[]any{"AI.TENSORGET", "t"}, 1, 0},
		{[]any{"AI.TENSORGET", "t", "NOPE"}, 1, 0},
		{[]any{"AI.TENSORGET", "missing", "VALUES"}, 0, 1},
		{[]any{"AI.TENSORGET", "str"}, 1, 0},
		{[]any{"AI.TENSORSET", "t", "FLOAT"}, 0, 0},
		{[]any{"AI.TENSORGET", "t", "META", "BLOB", "x"}, 0, 0},
		{[]any{"AI.TENSORGET"}, 0, 0},
	} {
		h0, m0 := lookups()
		do(t, c, tc.cmd...)
		if h, m := lookups(); h-h0 != tc.hits || m-m0 != tc.misses {
			t.Errorf("%v: %d hits, %d misses; want %d, %d", tc.cmd, h-h0, m-m0, tc.hits, tc.misses)
		}
	}
}

// TestTensorReplyReferences: a reply that refers to a tensor's data holds the tensor until it is
// sent, then lets it go, whether the program was applied by the trampoline (BLOB) or, too long for
// its stack, by Go (VALUES of thousands of elements): tensors read while they are overwritten and
// deleted leave used_memory where it was.
func TestTensorReplyReferences(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const n = 1 << 16 // INT8 elements: 64 KiB of data, a VALUES reply of 64 Ki integers
	blob := make([]byte, n)
	for i := range blob {
		blob[i] = byte(i % 100)
	}
	values := make([]resp.Value, n)
	for i := range values {
		values[i] = resp.Int(int64(i % 100))
	}
	round := func() {
		expectOK(t, c, "AI.TENSORSET", "t", "INT8", n, "BLOB", blob)
		expect(t, c, resp.BulkBytes(blob), "AI.TENSORGET", "t", "BLOB")
		expect(t, c, resp.Arr(values...), "AI.TENSORGET", "t", "VALUES")
		// Read and overwritten in one pipeline: each reply still holds the tensor it read.
		replies, err := c.Pipeline([]any{"AI.TENSORGET", "t", "BLOB"}, []any{"AI.TENSORSET", "t", "INT8", n, "BLOB", blob},
			[]any{"AI.TENSORGET", "t", "VALUES"}, []any{"DEL", "t"})
		if err != nil || replies[0].Kind != resp.Bulk || replies[1].Text() != "OK" || len(replies[2].Elems) != n || replies[3].Int != 1 {
			t.Fatalf("pipeline: %v", err)
		}
	}
	round() // warm-up: Redis' own first allocations
	before := usedMemory(t, c)
	for i := 0; i < 100; i++ {
		round()
	}
	// Each round frees two 64 KiB tensors: a reference kept by either path would add megabytes.
	if after := usedMemory(t, c); after-before > 1<<20 {
		t.Fatalf("used_memory grew by %d bytes over 100 rounds", after-before)
	}
}
