package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// tfGraph stores RedisAI's graph.pb (c = a * b) at key and checks a run.
func tfGraph(t *testing.T, c *resp.Conn, key string) {
	t.Helper()
	graph := redisaiFixture(t, "graph.pb")
	expectOK(t, c, "AI.MODELSTORE", key, "TF", "CPU", "TAG", "g", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c", "BLOB", graph)
}

func tfRun(t *testing.T, c *resp.Conn, key, context string) {
	t.Helper()
	expectOK(t, c, "AI.TENSORSET", key+":a", "FLOAT", 2, "VALUES", 2, 3)
	expectOK(t, c, "AI.TENSORSET", key+":b", "FLOAT", 2, "VALUES", 2, 3)
	if !expectOK(t, c, execArgs(key, []string{key + ":a", key + ":b"}, []string{key + ":c"})...) {
		t.Fatalf("%s: the TF model does not run", context)
	}
	expect(t, c, resp.Arr(resp.BulkString("4"), resp.BulkString("9")), "AI.TENSORGET", key+":c", "VALUES")
}

// TestTFModels: graph.pb through the server (META with the names given at store, the blob as
// stored), a graph failing at run time, and the model surviving BGSAVE, an AOF rewrite (written
// with its INPUTS and OUTPUTS) and restarts, and reaching a replica that runs it.
func TestTFModels(t *testing.T) {
	t.Parallel()
	graph := redisaiFixture(t, "graph.pb")
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no")
	c := s.Conn(t)
	tfGraph(t, c, "tf")
	tfRun(t, c, "tf", "after store")
	meta := do(t, c, "AI.MODELGET", "tf", "META")
	if !resp.Equal(meta, modelMeta("TF", "CPU", "g", 0, 0, 0, []string{"a", "b"}, []string{"c"})) {
		t.Errorf("MODELGET META: %v", meta)
	}
	expect(t, c, resp.BulkBytes(graph), "AI.MODELGET", "tf", "BLOB")

	// a run-time failure: shapes that do not broadcast
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
	expectOK(t, c, "AI.TENSORSET", "y", "FLOAT", 3, "VALUES", 1, 2, 3)
	v := do(t, c, execArgs("tf", []string{"x", "y"}, []string{"z"})...)
	if v.Kind != resp.Error || !strings.Contains(v.Text(), "Incompatible shapes") {
		t.Errorf("a failing run: %v", v)
	}
	expect(t, c, resp.Simple("PONG"), "PING")

	expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, c)
	found := false
	for _, cmd := range baseAOF(t, s) {
		if strings.EqualFold(cmd[0], "AI.MODELSTORE") && cmd[1] == "tf" {
			found = true
			want := []string{"tf", "TF", "CPU", "TAG", "g", "BATCHSIZE", "0", "MINBATCHSIZE", "0", "MINBATCHTIMEOUT", "0",
				"INPUTS", "2", "a", "b", "OUTPUTS", "1", "c", "BLOB", string(graph)}
			if strings.Join(cmd[1:], "\x01") != strings.Join(want, "\x01") {
				t.Errorf("AOF: %s", fmtStrings(cmd))
			}
		}
	}
	if !found {
		t.Error("the rewritten AOF has no AI.MODELSTORE for the TF model")
	}
	c = restart(t, s)
	tfRun(t, c, "tf", "after an AOF rewrite and a restart")

	expectOK(t, c, "CONFIG", "SET", "appendonly", "no")
	expectOK(t, c, "SAVE")
	c = restart(t, s)
	tfRun(t, c, "tf", "after SAVE and a restart")

	rc := startReplica(t, s.Port(), "replica-read-only no")
	tfGraph(t, c, "tf2")
	waitReplicaSynced(t, c, rc)
	tfRun(t, rc, "tf", "on a replica (from the full sync)")
	tfRun(t, rc, "tf2", "on a replica (replicated MODELSTORE)")
}

// TestTFMissing: without the TensorFlow library the module loads and serves tensors and ONNX;
// a TF model is refused with RedisAI's error, and the log says why; LOADBACKEND then loads it.
func TestTFMissing(t *testing.T) {
	t.Parallel()
	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", "tf", "libtensorflow_cc.so.2")
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("the TensorFlow library is not built (make build): %v", err)
	}
	empty := t.TempDir()
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", empty}})
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 1)
	graph := redisaiFixture(t, "graph.pb")
	expectErr(t, c, "ERR Could not load backend", "AI.MODELSTORE", "tf", "TF", "CPU", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c", "BLOB", graph)
	if !strings.Contains(s.Log(), filepath.Join(empty, "tf", "libtensorflow_cc.so.2")) {
		t.Errorf("the log does not say which library is missing:\n%s", s.LogTail(2000))
	}
	expectOK(t, c, "AI.CONFIG", "LOADBACKEND", "TF", lib)
	tfGraph(t, c, "tf")
	tfRun(t, c, "tf", "after LOADBACKEND")
}

// TestTFRunBeyondMemory: a graph that asks TensorFlow for more than the memory left (fill.pb, made by
// backends/tf/testdata/make_fill.py: a Fill of the shape its input gives) fails the run with TensorFlow's
// out-of-memory error, and Redis lives on: TF's calls to the allocator are checked against the memory left
// (tensor/memory_guard.c), here a memory cgroup's room of 1 GiB. TensorFlow itself refuses only what is
// beyond the machine's physical memory, so before the check a Fill of 4 GB had the kernel kill Redis
// (measured in a 2 GiB cgroup). A Fill that fits runs.
func TestTFRunBeyondMemory(t *testing.T) {
	t.Parallel()
	fill, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "backends", "tf", "testdata", "fill.pb"))
	if err != nil {
		t.Fatal(err)
	}
	s := redistest.Start(t, redistest.Options{Cgroup: redistest.MemoryCgroup(t, 1<<30)})
	c := s.Conn(t)
	expectOK(t, c, "AI.MODELSTORE", "fill", "TF", "CPU", "INPUTS", 1, "d", "OUTPUTS", 1, "s", "BLOB", fill)
	expectOK(t, c, "AI.TENSORSET", "huge", "INT32", 3, "VALUES", 1000, 1000, 1000)
	expectErrContains(t, c, "OOM when allocating tensor with shape[1000,1000,1000]",
		"AI.MODELEXECUTE", "fill", "INPUTS", 1, "huge", "OUTPUTS", 1, "sum")
	expect(t, c, resp.Int(0), "EXISTS", "sum")
	expectPing(t, c)
	expectOK(t, c, "AI.TENSORSET", "small", "INT32", 3, "VALUES", 10, 1000, 1000)
	expectOK(t, c, "AI.MODELEXECUTE", "fill", "INPUTS", 1, "small", "OUTPUTS", 1, "sum")
	expect(t, c, resp.Arr(resp.BulkString("10000000")), "AI.TENSORGET", "sum", "VALUES")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}
