package tests

import (
	"strconv"
	"testing"

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
