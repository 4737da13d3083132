package tests

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// batchingServer starts a server with one worker (THREADS_PER_QUEUE 1), so that runs queue behind
// one another, and reads the random forest model and its 150 iris rows (float32 [150,4]).
func batchingServer(t *testing.T) (s *redistest.Server, c *resp.Conn, rf, X []byte) {
	t.Helper()
	rf = testModel(t, "random_forest.onnx")
	X, _ = npyData(t, testModel(t, "random_forest_X_all.npy"))
	s = redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	return s, s.Conn(t), rf, X
}

// TestModelBatching: runs of a model stored with BATCHSIZE and MINBATCHSIZE wait for each other
// and run as one batch, each client getting its own rows; a lone run waits MINBATCHTIMEOUT and
// then runs alone; every output equals the same rows run without batching; INFO counts two batches
// of five runs. The four-client batch
// runs on a model with a MINBATCHTIMEOUT of 30 s, so that answers before it prove the batch
// without a speed limit that load could break.
func TestModelBatching(t *testing.T) {
	t.Parallel()
	s, c, rf, X := batchingServer(t)
	row := func(i int) []byte { return X[i*16 : (i+1)*16] }
	expectOK(t, c, storeArgs("plain", "ONNX", "CPU", rf)...)
	expectOK(t, c, storeArgs("batched", "ONNX", "CPU", rf, "BATCHSIZE", 8, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", 300)...)
	const batched4Timeout = 30000
	expectOK(t, c, storeArgs("batched4", "ONNX", "CPU", rf, "BATCHSIZE", 8, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", batched4Timeout)...)

	// The reference: rows 0..3 one at a time, unbatched (rows 50 and 100 are other species).
	rows := []int{0, 50, 100, 149}
	want := map[int][]byte{}
	for _, r := range rows {
		expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "BLOB", row(r))
		expectOK(t, c, execArgs("plain", []string{"in"}, []string{"out"})...)
		want[r] = do(t, c, "AI.TENSORGET", "out", "BLOB").Str
	}

	// A lone run waits for MINBATCHSIZE until MINBATCHTIMEOUT, then runs alone.
	expectOK(t, c, "AI.TENSORSET", "lone", "FLOAT", 1, 4, "BLOB", row(0))
	start := time.Now()
	expectOK(t, c, execArgs("batched", []string{"lone"}, []string{"loneout"})...)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("a lone run below MINBATCHSIZE answered after %v, before MINBATCHTIMEOUT (300 ms)", waited)
	}
	expect(t, c, resp.BulkBytes(want[0]), "AI.TENSORGET", "loneout", "BLOB")

	// Four clients at once reach MINBATCHSIZE: they run together, well before the timeout.
	conns := make([]*resp.Conn, len(rows))
	for i, r := range rows {
		conns[i] = s.Conn(t)
		in := "in" + string(rune('a'+i))
		expectOK(t, conns[i], "AI.TENSORSET", in, "FLOAT", 1, 4, "BLOB", row(r))
	}
	runTogether(t, conns, "batched4", "in", "out", batched4Timeout*time.Millisecond)
	for i, r := range rows {
		got := do(t, c, "AI.TENSORGET", "out"+string(rune('a'+i)), "BLOB").Str
		if !bytes.Equal(got, want[r]) {
			t.Errorf("row %d: batched output %x, unbatched %x", r, got, want[r])
		}
	}
	// The statistics count each run with its own batch size: the lone run, and the four batched ones.
	for model, n := range map[string]int64{"batched": 1, "batched4": 4} {
		inf := do(t, c, "AI.INFO", model)
		if inf.Kind != resp.Array || len(inf.Elems) != 18 || inf.Elems[13].Int != n || inf.Elems[15].Int != n {
			t.Errorf("AI.INFO %s: %v (want samples %d, calls %d)", model, inf, n, n)
		}
	}
	// INFO counts the batches, which AI.INFO cannot tell apart: the lone run's and the four's.
	m := info(t, c, "modules")
	if m["ai_queue_CPU_batches"] != "2" || m["ai_queue_CPU_batched_runs"] != "5" {
		t.Errorf("INFO ai_queue_CPU_batches %q, ai_queue_CPU_batched_runs %q, want 2 and 5",
			m["ai_queue_CPU_batches"], m["ai_queue_CPU_batched_runs"])
	}
}

// runTogether sends conns[i] the run of model on key inPrefix+"a"+i into outPrefix+"a"+i, all
// before reading any reply, and expects every one to answer +OK before minBatchTimeout.
func runTogether(t *testing.T, conns []*resp.Conn, model, inPrefix, outPrefix string, minBatchTimeout time.Duration) {
	t.Helper()
	start := time.Now()
	for i, c := range conns {
		in, out := inPrefix+string(rune('a'+i)), outPrefix+string(rune('a'+i))
		if err := c.Send(execArgs(model, []string{in}, []string{out})...); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		if v, err := c.Receive(); err != nil || !resp.Equal(v, resp.Simple("OK")) {
			t.Fatalf("batched run %d: %v %v", i, v, err)
		}
	}
	if took := time.Since(start); took >= minBatchTimeout {
		t.Errorf("%d runs reaching MINBATCHSIZE took %v: they waited for the timeout", len(conns), took)
	}
}

// TestModelBatchingFreeBatchDim: testdata/mnist_batch.onnx, mnist with a free batch dim, runs a
// [2,1,28,28] tensor as its two images alone (so the fixture is what the batching suite of
// tests/bench needs); stored with BATCHSIZE 4 MINBATCHSIZE 4, four clients run as one batch, each
// getting the scores its image gets alone.
func TestModelBatchingFreeBatchDim(t *testing.T) {
	t.Parallel()
	blob := madeFixture(t, "mnist_batch.onnx", "make_mnist_batch.py")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("plain", "ONNX", "CPU", blob)...)
	const timeout = 30000
	expectOK(t, c, storeArgs("batched", "ONNX", "CPU", blob, "BATCHSIZE", 4, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", timeout)...)

	// Four different images: one.png shifted down by 0 to 3 pixel rows.
	one := mnistInput(t)
	const rowBytes = 28 * 4
	images := make([][]byte, 4)
	want := make([][]byte, len(images))
	for i := range images {
		images[i] = append(slices.Clone(one[len(one)-i*rowBytes:]), one[:len(one)-i*rowBytes]...)
		setMnistInput(t, c, "in", images[i])
		expectOK(t, c, execArgs("plain", []string{"in"}, []string{"out"})...)
		want[i] = do(t, c, "AI.TENSORGET", "out", "BLOB").Str
	}

	expectOK(t, c, "AI.TENSORSET", "pair", "FLOAT", 2, 1, 28, 28, "BLOB", slices.Concat(images[0], images[1]))
	expectOK(t, c, execArgs("plain", []string{"pair"}, []string{"pairout"})...)
	b := resp.BulkString
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(2, 10)), "AI.TENSORGET", "pairout", "META")
	if got := do(t, c, "AI.TENSORGET", "pairout", "BLOB").Str; !bytes.Equal(got, slices.Concat(want[0], want[1])) {
		t.Errorf("a [2,1,28,28] run: %x, want the two images' own scores %x %x", got, want[0], want[1])
	}

	conns := make([]*resp.Conn, len(images))
	for i := range conns {
		conns[i] = s.Conn(t)
		setMnistInput(t, conns[i], "in"+string(rune('a'+i)), images[i])
	}
	runTogether(t, conns, "batched", "in", "out", timeout*time.Millisecond)
	for i := range images {
		if got := do(t, c, "AI.TENSORGET", "out"+string(rune('a'+i)), "BLOB").Str; !bytes.Equal(got, want[i]) {
			t.Errorf("image %d: batched scores %x, alone %x", i, got, want[i])
		}
	}
	inf := do(t, c, "AI.INFO", "batched")
	if inf.Kind != resp.Array || len(inf.Elems) != 18 || inf.Elems[13].Int != 4 || inf.Elems[15].Int != 4 {
		t.Errorf("AI.INFO batched: %v (want samples 4, calls 4)", inf)
	}
}

// TestBatchedModelRunsInPlace: a lone client's short runs of a model stored with BATCHSIZE alone are
// made on Redis' main thread (MAIN_THREAD_RUN_LIMIT), as an unbatched model's, since a worker would
// run each as a batch of one: INFO's queue counts few batches for them (well under half; the limit is
// TestRunsInPlace's, so that the machine's load does not send runs to the workers). With MINBATCHSIZE
// each run waits for others on a worker, until MINBATCHTIMEOUT: every run is a batch.
func TestBatchedModelRunsInPlace(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"MAIN_THREAD_RUN_LIMIT", inPlaceLimit}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("b", "ONNX", "CPU", iris, "BATCHSIZE", 8)...)
	expectOK(t, c, storeArgs("min", "ONNX", "CPU", iris, "BATCHSIZE", 8, "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", 1)...)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
	batches := func() int {
		n, err := strconv.Atoi(info(t, c, "modules")["ai_queue_CPU_batches"])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const warmUp, runs = 20, 100
	for model, inPlace := range map[string]bool{"b": true, "min": false} {
		for range warmUp {
			expectOK(t, c, execArgs(model, []string{"in"}, []string{"out"})...)
		}
		before := batches()
		for range runs {
			expectOK(t, c, execArgs(model, []string{"in"}, []string{"out"})...)
		}
		n := batches() - before
		if inPlace && n >= runs/2 || !inPlace && n != runs {
			t.Errorf("%s: %d of %d lone runs were batches on a worker (in place expected: %v)", model, n, runs, inPlace)
		}
	}
}

