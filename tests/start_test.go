package tests

import (
	"os"
	"strconv"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// TestWorkersStartWithTheFirstRun: the CPU queue exists from the load, as RedisAI's (INFO lists its
// workers), but its workers start with its first run, not at the load: each parked worker holds an
// OS thread. Checked to fail when the queue started them as it was made.
func TestWorkersStartWithTheFirstRun(t *testing.T) {
	t.Parallel()
	const workers = 32
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", strconv.Itoa(workers), "PRELOAD_BACKENDS", "no"}})
	c := s.Conn(t)
	info, err := s.Info("MODULES")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info["ai_queue_CPU_bthread_n"+strconv.Itoa(workers)+"_used_cpu_total"]; !ok {
		t.Errorf("INFO does not list the CPU queue's %d workers before its first run", workers)
	}
	// Workers started at the load make their threads as the scheduler gets to them: watch a while.
	for range 20 {
		if n := threadCount(t, s); n >= workers {
			t.Fatalf("%d threads before any run, with %d workers per queue: the workers started at the load", n, workers)
		}
		time.Sleep(25 * time.Millisecond)
	}
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Ints(7)), "AI.DAGEXECUTE", "ROUTING", "{a}", "|>",
		"AI.TENSORSET", "a", "INT8", 1, "VALUES", 7, "|>", "AI.TENSORGET", "a", "VALUES")
	waitFor(t, 10*time.Second, "the workers' threads", func() (bool, string) {
		n := threadCount(t, s)
		return n >= workers, strconv.Itoa(n) + " threads"
	})
}

// threadCount is the number of threads of the server's process.
func threadCount(t *testing.T, s *redistest.Server) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(s.PID()) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(tasks)
}
