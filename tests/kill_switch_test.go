package tests

import (
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// loopInputs sets the inputs of infinite_loop.onnx and gives the command that runs the model at key
// for "few" (5) or "iterations" (2^63-1) iterations.
func loopInputs(t *testing.T, c *resp.Conn, key string) func(iterations string) []any {
	t.Helper()
	expectOK(t, c, "AI.TENSORSET", "iterations", "INT64", 1, "VALUES", "9223372036854775807")
	expectOK(t, c, "AI.TENSORSET", "few", "INT64", 1, "VALUES", 5)
	expectOK(t, c, "AI.TENSORSET", "loop_cond", "BOOL", 1, "VALUES", 1)
	expectOK(t, c, "AI.TENSORSET", "loop_input", "FLOAT", 1, "VALUES", 42)
	expectOK(t, c, "AI.TENSORSET", "outer", "FLOAT", 1, "VALUES", 42)
	return func(iterations string) []any {
		return []any{"AI.MODELEXECUTE", key, "INPUTS", 4, "outer", iterations, "loop_cond", "loop_input", "OUTPUTS", 2, "o1", "o2"}
	}
}

// TestKillSwitch: MODEL_EXECUTION_TIMEOUT stops an ONNX run that would never end
// (../testdata/infinite_loop.onnx, a Loop of 2^63-1 empty iterations: the inputs of RedisAI's
// kill-switch test) with ONNX Runtime's terminate-flag error, as RedisAI's test expects, while
// mnist runs on the other worker go on; the same model with few iterations answers; a DAG running
// it gets the error in its entry; the server serves on.
func TestKillSwitch(t *testing.T) {
	t.Parallel()
	loop := madeFixture(t, "infinite_loop.onnx", "make_infinite_loop.py")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "2", "MODEL_EXECUTION_TIMEOUT", "1000"}})
	c := s.Conn(t)
	c.SetTimeout(30 * time.Second)
	expectOK(t, c, storeArgs("inf", "ONNX", "CPU", loop)...)
	expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	setMnistInput(t, c, "a", mnistInput(t))
	run := loopInputs(t, c, "inf")
	const terminated = "Exiting due to terminate flag being set to true"

	expectOK(t, c, run("few")...)
	expect(t, c, resp.Arr(resp.BulkString("42")), "AI.TENSORGET", "o2", "VALUES")

	start := time.Now()
	expectErrContains(t, c, terminated, run("iterations")...)
	if took := time.Since(start); took < time.Second || took > 20*time.Second {
		t.Errorf("the endless run was stopped after %v, want about MODEL_EXECUTION_TIMEOUT (1 s)", took)
	}

	// Two endless runs and mnist runs at once, as RedisAI's test_multiple_working_threads: each
	// endless run is stopped, and mnist runs before and after it on the same workers.
	var wg sync.WaitGroup
	for range 2 {
		conn := s.Conn(t)
		conn.SetTimeout(30 * time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			expectOK(t, conn, "AI.MODELEXECUTE", "mnist", "INPUTS", 1, "a", "OUTPUTS", 1, "b")
			expectErrContains(t, conn, terminated, run("iterations")...)
			expectOK(t, conn, "AI.MODELEXECUTE", "mnist", "INPUTS", 1, "a", "OUTPUTS", 1, "b")
		}()
	}
	wg.Wait()

	dag := do(t, c, "AI.DAGEXECUTE", "LOAD", 4, "outer", "iterations", "loop_cond", "loop_input", "|>",
		"AI.MODELEXECUTE", "inf", "INPUTS", 4, "outer", "iterations", "loop_cond", "loop_input", "OUTPUTS", 2, "o1", "o2")
	if dag.Kind != resp.Array || len(dag.Elems) != 1 || dag.Elems[0].Kind != resp.Error {
		t.Errorf("a DAG running the endless model: %v, want one error entry", dag)
	} else if !strings.Contains(dag.Elems[0].Text(), terminated) {
		t.Errorf("the DAG's entry %q lacks %q", dag.Elems[0].Text(), terminated)
	}
	if inf := do(t, c, "AI.INFO", "inf"); len(inf.Elems) != 18 || inf.Elems[17].Int != 4 {
		t.Errorf("AI.INFO inf: %v, want 4 errors", inf)
	}
	expectPing(t, c)
}

// TestLimitsTooLargeToHold: MODEL_EXECUTION_TIMEOUT, BACKEND_MEMORY_LIMIT and MINBATCHTIMEOUT take up
// to 2^63-1 (ms, MB, ms), more than a duration or a byte count holds; such a value is no limit. They
// wrapped round: MODEL_EXECUTION_TIMEOUT 18446744073710 stopped ONNX runs after 0.45 ms,
// BACKEND_MEMORY_LIMIT 76480200929599801 capped ONNX Runtime at 64 bytes (mnist could not be stored),
// and MINBATCHTIMEOUT 9223372036855 ran a lone run at once instead of waiting for its batch.
func TestLimitsTooLargeToHold(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{
		"MODEL_EXECUTION_TIMEOUT", "18446744073710", "BACKEND_MEMORY_LIMIT", "76480200929599801"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	setMnistInput(t, c, "a", mnistInput(t))
	for range 3 {
		expectOK(t, c, "AI.MODELEXECUTE", "mnist", "INPUTS", 1, "a", "OUTPUTS", 1, "b")
	}
	expectOK(t, c, storeArgs("batched", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"),
		"BATCHSIZE", 4, "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", "9223372036855")...)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2")
	expect(t, c, resp.Simple("TIMEDOUT"), "AI.MODELEXECUTE", "batched", "INPUTS", 1, "in", "OUTPUTS", 1, "out", "TIMEOUT", 300)
}
