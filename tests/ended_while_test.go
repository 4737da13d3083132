package tests

import (
	"strings"
	"testing"
	"time"

	"gorai/tests/resp"
)

// waitingRun stores linear_iris.onnx at key with MINBATCHSIZE 2 MINBATCHTIMEOUT 500 and sends, on a
// connection of its own, a run of it that ends 500 ms later (alone, it waits for its batch), writing
// out; the returned func reads its reply.
func waitingRun(t *testing.T, c *resp.Conn, conn *resp.Conn, key, in, out string) func() resp.Value {
	t.Helper()
	expectOK(t, c, storeArgs(key, "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"), "BATCHSIZE", 2, "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", 500)...)
	expectOK(t, c, "AI.TENSORSET", in, "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2")
	if err := conn.Send(execArgs(key, []string{in}, []string{out})...); err != nil || conn.Flush() != nil {
		t.Fatal(err)
	}
	return func() resp.Value {
		conn.SetTimeout(30 * time.Second)
		v, err := conn.Receive()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestRunEndedWhilePaused: a run that ends while clients are paused for writes (CLIENT PAUSE WRITE, as
// FAILOVER pauses them) writes nothing and answers TRYAGAIN, on a server with an AOF to propagate to
// (its write was propagated during the pause, and Redis aborted on its assertion); a read-only DAG's
// script writing through redis.execute during the pause is refused (its write was propagated too).
func TestRunEndedWhilePaused(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes")
	c := s.Conn(t)
	expectOK(t, c, "AI.SCRIPTSET", "legacy", "CPU", "SOURCE", "def incr(a):\n    redis.execute(\"INCR\", \"counter\")\n    return a\n")
	reply := waitingRun(t, c, s.Conn(t), "m", "in", "out")
	time.Sleep(100 * time.Millisecond)
	expectOK(t, c, "CLIENT", "PAUSE", 3000, "WRITE")
	if v := reply(); !strings.HasPrefix(v.Text(), "TRYAGAIN clients were paused for writes") {
		t.Fatalf("a run ending during CLIENT PAUSE WRITE: %v, want TRYAGAIN", v)
	}
	expect(t, c, resp.Int(0), "EXISTS", "out")
	dag := do(t, c, "AI.DAGRUN_RO", "LOAD", 1, "in", "|>", "AI.SCRIPTRUN", "legacy", "incr", "INPUTS", "in", "OUTPUTS", "o")
	if len(dag.Elems) != 1 || !strings.Contains(dag.Elems[0].Text(), "TRYAGAIN clients were paused for writes") {
		t.Errorf("a read-only DAG's script writing during the pause: %v, want its op's refusal", dag)
	}
	expectOK(t, c, "CLIENT", "UNPAUSE")
	expect(t, c, resp.Int(0), "EXISTS", "counter")
	expectPing(t, c)
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestRunEndedAfterItsSlotLeft: in a cluster, a run whose output's slot this node stopped serving while
// it ran (here the slot is deleted; a reshard moves it) writes nothing and answers TRYAGAIN (a store or
// run acknowledged during a reshard was written where no client finds it).
func TestRunEndedAfterItsSlotLeft(t *testing.T) {
	t.Parallel()
	s := startOneNodeCluster(t, "cluster-require-full-coverage no")
	c := s.Conn(t)
	reply := waitingRun(t, c, s.Conn(t), "{a}m", "{a}in", "{a}out")
	time.Sleep(100 * time.Millisecond)
	slot := do(t, c, "CLUSTER", "KEYSLOT", "{a}out").Int
	expectOK(t, c, "CLUSTER", "DELSLOTS", slot)
	if v := reply(); !strings.HasPrefix(v.Text(), "TRYAGAIN the slot of key '{a}out' moved") {
		t.Fatalf("a run whose output's slot left the node: %v, want TRYAGAIN", v)
	}
	for _, k := range do(t, c, "CLUSTER", "GETKEYSINSLOT", slot, 10).Elems {
		if k.Text() == "{a}out" {
			t.Errorf("the output was written in a slot the node no longer serves")
		}
	}
}

// TestClusterWritesWithExistsRenamed: a cluster node whose EXISTS is renamed (a hardening step) stores
// and runs: the check that a command's keys are still served here (an EXISTS of them through the module
// API) cannot ask, and the keys are written, as RedisAI writes them. Every store and run answered
// TRYAGAIN, as though the slot had moved.
func TestClusterWritesWithExistsRenamed(t *testing.T) {
	t.Parallel()
	c := startOneNodeCluster(t, "rename-command EXISTS \"\"").Conn(t)
	expectOK(t, c, storeArgs("{a}m", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"))...)
	expectOK(t, c, "AI.TENSORSET", "{a}in", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectOK(t, c, execArgs("{a}m", []string{"{a}in"}, []string{"{a}out"})...)
	if v := do(t, c, "AI.TENSORGET", "{a}out", "META"); v.IsError() {
		t.Errorf("the run's output: %v", v)
	}
	expectOK(t, c, "AI.SCRIPTSET", "{a}s", "CPU", "SOURCE", "def f(a):\n    return a\n")
}

// TestRunEndedWhilePausedAfterScriptCalls: a DAG whose script wrote through redis.execute before the
// pause, and whose outputs cannot then be written, says that the script's calls were made (the
// reply said nothing was written, while the script's INCR was: a client sending it again counts
// twice).
func TestRunEndedWhilePausedAfterScriptCalls(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes")
	c := s.Conn(t)
	expectOK(t, c, "AI.SCRIPTSET", "legacy", "CPU", "SOURCE", "def incr(a):\n    redis.execute(\"INCR\", \"counter\")\n    return a\n")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"), "BATCHSIZE", 2, "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", 500)...)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2")
	runner := s.Conn(t)
	if err := runner.Send("AI.DAGRUN", "LOAD", 1, "in", "PERSIST", 1, "out", "|>",
		"AI.SCRIPTRUN", "legacy", "incr", "INPUTS", "in", "OUTPUTS", "x", "|>",
		"AI.MODELRUN", "m", "INPUTS", "x", "OUTPUTS", "out"); err != nil || runner.Flush() != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the script's INCR", func() (bool, string) {
		v := do(t, c, "GET", "counter")
		return v.Text() == "1", v.String()
	})
	expectOK(t, c, "CLIENT", "PAUSE", 3000, "WRITE")
	runner.SetTimeout(30 * time.Second)
	v, err := runner.Receive()
	if err != nil {
		t.Fatal(err)
	}
	const want = "TRYAGAIN clients were paused for writes (CLIENT PAUSE or FAILOVER) as the command ended: its outputs were not written, but the script's calls into Redis were made"
	if v.Text() != want {
		t.Errorf("the DAG's reply: %v, want %q", v, want)
	}
	expectOK(t, c, "CLIENT", "UNPAUSE")
	expect(t, c, resp.Int(0), "EXISTS", "out")
	expect(t, c, resp.BulkString("1"), "GET", "counter")
}
