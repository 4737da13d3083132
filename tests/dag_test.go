package tests

import (
	"fmt"
	"testing"
	"time"

	"gorai/tests/resp"
)

// TestDAG: AI.DAGEXECUTE and friends through a real server, with RedisAI's reply layouts.
func TestDAG(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", iris)...)
	ok := resp.Simple("OK")
	na := resp.Simple("NA")

	// A local input, a model run, a read, and the output persisted.
	expect(t, c, resp.Arr(ok, ok, resp.Arr(resp.BulkString("-0.090524077415466309"))),
		"AI.DAGEXECUTE", "PERSIST", 1, "out", "|>",
		"AI.TENSORSET", "a", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2", "|>",
		"AI.MODELEXECUTE", "iris", "INPUTS", 1, "a", "OUTPUTS", 1, "out", "|>",
		"AI.TENSORGET", "out", "VALUES")
	expect(t, c, resp.Arr(resp.BulkString("-0.090524077415466309")), "AI.TENSORGET", "out", "VALUES")
	expect(t, c, resp.Int(0), "EXISTS", "a") // DAG-local, not persisted

	// LOAD reads keyspace tensors; a name set twice is read at its latest value.
	expectOK(t, c, "AI.TENSORSET", "x", "INT8", 2, "VALUES", 1, 2)
	expect(t, c, resp.Arr(
		resp.Arr(resp.BulkString("dtype"), resp.BulkString("INT8"), resp.BulkString("shape"), resp.Ints(2),
			resp.BulkString("values"), resp.Ints(1, 2)),
		ok,
		resp.Ints(9),
	), "AI.DAGEXECUTE", "LOAD", 1, "x", "|>",
		"AI.TENSORGET", "x", "META", "VALUES", "|>",
		"AI.TENSORSET", "x", "INT8", 1, "VALUES", 9, "|>",
		"AI.TENSORGET", "x", "VALUES")
	expect(t, c, resp.Ints(1, 2), "AI.TENSORGET", "x", "VALUES") // LOAD does not write back

	// A failing op: its error, NA after it, nothing persisted.
	v := do(t, c, "AI.DAGEXECUTE", "PERSIST", 1, "o2", "|>",
		"AI.TENSORSET", "a", "FLOAT", 1, 3, "VALUES", 1, 2, 3, "|>",
		"AI.MODELEXECUTE", "iris", "INPUTS", 1, "a", "OUTPUTS", 1, "o2", "|>",
		"AI.TENSORGET", "o2", "VALUES")
	if v.Kind != resp.Array || len(v.Elems) != 3 || !resp.Equal(v.Elems[0], ok) || v.Elems[1].Kind != resp.Error ||
		!resp.Equal(v.Elems[2], na) {
		t.Errorf("a DAG with a failing op: %v", v)
	}
	expect(t, c, resp.Int(0), "EXISTS", "o2")

	// ROUTING alone is enough; _RO refuses PERSIST; one of LOAD/PERSIST/ROUTING is needed.
	expect(t, c, resp.Arr(ok, resp.Arr(resp.BulkString("5"))), "AI.DAGEXECUTE_RO", "ROUTING", "{a}", "|>",
		"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 5, "|>", "AI.TENSORGET", "t", "VALUES")
	expectErr(t, c, "ERR PERSIST cannot be specified in a read-only DAG", "AI.DAGEXECUTE_RO", "PERSIST", 1, "t", "|>",
		"AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 5)
	expectErr(t, c, "ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords",
		"AI.DAGEXECUTE", "|>", "AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 5, "|>", "AI.TENSORGET", "t", "VALUES")
	expectErr(t, c, "ERR INPUT key cannot be found in DAG", "AI.DAGEXECUTE", "ROUTING", "r", "|>",
		"AI.MODELEXECUTE", "iris", "INPUTS", 1, "nope", "OUTPUTS", 1, "o")

	// The deprecated DAGRUN, with the deprecated MODELRUN inside.
	expect(t, c, resp.Arr(ok, ok, resp.Arr(resp.BulkString("-0.090524077415466309"))),
		"AI.DAGRUN", "|>", "AI.TENSORSET", "a", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2", "|>",
		"AI.MODELRUN", "iris", "INPUTS", "a", "OUTPUTS", "o", "|>", "AI.TENSORGET", "o", "VALUES")

	// Inside MULTI: refused, as every execution command.
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.DAGEXECUTE", "ROUTING", "r", "|>", "AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 5)
	v = do(t, c, "EXEC")
	if v.Kind != resp.Array || len(v.Elems) != 1 || v.Elems[0].Text() != "ERR Cannot run RedisAI command within a transaction or a LUA script" {
		t.Errorf("DAG in MULTI: %v", v)
	}
	expect(t, c, resp.Simple("PONG"), "PING")
}

// TestDAGTensorGetAsTensorGet: a DAG's AI.TENSORGET replies exactly as the command does, for every
// dtype, shape and format (both are module/tensor_commands.c's gorai_reply_tensor; the DAG's reaches
// it through its effects program, which holds the tensor until it is sent).
func TestDAGTensorGetAsTensorGet(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	ts := dataset("d:", 7)
	setAll(t, c, ts)
	formats := [][]any{{}, {"META"}, {"BLOB"}, {"VALUES"}, {"META", "BLOB"}, {"VALUES", "META"}}
	for _, tn := range ts {
		for _, f := range formats {
			direct := do(t, c, append([]any{"AI.TENSORGET", tn.key}, f...)...)
			dag := do(t, c, append([]any{"AI.DAGEXECUTE_RO", "LOAD", 1, tn.key, "|>", "AI.TENSORGET", tn.key}, f...)...)
			if direct.IsError() || len(dag.Elems) != 1 || !resp.Equal(dag.Elems[0], direct) {
				t.Fatalf("%q %v: AI.TENSORGET gave %v, the DAG %v", tn.key, f, direct, dag)
			}
		}
	}
}

// TestLongDAG: a DAG of hundreds of arguments (its keys found among them by address through an index,
// past the arguments scanned one by one) loads, runs and persists every key it names.
func TestLongDAG(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	const n = 200
	args := []any{"AI.DAGEXECUTE", "LOAD", n}
	for i := range n {
		expectOK(t, c, "AI.TENSORSET", fmt.Sprintf("in%d", i), "INT64", 1, "VALUES", i)
		args = append(args, fmt.Sprintf("in%d", i))
	}
	args = append(args, "PERSIST", n)
	for i := range n {
		args = append(args, fmt.Sprintf("out%d", i))
	}
	var want []resp.Value
	for i := range n {
		args = append(args, "|>", "AI.TENSORGET", fmt.Sprintf("in%d", i), "VALUES",
			"|>", "AI.TENSORSET", fmt.Sprintf("out%d", i), "INT64", 1, "VALUES", 2*i)
		want = append(want, resp.Ints(int64(i)), resp.Simple("OK"))
	}
	expect(t, c, resp.Arr(want...), args...)
	for i := range n {
		expect(t, c, resp.Ints(int64(2*i)), "AI.TENSORGET", fmt.Sprintf("out%d", i), "VALUES")
	}
}

// TestDAGPersistIntoAnotherType: a DAG whose PERSIST names a key holding another type replies its ops'
// entries and that key's WRONGTYPE, as RedisAI's, and writes none of its PERSIST keys (RedisAI, and
// gorai before, wrote the others), whichever the order.
func TestDAGPersistIntoAnotherType(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	ok := resp.Simple("OK")
	wrongType := resp.Err("WRONGTYPE Operation against a key holding the wrong kind of value")
	for _, keys := range [][2]string{{"o1", "str"}, {"str", "o1"}} {
		expectOK(t, c, "SET", "str", "s")
		expect(t, c, resp.Arr(ok, ok, wrongType), "AI.DAGEXECUTE", "PERSIST", 2, keys[0], keys[1],
			"|>", "AI.TENSORSET", keys[0], "FLOAT", 1, "VALUES", 1,
			"|>", "AI.TENSORSET", keys[1], "FLOAT", 1, "VALUES", 2)
		expect(t, c, resp.Int(0), "EXISTS", "o1")
		expect(t, c, resp.BulkString("s"), "GET", "str")
	}
}

// TestDAGOutlivesItsTimeout: a DAG whose first op takes longer than its TIMEOUT stops before the
// next, answers TIMEDOUT and persists nothing, as RedisAI's, which queued a DAG again after each op
// and checked the timeout each time a worker took it (all its ops ran, and PERSIST wrote).
func TestDAGOutlivesItsTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	c.SetTimeout(60 * time.Second)
	expectOK(t, c, "AI.SCRIPTSTORE", "slow", "CPU", "ENTRY_POINTS", 1, "count", "SOURCE",
		"def count(tensors: List[Tensor], keys: List[str], args: List[str]):\n    s = 0\n    for i in range(int(args[0])):\n        s += i\n    return tensors[0] + 0\n")
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 2, "VALUES", 1, 2)
	// Long enough to outlast 50 ms on any machine: time it first.
	start := time.Now()
	expectOK(t, c, "AI.SCRIPTEXECUTE", "slow", "count", "INPUTS", 1, "in", "ARGS", 1, 2000000, "OUTPUTS", 1, "x")
	iterations := 2000000
	if took := time.Since(start); took < 200*time.Millisecond {
		iterations = int(float64(iterations) * float64(200*time.Millisecond) / float64(took+1))
	}
	expect(t, c, resp.Simple("TIMEDOUT"), "AI.DAGEXECUTE", "LOAD", 1, "in", "PERSIST", 1, "out", "TIMEOUT", 50,
		"|>", "AI.SCRIPTEXECUTE", "slow", "count", "INPUTS", 1, "in", "ARGS", 1, iterations, "OUTPUTS", 1, "a",
		"|>", "AI.SCRIPTEXECUTE", "slow", "count", "INPUTS", 1, "a", "ARGS", 1, iterations, "OUTPUTS", 1, "out")
	expect(t, c, resp.Int(0), "EXISTS", "out")
}
