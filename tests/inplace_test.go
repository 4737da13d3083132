package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// Short model runs on an idle server are made on Redis' main thread (MAIN_THREAD_RUN_LIMIT), skipping
// the workers: a lone client's linear_iris runs (a few µs each) leave the workers' CPU time where it
// was once the model has 16 short runs behind it, and give the same outputs, counted in AI.INFO; with
// MAIN_THREAD_RUN_LIMIT 0 every run is a worker's. The limit here is 50 ms, not the default 100 µs:
// on a machine loaded by the other tests a run of a few µs took over 100 µs now and then, each time
// sending the next 16 to the workers (CI failed so: 0.005 s in place against 0.008 s on workers).
const inPlaceLimit = "50000"

func TestRunsInPlace(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	workersCPU := func(t *testing.T, c *resp.Conn) float64 {
		t.Helper()
		sec, i := findSection(moduleInfo(t, c), "ai_cpu")
		if i < 0 {
			t.Fatal("INFO MODULES has no ai_cpu section")
		}
		v, err := strconv.ParseFloat(fieldMap(sec)["ai_queue_CPU_bthread_n1_used_cpu_total"], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const warmUp, runs = 20, 300
	// runs makes the warm-up and the measured runs, and returns the workers' CPU seconds meanwhile.
	measure := func(t *testing.T, args ...string) (float64, resp.Value) {
		s := redistest.Start(t, redistest.Options{ModuleArgs: args})
		c := s.Conn(t)
		expectOK(t, c, storeArgs("m", "ONNX", "CPU", iris)...)
		expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
		for range warmUp {
			expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
		}
		before := workersCPU(t, c)
		for range runs {
			expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
		}
		after := workersCPU(t, c)
		info := do(t, c, "AI.INFO", "m")
		if calls := info.Elems[15]; info.Elems[14].Text() != "calls" || calls.Int != warmUp+runs {
			t.Errorf("AI.INFO m: %v, want %d calls", info, warmUp+runs)
		}
		return after - before, do(t, c, "AI.TENSORGET", "out", "VALUES")
	}
	inPlace, out := measure(t, "MAIN_THREAD_RUN_LIMIT", inPlaceLimit)
	onWorkers, want := measure(t, "MAIN_THREAD_RUN_LIMIT", "0")
	if !resp.Equal(out, want) {
		t.Errorf("outputs made in place %v, on a worker %v", out, want)
	}
	// On a worker, each run costs its thread some µs; in place, none (well under half, whatever else
	// the workers' threads do meanwhile).
	t.Logf("workers' CPU over %d runs: %.6f s in place, %.6f s on workers", runs, inPlace, onWorkers)
	if onWorkers <= 0 || inPlace >= onWorkers/2 {
		t.Errorf("workers' CPU over %d runs: %.6f s with runs in place, %.6f s without", runs, inPlace, onWorkers)
	}
}

// TestLoopModelNeverInPlace: a model whose run time an input's value sets (infinite_loop.onnx, a Loop
// whose trip count is an input) is never run on Redis' main thread, however short its runs were: after
// 20 runs of 5 iterations, a run of 2^63-1 (stopped by MODEL_EXECUTION_TIMEOUT after 1 s) is a
// worker's, and another client's PING is answered before it ends. Made in place, it held the main
// thread until the kill switch (PING answered after it).
func TestLoopModelNeverInPlace(t *testing.T) {
	t.Parallel()
	loop := madeFixture(t, "infinite_loop.onnx", "make_infinite_loop.py")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"MAIN_THREAD_RUN_LIMIT", inPlaceLimit, "MODEL_EXECUTION_TIMEOUT", "1000"}})
	c := s.Conn(t)
	c.SetTimeout(30 * time.Second)
	expectOK(t, c, storeArgs("inf", "ONNX", "CPU", loop)...)
	run := loopInputs(t, c, "inf")
	for range 20 {
		expectOK(t, c, run("few")...)
	}
	if err := c.Send(run("iterations")...); err != nil || c.Flush() != nil {
		t.Fatal(err)
	}
	type reply struct {
		v   resp.Value
		err error
	}
	replied := make(chan reply, 1)
	go func() {
		v, err := c.Receive()
		replied <- reply{v, err}
	}()
	other := s.Conn(t)
	other.SetTimeout(30 * time.Second)
	expect(t, other, resp.Simple("PONG"), "PING")
	select {
	case r := <-replied:
		t.Fatalf("the endless run answered %v %v before another client's PING was answered: it held the main thread", r.v, r.err)
	default:
	}
	select {
	case r := <-replied:
		if r.err != nil || !strings.Contains(r.v.Text(), "terminate flag") {
			t.Fatalf("the endless run: %v %v, want the kill switch's error", r.v, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the endless run did not end in 30 s")
	}
}
