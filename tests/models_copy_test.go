package tests

// COPY and DEBUG DIGEST-VALUE of model and script keys (tensors: TestCopy and TestDigest).

import (
	"testing"

	"gorai/tests/resp"
)

// copyScript doubles its input.
const copyScript = "def twice(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] * 2\n"

func runIris(t *testing.T, c *resp.Conn, key, context string) {
	t.Helper()
	expectOK(t, c, "AI.TENSORSET", "iris:in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
	if !expectOK(t, c, execArgs(key, []string{"iris:in"}, []string{"iris:out"})...) {
		t.Errorf("%s: model %q does not run", context, key)
	}
	irisOutput(t, c, "iris:out")
}

func runTwice(t *testing.T, c *resp.Conn, key, context string) {
	t.Helper()
	expectOK(t, c, "AI.TENSORSET", "twice:in", "FLOAT", 2, "VALUES", 1, 2)
	if !expectOK(t, c, "AI.SCRIPTEXECUTE", key, "twice", "INPUTS", 1, "twice:in", "OUTPUTS", 1, "twice:out") {
		t.Errorf("%s: script %q does not run", context, key)
	}
	expect(t, c, floatValues([]int64{2}, 2, 4), "AI.TENSORGET", "twice:out", "META", "VALUES")
}

// TestModelScriptCopy: COPY of a model or a script makes a key that runs on its own, with its own
// AI.INFO entry (as a RESTORE to that name would), and outlives its source.
func TestModelScriptCopy(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	iris := redisaiFixture(t, "linear_iris.onnx")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", iris, "TAG", "v1")...)
	expectOK(t, c, scriptStoreArgs("s", "CPU", "v1", []string{"twice"}, copyScript)...)
	runIris(t, c, "m", "source")
	runTwice(t, c, "s", "source")

	expect(t, c, resp.Int(1), "COPY", "m", "m2")
	expect(t, c, resp.Int(1), "COPY", "s", "s2")
	expect(t, c, resp.Simple("AI__MODEL"), "TYPE", "m2")
	expect(t, c, resp.Simple("AI_SCRIPT"), "TYPE", "s2")
	modelWant := withBlob(modelMeta("ONNX", "CPU", "v1", 0, 0, 0, irisInputs, irisOutputs), resp.BulkBytes(iris))
	expect(t, c, modelWant, "AI.MODELGET", "m2", "META", "BLOB")
	scriptWant := scriptFull("CPU", "v1", []string{"twice"}, copyScript)
	expect(t, c, scriptWant, "AI.SCRIPTGET", "s2", "META", "SOURCE")
	expectRunInfo(t, c, runInfo("m2", "ONNX", "CPU", "v1", 0, 0, 0, 0), "m2")
	expectRunInfo(t, c, scriptRunInfo("s2", "CPU", "v1", 0, 0, 0), "s2")
	runIris(t, c, "m2", "copy")
	runTwice(t, c, "s2", "copy")
	expectRunInfo(t, c, runInfo("m2", "ONNX", "CPU", "v1", -1, 1, 1, 0), "m2")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "v1", -1, 1, 1, 0), "m")
	expectRunInfo(t, c, scriptRunInfo("s2", "CPU", "v1", -1, 1, 0), "s2")

	// the source goes: the copies still run
	expect(t, c, resp.Int(2), "DEL", "m", "s")
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "m")
	runIris(t, c, "m2", "copy after deleting the source")
	runTwice(t, c, "s2", "copy after deleting the source")

	// overwriting a copy leaves the other copy alone
	expect(t, c, resp.Int(1), "COPY", "m2", "m3")
	expect(t, c, resp.Int(1), "COPY", "s2", "s3")
	expectOK(t, c, storeArgs("m3", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	expectOK(t, c, scriptStoreArgs("s3", "CPU", nil, []string{"twice"}, copyScript)...)
	runIris(t, c, "m2", "copy after overwriting its copy")
	runTwice(t, c, "s2", "copy after overwriting its copy")

	// onto an existing key: refused without REPLACE, done with it
	expect(t, c, resp.Int(0), "COPY", "m2", "s3")
	expect(t, c, resp.Int(1), "COPY", "m2", "s3", "REPLACE")
	expect(t, c, resp.Int(1), "COPY", "s2", "m3", "REPLACE")
	runIris(t, c, "s3", "model copied over a script")
	runTwice(t, c, "m3", "script copied over a model")
	expect(t, c, resp.Int(4), "DEL", "m2", "s2", "m3", "s3")
	expectPing(t, c)
}

// TestModelScriptDigest: DEBUG DIGEST-VALUE of models and scripts is equal for equal ones and a copy,
// different when anything that defines them differs, and the same after DEBUG RELOAD.
func TestModelScriptDigest(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	iris := redisaiFixture(t, "linear_iris.onnx")
	expectOK(t, c, storeArgs("m:a", "ONNX", "CPU", iris)...)
	expectOK(t, c, storeArgs("m:same", "ONNX", "CPU", iris)...)
	expectOK(t, c, storeArgs("m:tag", "ONNX", "CPU", iris, "TAG", "x")...)
	expectOK(t, c, storeArgs("m:device", "ONNX", "CPU:1", iris)...)
	expectOK(t, c, storeArgs("m:batch", "ONNX", "CPU", iris, "BATCHSIZE", 2)...)
	expectOK(t, c, storeArgs("m:blob", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	expectOK(t, c, scriptStoreArgs("s:a", "CPU", nil, []string{"twice"}, copyScript)...)
	expectOK(t, c, scriptStoreArgs("s:same", "CPU", nil, []string{"twice"}, copyScript)...)
	expectOK(t, c, scriptStoreArgs("s:tag", "CPU", "x", []string{"twice"}, copyScript)...)
	expectOK(t, c, scriptStoreArgs("s:source", "CPU", nil, []string{"twice"}, copyScript+"\n")...)
	expect(t, c, resp.Int(1), "COPY", "m:a", "m:copy")
	expect(t, c, resp.Int(1), "COPY", "s:a", "s:copy")
	keys := []string{"m:a", "m:same", "m:copy", "m:tag", "m:device", "m:batch", "m:blob", "s:a", "s:same", "s:copy", "s:tag", "s:source"}
	digests := func() map[string]string {
		args := []any{"DEBUG", "DIGEST-VALUE"}
		for _, k := range keys {
			args = append(args, k)
		}
		got := do(t, c, args...)
		if got.Kind != resp.Array || len(got.Elems) != len(keys) {
			t.Fatalf("DEBUG DIGEST-VALUE: %v", got)
		}
		d := map[string]string{}
		for i, k := range keys {
			d[k] = got.Elems[i].Text()
		}
		return d
	}
	d := digests()
	for _, same := range [][2]string{{"m:a", "m:same"}, {"m:a", "m:copy"}, {"s:a", "s:same"}, {"s:a", "s:copy"}} {
		if d[same[0]] != d[same[1]] {
			t.Errorf("%s and %s have different digests %s, %s", same[0], same[1], d[same[0]], d[same[1]])
		}
	}
	for _, k := range []string{"m:tag", "m:device", "m:batch", "m:blob", "s:a"} {
		if d[k] == d["m:a"] {
			t.Errorf("%s differs from m:a but has the same digest %s", k, d[k])
		}
	}
	for _, k := range []string{"s:tag", "s:source"} {
		if d[k] == d["s:a"] {
			t.Errorf("%s differs from s:a but has the same digest %s", k, d[k])
		}
	}
	expectOK(t, c, "DEBUG", "RELOAD")
	after := digests()
	for _, k := range keys {
		if after[k] != d[k] {
			t.Errorf("digest of %s changed across DEBUG RELOAD: %s -> %s", k, d[k], after[k])
		}
	}
}

// TestRunInfoFollowsTheKey: AI.INFO reports the model or script at the key in the client's
// database, wherever its counters were started. A key of the same name in another database (a
// COPY ... DB, a store there) once took over db 0's counters, and deleting it left db 0's model
// without any; a renamed or moved model answered under its old name only.
func TestRunInfoFollowsTheKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	iris := redisaiFixture(t, "linear_iris.onnx")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", iris)...)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"twice"}, copyScript)...)
	runIris(t, c, "m", "db 0")
	runTwice(t, c, "s", "db 0")

	expect(t, c, resp.Int(1), "COPY", "m", "m", "DB", 1)
	expectOK(t, c, "SELECT", 1)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"twice"}, copyScript)...)
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	runIris(t, c, "m", "db 1")
	runIris(t, c, "m", "db 1")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, 2, 2, 0), "m")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 0, 0), "s")
	expectOK(t, c, "SELECT", 0)
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, 1, 1, 0), "m")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", -1, 1, 0), "s")

	expectOK(t, c, "SELECT", 1)
	expect(t, c, resp.Int(2), "DEL", "m", "s")
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "m")
	expectOK(t, c, "SELECT", 0)
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, 1, 1, 0), "m")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", -1, 1, 0), "s")

	expectOK(t, c, "RENAME", "m", "renamed")
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "m")
	expectRunInfo(t, c, runInfo("renamed", "ONNX", "CPU", "", -1, 1, 1, 0), "renamed")
	expectOK(t, c, "AI.INFO", "renamed", "RESETSTAT")
	expectRunInfo(t, c, runInfo("renamed", "ONNX", "CPU", "", 0, 0, 0, 0), "renamed")
	expect(t, c, resp.Int(1), "MOVE", "s", 2)
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "s")
	expectOK(t, c, "SELECT", 2)
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", -1, 1, 0), "s")

	expectOK(t, c, "SET", "plain", "x")
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "plain")
	expectErr(t, c, "ERR cannot find run info for key", "AI.INFO", "plain", "RESETSTAT")
}
