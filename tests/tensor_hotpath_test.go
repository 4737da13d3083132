package tests

import (
	"strconv"
	"testing"

	"gorai/tests/resp"
)

// AI.TENSORSET and AI.TENSORGET run in C (module/tensor_commands.c): how they open their key, and
// how a reply that refers to a tensor holds it.

// TestTensorKeyLookups: AI.TENSORGET reads its key (keyspace_hits and keyspace_misses count it);
// AI.TENSORSET opens it for writing, which counts neither, as RedisAI's does; a wrong number of
// arguments (too few or, for AI.TENSORGET, too many) is refused before the key is opened.
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
		{[]any{"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 1}, 0, 0},
		{[]any{"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 2}, 0, 0},
		{[]any{"AI.TENSORSET", "t", "NOPE", 1}, 0, 0},
		{[]any{"AI.TENSORSET", "str", "FLOAT", 1}, 0, 0},
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

// TestTensorReplyReferences: tensors read while they are overwritten and deleted, alone and in a
// pipeline, leave used_memory where it was: no reply keeps a tensor (AI.TENSORGET copies the data
// into the reply; a DAG's reply holds the tensor until its program is applied).
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
		expect(t, c, resp.Arr(resp.BulkBytes(blob)), "AI.DAGEXECUTE", "LOAD", 1, "t", "|>", "AI.TENSORGET", "t", "BLOB")
		// Read and overwritten in one pipeline: each reply still holds the tensor it read.
		replies, err := c.Pipeline([]any{"AI.TENSORGET", "t", "BLOB"},
			[]any{"AI.DAGEXECUTE", "LOAD", 1, "t", "|>", "AI.TENSORGET", "t", "VALUES"},
			[]any{"AI.TENSORSET", "t", "INT8", n, "BLOB", blob},
			[]any{"AI.TENSORGET", "t", "VALUES"}, []any{"DEL", "t"})
		if err != nil || replies[0].Kind != resp.Bulk || len(replies[1].Elems) != 1 || !resp.Equal(replies[1].Elems[0], resp.Arr(values...)) ||
			replies[2].Text() != "OK" || len(replies[3].Elems) != n || replies[4].Int != 1 {
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

// TestWatchSignalledOnWritesOnly: a key gorai writes (a tensor set, a run's output, a model stored or
// deleted) aborts the transactions WATCHing it; a refused command, which opened the key for writing
// and changed nothing, aborts none.
func TestWatchSignalledOnWritesOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	watcher, other := s.Conn(t), s.Conn(t)
	expectOK(t, other, "SET", "str", "x")
	expectOK(t, other, "AI.TENSORSET", "t", "FLOAT", 1, 1, 28, 28, "BLOB", mnistInput(t))
	expectOK(t, other, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	for _, tc := range []struct {
		key     string
		cmd     []any
		aborted bool
	}{
		{"t", []any{"AI.TENSORSET", "t", "NOPE", 1}, false},
		{"t", []any{"AI.TENSORSET", "t", "FLOAT", 2, "VALUES", 1}, false},
		{"str", []any{"AI.TENSORSET", "str", "FLOAT", 1}, false},
		{"m", []any{"AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", "not a model"}, false},
		{"y", []any{"AI.MODELEXECUTE", "m", "INPUTS", 1, "missing", "OUTPUTS", 1, "y"}, false},
		{"t2", []any{"AI.TENSORSET", "t2", "FLOAT", 1}, true},
		{"t2", []any{"AI.TENSORSET", "t2", "FLOAT", 1, "VALUES", 3}, true},
		{"y", []any{"AI.MODELEXECUTE", "m", "INPUTS", 1, "t", "OUTPUTS", 1, "y"}, true},
		{"y", []any{"AI.DAGEXECUTE", "LOAD", 1, "t", "PERSIST", 1, "y", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "t", "OUTPUTS", 1, "y"}, true},
		{"m", []any{"AI.MODELDEL", "m"}, true},
	} {
		expectOK(t, watcher, "WATCH", tc.key)
		do(t, other, tc.cmd...)
		expectOK(t, watcher, "MULTI")
		expect(t, watcher, resp.Simple("QUEUED"), "PING")
		got := do(t, watcher, "EXEC")
		if aborted := got.Kind == resp.Array && got.Nil; aborted != tc.aborted {
			t.Errorf("%v: EXEC of a transaction watching %q gave %v; aborted %v, want %v", tc.cmd, tc.key, got, aborted, tc.aborted)
		}
	}
}
