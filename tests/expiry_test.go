package tests

import (
	"fmt"
	"testing"
	"time"

	"gorai/tests/resp"
)

// TestExpiredKeys: a model, script or tensor key past its expiry time, found by a command before Redis'
// active expiry deletes it, is deleted by that lookup and the command answers as for a key that never
// existed (RedisAI's "model key is empty"...); AI.INFO too (RedisAI's, which reads a table of names
// alone, answers until a lookup deletes the key). Deleting a model or script closes its session in Go from
// inside the lookup: with that lookup declared as never calling back into Go, every command that looked
// up an expired model or script, a script's redisAI.model_execute included, aborted Redis (checked so).
func TestExpiredKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	iris := redisaiFixture(t, "linear_iris.onnx")
	const identity = "def f(a):\n    return a\n"
	const viaScript = "def run(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return redisAI.model_execute(keys[0], [tensors[0]], 1)[0]\n"
	expectOK(t, c, "DEBUG", "SET-ACTIVE-EXPIRE", 0)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
	expectOK(t, c, storeArgs("keep", "ONNX", "CPU", iris)...)
	expectOK(t, c, scriptStoreArgs("via", "CPU", nil, []string{"run"}, viaScript)...)

	store := map[string]func(key string) []any{
		"model":  func(key string) []any { return storeArgs(key, "ONNX", "CPU", iris) },
		"script": func(key string) []any { return []any{"AI.SCRIPTSET", key, "CPU", "SOURCE", identity} },
		"tensor": func(key string) []any { return []any{"AI.TENSORSET", key, "FLOAT", 1, 4, "VALUES", 1, 2, 3, 4} },
	}
	cases := []struct {
		kind string
		cmd  func(key string) []any
	}{
		{"model", func(k string) []any { return []any{"AI.MODELEXECUTE", k, "INPUTS", 1, "in", "OUTPUTS", 1, "o"} }},
		{"model", func(k string) []any { return []any{"AI.MODELRUN", k, "INPUTS", "in", "OUTPUTS", "o"} }},
		{"model", func(k string) []any { return []any{"AI.MODELGET", k, "META"} }},
		{"model", func(k string) []any { return []any{"AI.MODELDEL", k} }},
		{"model", func(k string) []any { return []any{"AI.SCRIPTGET", k} }},
		{"model", func(k string) []any { return storeArgs(k, "ONNX", "CPU", iris) }},
		{"model", func(k string) []any {
			return []any{"AI.DAGEXECUTE_RO", "LOAD", 1, "in", "|>", "AI.MODELEXECUTE", k, "INPUTS", 1, "in", "OUTPUTS", 1, "o"}
		}},
		{"model", func(k string) []any {
			return []any{"AI.SCRIPTEXECUTE", "via", "run", "KEYS", 1, k, "INPUTS", 1, "in", "OUTPUTS", 1, "o"}
		}},
		{"script", func(k string) []any { return []any{"AI.SCRIPTEXECUTE", k, "f", "INPUTS", 1, "in", "OUTPUTS", 1, "o"} }},
		{"script", func(k string) []any { return []any{"AI.SCRIPTRUN", k, "f", "INPUTS", "in", "OUTPUTS", "o"} }},
		{"script", func(k string) []any { return []any{"AI.SCRIPTGET", k} }},
		{"script", func(k string) []any { return []any{"AI.SCRIPTDEL", k} }},
		{"script", func(k string) []any { return []any{"AI.SCRIPTSET", k, "CPU", "SOURCE", identity} }},
		{"script", func(k string) []any {
			return []any{"AI.DAGEXECUTE", "LOAD", 1, "in", "|>", "AI.SCRIPTEXECUTE", k, "f", "INPUTS", 1, "in", "OUTPUTS", 1, "o"}
		}},
		{"tensor", func(k string) []any { return []any{"AI.TENSORGET", k, "VALUES"} }},
		{"tensor", func(k string) []any { return []any{"AI.MODELEXECUTE", "keep", "INPUTS", 1, k, "OUTPUTS", 1, "o"} }},
		{"tensor", func(k string) []any {
			return []any{"AI.DAGEXECUTE", "LOAD", 1, k, "|>", "AI.TENSORGET", k, "VALUES"}
		}},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s: %s", tc.kind, fmtArgs(tc.cmd("k")))
		expectOK(t, c, store[tc.kind]("k")...)
		expect(t, c, resp.Int(1), "PEXPIRE", "k", 1)
		time.Sleep(5 * time.Millisecond)
		expired := do(t, c, tc.cmd("k")...)
		if !s.Running() {
			t.Fatalf("%s: the server stopped:\n%s", name, s.LogTail(40))
		}
		never := do(t, c, tc.cmd("never")...)
		if !resp.Equal(expired, never) {
			t.Errorf("%s: answered %v on the expired key, %v on a key that never existed", name, expired, never)
		}
		do(t, c, "DEL", "k", "never", "o")
		expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "k")
	}

	expectOK(t, c, storeArgs("k", "ONNX", "CPU", iris)...)
	expect(t, c, resp.Int(1), "PEXPIRE", "k", 1)
	time.Sleep(5 * time.Millisecond)
	// RedisAI answers from its table of names until the key is deleted; gorai reads the key, which
	// Redis then finds expired, as any read of it.
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "k")
	expect(t, c, resp.Int(0), "EXISTS", "k")
	expectPing(t, c)
}