// TestTimeoutWhileWaitingForMinBatch: a run waiting for MINBATCHSIZE (a model without
// MINBATCHTIMEOUT, which would wait for ever) answers TIMEDOUT at its own TIMEOUT, as RedisAI's,
// writes no output and counts no run; so does a DAG whose model op waits; a DAG's op and a single
// run make one batch; later batches run.
func TestTimeoutWhileWaitingForMinBatch(t *testing.T) {
	t.Parallel()
	s, c, rf, X := batchingServer(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", rf, "BATCHSIZE", 4, "MINBATCHSIZE", 2)...)
	expectOK(t, c, "AI.TENSORSET", "ina", "FLOAT", 1, 4, "BLOB", X[:16])
	expectOK(t, c, "AI.TENSORSET", "inb", "FLOAT", 1, 4, "BLOB", X[16:32])

	for _, timeout := range []int{1, 200} {
		start := time.Now()
		expect(t, c, resp.Simple("TIMEDOUT"), "AI.MODELEXECUTE", "m", "INPUTS", 1, "ina", "OUTPUTS", 1, "lost", "TIMEOUT", timeout)
		if took := time.Since(start); took < time.Duration(timeout)*time.Millisecond || took > 5*time.Second {
			t.Errorf("TIMEOUT %d ms: TIMEDOUT after %v", timeout, took)
		}
	}
	expect(t, c, resp.Int(0), "EXISTS", "lost")
	if inf := do(t, c, "AI.INFO", "m"); len(inf.Elems) != 18 || inf.Elems[15].Int != 0 {
		t.Errorf("AI.INFO after two timed-out runs: %v, want calls 0", inf)
	}

	// A DAG's model op waits for MINBATCHSIZE too (RedisAI's test_dag_with_timeout), and a single
	// run that comes meanwhile joins its batch: both answered, the DAG with its rows.
	expect(t, c, resp.Simple("TIMEDOUT"), "AI.DAGEXECUTE", "LOAD", 1, "ina", "TIMEOUT", 1, "|>",
		"AI.MODELEXECUTE", "m", "INPUTS", 1, "ina", "OUTPUTS", 1, "d", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "ina", "OUTPUTS", 1, "d")
	dag, single := s.Conn(t), s.Conn(t)
	if err := dag.Send("AI.DAGEXECUTE", "LOAD", 1, "ina", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "ina", "OUTPUTS", 1, "d",
		"|>", "AI.TENSORGET", "d", "BLOB"); err != nil || dag.Flush() != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the DAG's op waits on the worker
	expectOK(t, single, "AI.MODELEXECUTE", "m", "INPUTS", 1, "inb", "OUTPUTS", 1, "outb")
	reply, err := dag.Receive()
	if err != nil || reply.Kind != resp.Array || len(reply.Elems) != 2 || reply.Elems[0].Text() != "OK" {
		t.Fatalf("the DAG batched with a single run: %v %v", reply, err)
	}
	expectOK(t, c, storeArgs("plain", "ONNX", "CPU", rf)...)
	expectOK(t, c, "AI.MODELEXECUTE", "plain", "INPUTS", 1, "ina", "OUTPUTS", 1, "wanta")
	if want := do(t, c, "AI.TENSORGET", "wanta", "BLOB").Str; !bytes.Equal(reply.Elems[1].Str, want) {
		t.Errorf("the DAG's rows %x, unbatched %x", reply.Elems[1].Str, want)
	}
	if inf := do(t, c, "AI.INFO", "m"); len(inf.Elems) != 18 || inf.Elems[15].Int != 2 {
		t.Errorf("AI.INFO after a batch of a DAG op and a run: %v, want calls 2", inf)
	}

	// Two clients reach MINBATCHSIZE: one batch, both answered.
	conns := []*resp.Conn{s.Conn(t), s.Conn(t)}
	runTogether(t, conns, "m", "in", "out", 10*time.Second)
	if inf := do(t, c, "AI.INFO", "m"); len(inf.Elems) != 18 || inf.Elems[15].Int != 4 {
		t.Errorf("AI.INFO after a batch of two: %v, want calls 4", inf)
	}
}

// TestOtherRunsWhileABatchWaits: with one worker (THREADS_PER_QUEUE 1, the default), a run waiting
// for MINBATCHSIZE does not hold up the queue: another model's run, a DAG, a script and two runs
// that reach another model's MINBATCHSIZE answer while it waits, as RedisAI's worker serves its
// queue between polls of a small batch, and a lone run of a third model with MINBATCHSIZE runs at its
// MINBATCHTIMEOUT or answers TIMEDOUT at its TIMEOUT; the waiting run is answered when a second one
// completes its batch.
func TestOtherRunsWhileABatchWaits(t *testing.T) {
	t.Parallel()
	s, c, rf, X := batchingServer(t)
	expectOK(t, c, storeArgs("batched", "ONNX", "CPU", rf, "BATCHSIZE", 4, "MINBATCHSIZE", 2)...)
	expectOK(t, c, storeArgs("plain", "ONNX", "CPU", rf)...)
	expectOK(t, c, "AI.SCRIPTSET", "sc", "CPU", "SOURCE", "def double(a):\n    return a + a\n")
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, 4, "BLOB", X[:16])
	expectOK(t, c, "AI.TENSORSET", "ina", "FLOAT", 1, 4, "BLOB", X[16:32])
	expectOK(t, c, "AI.TENSORSET", "inb", "FLOAT", 1, 4, "BLOB", X[32:48])

	waiting := s.Conn(t)
	if err := waiting.Send("AI.MODELEXECUTE", "batched", "INPUTS", 1, "x", "OUTPUTS", 1, "w"); err != nil || waiting.Flush() != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // it waits on the worker for a second run
	other := s.Conn(t)
	other.SetTimeout(5 * time.Second)
	expectOK(t, other, "AI.MODELEXECUTE", "plain", "INPUTS", 1, "x", "OUTPUTS", 1, "p")
	expect(t, other, resp.Arr(resp.Simple("OK")), "AI.DAGEXECUTE", "LOAD", 1, "x", "|>", "AI.MODELEXECUTE", "plain", "INPUTS", 1, "x", "OUTPUTS", 1, "q")
	expectOK(t, other, "AI.SCRIPTEXECUTE", "sc", "double", "INPUTS", 1, "x", "OUTPUTS", 1, "d")
	// Two runs of another model with MINBATCHSIZE 2 make their batch (RedisAI's
	// test_tensorflow_modelrun_with_batch_and_minbatch).
	expectOK(t, c, storeArgs("another", "ONNX", "CPU", rf, "BATCHSIZE", 2, "MINBATCHSIZE", 2)...)
	runTogether(t, []*resp.Conn{s.Conn(t), s.Conn(t)}, "another", "in", "out", 5*time.Second)
	// A lone run of a model with MINBATCHSIZE runs at its MINBATCHTIMEOUT, and one with a TIMEOUT
	// answers TIMEDOUT at it (neither answered: the waiting worker served only runs ready to run).
	expectOK(t, c, storeArgs("patient", "ONNX", "CPU", rf, "BATCHSIZE", 4, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", 100)...)
	expectOK(t, other, "AI.MODELEXECUTE", "patient", "INPUTS", 1, "x", "OUTPUTS", 1, "pa")
	expect(t, other, resp.Simple("TIMEDOUT"), "AI.MODELEXECUTE", "patient", "INPUTS", 1, "x", "OUTPUTS", 1, "pb", "TIMEOUT", 50)

	expectOK(t, c, "AI.MODELEXECUTE", "batched", "INPUTS", 1, "x", "OUTPUTS", 1, "w2")
	if v, err := waiting.Receive(); err != nil || !resp.Equal(v, resp.Simple("OK")) {
		t.Fatalf("the waiting run: %v %v", v, err)
	}
	expect(t, c, resp.BulkBytes(do(t, c, "AI.TENSORGET", "p", "BLOB").Str), "AI.TENSORGET", "w", "BLOB")
}
