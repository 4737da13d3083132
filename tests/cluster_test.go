package tests

import (
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// startOneNodeCluster starts a server in cluster mode that serves every slot, with config added, once
// its cluster is ok.
func startOneNodeCluster(t *testing.T, config ...string) *redistest.Server {
	t.Helper()
	s := startServer(t, append([]string{"cluster-enabled yes", "cluster-config-file nodes.conf"}, config...)...)
	c := s.Conn(t)
	expectOK(t, c, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
	waitFor(t, 30*time.Second, "the one-node cluster to be ok", func() (bool, string) {
		v := do(t, c, "CLUSTER", "INFO")
		return strings.Contains(v.Text(), "cluster_state:ok"), v.Text()
	})
	return s
}

// TestClusterKeys: in a Redis Cluster node, the key positions gorai reports (getkeys-api) route
// AI.MODELEXECUTE, AI.SCRIPTEXECUTE and DAGs: keys sharing a hash tag run, keys in different slots
// are refused by Redis with CROSSSLOT before the module sees them.
func TestClusterKeys(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	c := startOneNodeCluster(t).Conn(t)

	expectOK(t, c, storeArgs("{a}m", "ONNX", "CPU", iris)...)
	expectOK(t, c, "AI.TENSORSET", "{a}in", "FLOAT", 1, 4, "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectOK(t, c, execArgs("{a}m", []string{"{a}in"}, []string{"{a}out"})...)
	expect(t, c, resp.Arr(resp.BulkString("-0.090524077415466309")), "AI.TENSORGET", "{a}out", "VALUES")

	v := do(t, c, execArgs("{a}m", []string{"{a}in"}, []string{"{b}out"})...)
	if v.Kind != resp.Error || !strings.HasPrefix(v.Text(), "CROSSSLOT") {
		t.Errorf("MODELEXECUTE across slots: %v, want CROSSSLOT", v)
	}
	expect(t, c, resp.Int(0), "EXISTS", "{b}out")
	v = do(t, c, "AI.DAGEXECUTE", "LOAD", 1, "{a}in", "PERSIST", 1, "{b}x", "|>",
		"AI.MODELEXECUTE", "{a}m", "INPUTS", 1, "{a}in", "OUTPUTS", 1, "{b}x")
	if v.Kind != resp.Error || !strings.HasPrefix(v.Text(), "CROSSSLOT") {
		t.Errorf("DAG across slots: %v, want CROSSSLOT", v)
	}
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Arr(resp.BulkString("-0.090524077415466309"))),
		"AI.DAGEXECUTE", "LOAD", 1, "{a}in", "PERSIST", 1, "{a}y", "|>",
		"AI.MODELEXECUTE", "{a}m", "INPUTS", 1, "{a}in", "OUTPUTS", 1, "{a}y", "|>", "AI.TENSORGET", "{a}y", "VALUES")
	expect(t, c, resp.Int(1), "EXISTS", "{a}y")

	// A script's call that Redis' cluster refuses says why (it answered "Operation not permitted").
	const run = "def run(tensors: List[Tensor], keys: List[str], args: List[str]):\n    redis.execute(args[0], args[1:])\n    return tensors[0]\n"
	expectOK(t, c, scriptStoreArgs("{a}s", "CPU", nil, []string{"run"}, run)...)
	expectErrContains(t, c, errRedisCommand+": "+"this node does not serve the call's keys",
		"AI.SCRIPTEXECUTE", "{a}s", "run", "INPUTS", 1, "{a}in", "ARGS", 3, "MGET", "{a}x", "{b}y", "OUTPUTS", 1, "{a}o")
	expect(t, c, resp.Int(0), "EXISTS", "{a}o")
}
