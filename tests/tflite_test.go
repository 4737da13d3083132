package tests

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// tfliteCase is one case of backends/tflite/testdata/expected.json: TF Lite's own outputs for the inputs,
// in the interpreter's order.
type tfliteCase struct {
	Inputs, Outputs []struct {
		DType  string
		Shape  []int64
		Values []float64
	}
}

type tfliteModel struct {
	Inputs, Outputs []string
	Cases           []tfliteCase
}

// tfliteTestdata is a model converted by backends/tflite/testdata/make_models.py and what TF Lite says of it.
func tfliteTestdata(t *testing.T, name string) ([]byte, tfliteModel) {
	t.Helper()
	dir := filepath.Join(redistest.RepoRoot(), "backends", "tflite", "testdata")
	blob, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]tfliteModel
	if err := json.Unmarshal(j, &all); err != nil {
		t.Fatal(err)
	}
	return blob, all[name]
}

// tfliteInputs sets the case's inputs at <prefix>:in<i> and returns their keys.
func tfliteInputs(t *testing.T, c *resp.Conn, prefix string, tc tfliteCase) []string {
	t.Helper()
	var ins []string
	for i, in := range tc.Inputs {
		k := prefix + ":in" + string(rune('0'+i))
		args := []any{"AI.TENSORSET", k, strings.ToUpper(strings.TrimSuffix(in.DType, "32"))}
		for _, d := range in.Shape {
			args = append(args, d)
		}
		args = append(args, "VALUES")
		for _, v := range in.Values {
			args = append(args, formatG17(v))
		}
		expectOK(t, c, args...)
		ins = append(ins, k)
	}
	return ins
}

// tfliteRun sets the case's inputs at <prefix>:in<i>, runs the model and compares the outputs at
// <prefix>:out<i> with TF Lite's. It may be called from several goroutines.
func tfliteRun(t *testing.T, c *resp.Conn, model, prefix string, tc tfliteCase, context string) {
	t.Helper()
	ins, outs := tfliteInputs(t, c, prefix, tc), []string(nil)
	for i := range tc.Outputs {
		outs = append(outs, prefix+":out"+string(rune('0'+i)))
	}
	if !expectOK(t, c, execArgs(model, ins, outs)...) {
		t.Errorf("%s: the TFLITE model does not run", context)
		return
	}
	for i, want := range tc.Outputs {
		v := do(t, c, "AI.TENSORGET", outs[i], "META", "BLOB")
		wantType := strings.ToUpper(strings.TrimSuffix(want.DType, "32"))
		if v.Kind != resp.Array || len(v.Elems) != 6 || v.Elems[1].Text() != wantType || !resp.Equal(v.Elems[3], resp.Ints(want.Shape...)) {
			t.Errorf("%s: output %d: %v, want %s %v", context, i, v, wantType, want.Shape)
			continue
		}
		blob := v.Elems[5].Str
		for k, w := range want.Values {
			got := float64(blob[k])
			if wantType == "FLOAT" {
				got = float64(math.Float32frombits(binary.LittleEndian.Uint32(blob[4*k:])))
			}
			if math.Abs(got-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: output %d [%d] = %v, want %v (TF Lite)", context, i, k, got, w)
			}
		}
	}
}

// TestTFLiteModels: a float model with two inputs and two outputs and a uint8-quantized one through the
// server (META with the interpreter's tensor names, the blob as stored, outputs equal to TF Lite's, a batch
// the flatbuffer does not say), RedisAI's errors (AI.MODELSET alone refuses BATCHSIZE for TFLITE), a DAG, INFO, and the model surviving DEBUG RELOAD and an
// AOF rewrite (written without INPUTS and OUTPUTS) with a restart, DUMP/RESTORE, and reaching a replica that
// runs it.
func TestTFLiteModels(t *testing.T) {
	t.Parallel()
	dense, dm := tfliteTestdata(t, "dense.tflite")
	quant, qm := tfliteTestdata(t, "quantized.tflite")
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no", "enable-debug-command yes")
	c := s.Conn(t)
	expectOK(t, c, "AI.MODELSTORE", "d", "TFLITE", "CPU", "TAG", "v1", "BLOB", dense)
	expectOK(t, c, "AI.MODELSTORE", "q", "TFLITE", "CPU", "BLOB", quant)
	if v := info(t, c, "ai_backends_info")["ai_TensorFlowLite_version"]; v != "2.3.0" {
		t.Errorf("INFO ai_TensorFlowLite_version = %q, want 2.3.0", v)
	}
	expect(t, c, modelMeta("TFLITE", "CPU", "v1", 0, 0, 0, dm.Inputs, dm.Outputs), "AI.MODELGET", "d", "META")
	expect(t, c, modelMeta("TFLITE", "CPU", "", 0, 0, 0, qm.Inputs, qm.Outputs), "AI.MODELGET", "q", "META")
	expect(t, c, resp.BulkBytes(dense), "AI.MODELGET", "d", "BLOB")
	for _, tc := range dm.Cases {
		tfliteRun(t, c, "d", "d", tc, "float model")
	}
	for _, tc := range qm.Cases {
		tfliteRun(t, c, "q", "q", tc, "quantized model")
	}

	// RedisAI's errors at store and at run.
	expectErr(t, c, "ERR INPUTS argument should not be specified for this backend",
		"AI.MODELSTORE", "e", "TFLITE", "CPU", "INPUTS", 1, "a", "OUTPUTS", 1, "b", "BLOB", dense)
	expectErr(t, c, "Failed to load model from buffer", "AI.MODELSTORE", "e", "TFLITE", "CPU", "BLOB", "not a model")
	expectErr(t, c, "Failed to load model from buffer", "AI.MODELSTORE", "e", "TFLITE", "CPU", "BLOB", dense[:len(dense)/2])
	expect(t, c, resp.Int(0), "EXISTS", "e")
	expectOK(t, c, "AI.TENSORSET", "i8", "INT8", 1, 4, "VALUES", 1, 2, 3, 4)
	expectErr(t, c, "Input tensor type doesn't match the type expected by the model definition",
		execArgs("q", []string{"i8"}, []string{"o"})...)
	expectErr(t, c, "Number of keys given as INPUTS here does not match model definition",
		execArgs("d", []string{"d:in0"}, []string{"o1", "o2"})...)
	expectErr(t, c, "Number of keys given as OUTPUTS here does not match model definition",
		execArgs("d", []string{"d:in0", "d:in1"}, []string{"o1"})...)

	// A DAG: inputs by position (the last case's, set last), the outputs read inside it.
	tc := dm.Cases[len(dm.Cases)-1]
	v := do(t, c, "AI.DAGEXECUTE", "LOAD", 2, "d:in0", "d:in1", "|>",
		"AI.MODELEXECUTE", "d", "INPUTS", 2, "d:in0", "d:in1", "OUTPUTS", 2, "x", "y", "|>",
		"AI.TENSORGET", "y", "META")
	if want := resp.Arr(resp.BulkString("dtype"), resp.BulkString("FLOAT"), resp.BulkString("shape"), resp.Ints(tc.Outputs[1].Shape...)); v.Kind != resp.Array ||
		len(v.Elems) != 2 || !resp.Equal(v.Elems[0], resp.Simple("OK")) || !resp.Equal(v.Elems[1], want) {
		t.Errorf("DAG: %v", v)
	}

	expectOK(t, c, "DEBUG", "RELOAD")
	expect(t, c, modelMeta("TFLITE", "CPU", "v1", 0, 0, 0, dm.Inputs, dm.Outputs), "AI.MODELGET", "d", "META")
	tfliteRun(t, c, "d", "d", dm.Cases[1], "after DEBUG RELOAD")
	tfliteRun(t, c, "q", "q", qm.Cases[0], "quantized, after DEBUG RELOAD")

	expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, c)
	found := false
	for _, cmd := range baseAOF(t, s) {
		if strings.EqualFold(cmd[0], "AI.MODELSTORE") && cmd[1] == "d" {
			found = true
			want := []string{"d", "TFLITE", "CPU", "TAG", "v1", "BATCHSIZE", "0", "MINBATCHSIZE", "0", "MINBATCHTIMEOUT", "0",
				"BLOB", string(dense)}
			if strings.Join(cmd[1:], "\x01") != strings.Join(want, "\x01") {
				t.Errorf("AOF: %s", fmtStrings(cmd))
			}
		}
	}
	if !found {
		t.Error("the rewritten AOF has no AI.MODELSTORE for the TFLITE model")
	}
	c = restart(t, s)
	tfliteRun(t, c, "d", "d", dm.Cases[0], "after an AOF rewrite and a restart")
	tfliteRun(t, c, "q", "q", qm.Cases[1], "quantized, after an AOF rewrite and a restart")

	dump := do(t, c, "DUMP", "d")
	expectOK(t, c, "RESTORE", "d2", 0, dump.Str)
	expect(t, c, modelMeta("TFLITE", "CPU", "v1", 0, 0, 0, dm.Inputs, dm.Outputs), "AI.MODELGET", "d2", "META")
	tfliteRun(t, c, "d2", "d2", dm.Cases[0], "after DUMP and RESTORE")

	rc := startReplica(t, s.Port(), "replica-read-only no")
	expectOK(t, c, "AI.MODELSTORE", "d3", "TFLITE", "CPU", "BLOB", dense)
	waitReplicaSynced(t, c, rc)
	tfliteRun(t, rc, "d", "d", dm.Cases[1], "on a replica (from the full sync)")
	tfliteRun(t, rc, "d3", "d3", dm.Cases[0], "on a replica (replicated MODELSTORE)")
}

// TestTFLiteBatching: AI.MODELSTORE takes BATCHSIZE for TFLITE (RedisAI refused it in AI.MODELSET only);
// runs from two clients, of 1 and 3 rows, reach MINBATCHSIZE 4 and run as one batch of 4 rows (the model's
// inputs resized to it), each client getting TF Lite's outputs for its own rows.
func TestTFLiteBatching(t *testing.T) {
	t.Parallel()
	dense, dm := tfliteTestdata(t, "dense.tflite")
	s := startServer(t)
	c := s.Conn(t)
	// MINBATCHTIMEOUT 20 s: runs answered before it were not released by it, however loaded the machine.
	const minBatchTimeout = 20000
	expectOK(t, c, "AI.MODELSTORE", "b", "TFLITE", "CPU", "BATCHSIZE", 4, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", minBatchTimeout, "BLOB", dense)
	expect(t, c, modelMeta("TFLITE", "CPU", "", 4, 4, minBatchTimeout, dm.Inputs, dm.Outputs), "AI.MODELGET", "b", "META")
	conns := []*resp.Conn{s.Conn(t), s.Conn(t)}
	start := time.Now()
	done := make(chan struct{})
	for i, cc := range conns {
		go func() {
			defer func() { done <- struct{}{} }()
			tfliteRun(t, cc, "b", fmt.Sprint("b", i), dm.Cases[i], fmt.Sprintf("client %d of a batch", i))
		}()
	}
	for range conns {
		<-done
	}
	if took := time.Since(start); took >= minBatchTimeout*time.Millisecond {
		t.Errorf("the two runs took %v: they did not run as one batch before MINBATCHTIMEOUT", took)
	}
}

// TestTFLiteOutputShapes: each output as the run leaves it (backends/tflite/testdata/make_dynamic.py), equal to
// TF Lite's. flatten.tflite's output shape is known only after the run (Keras' Flatten reshapes to the batch
// the model computes): batches of 3, 7 and 2 in turn each get [n,5], where they got the previous run's shape,
// with rows no run wrote, and LiteRT wrote the larger batches past a buffer of the smaller. passthrough.tflite
// returns its input as an output, which TF Lite makes the input tensor itself: both its outputs were memory
// the run never wrote. twice.tflite returns one tensor as both its outputs: it crashed LiteRT's run (in the
// trial program's child, which refused it).
func TestTFLiteOutputShapes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, name := range []string{"flatten", "passthrough", "twice"} {
		blob, tm := tfliteTestdata(t, name+".tflite")
		expectOK(t, c, "AI.MODELSTORE", name, "TFLITE", "CPU", "BLOB", blob)
		expect(t, c, modelMeta("TFLITE", "CPU", "", 0, 0, 0, tm.Inputs, tm.Outputs), "AI.MODELGET", name, "META")
		// The second round's shapes were tried: its runs are Redis' alone (backends/tflite/trial.go).
		for round := range 2 {
			for i, tc := range tm.Cases {
				tfliteRun(t, c, name, name, tc, fmt.Sprintf("%s, case %d, round %d", name, i, round))
			}
		}
	}
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestTFLiteMissing: without LiteRT the module loads and a TFLITE model is refused with RedisAI's error;
// AI.CONFIG LOADBACKEND then loads it, as does the TFLITE load-time argument.
func TestTFLiteMissing(t *testing.T) {
	t.Parallel()
	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", "tflite", "libLiteRt.so")
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("the LiteRT library is not built (make build): %v", err)
	}
	dense, dm := tfliteTestdata(t, "dense.tflite")
	empty := t.TempDir()
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", empty}})
	c := s.Conn(t)
	expectErr(t, c, "ERR Could not load backend", "AI.MODELSTORE", "d", "TFLITE", "CPU", "BLOB", dense)
	if !strings.Contains(s.Log(), filepath.Join(empty, "tflite", "libLiteRt.so")) {
		t.Errorf("the log does not say which library is missing:\n%s", s.LogTail(2000))
	}
	expectOK(t, c, "AI.CONFIG", "LOADBACKEND", "TFLITE", lib)
	expectOK(t, c, "AI.MODELSTORE", "d", "TFLITE", "CPU", "BLOB", dense)
	tfliteRun(t, c, "d", "d", dm.Cases[0], "after LOADBACKEND")

	s2 := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", empty, "TFLITE", lib}})
	c2 := s2.Conn(t)
	if v := info(t, c2, "ai_backends_info")["ai_TensorFlowLite_version"]; v != "2.3.0" {
		t.Errorf("loaded at start: INFO ai_TensorFlowLite_version = %q", v)
	}
	expectOK(t, c2, "AI.MODELSTORE", "d", "TFLITE", "CPU", "BLOB", dense)
	tfliteRun(t, c2, "d", "d", dm.Cases[1], "loaded by the TFLITE argument")
}

// A TFLITE model a client sends is tried in a process of its own first (backends/tflite/trial.go): one that
// crashes LiteRT, and one whose run throws (backends/tflite/testdata/make_damaged.py), are refused by
// AI.MODELSTORE and RESTORE alike, and the server lives.
func TestTFLiteTrial(t *testing.T) {
	t.Parallel()
	crashes, _ := tfliteTestdata(t, "crashes.tflite")
	throws, _ := tfliteTestdata(t, "throws.tflite")
	quantized, _ := tfliteTestdata(t, "quantized.tflite")
	s := startServer(t, "rdbcompression no") // the DUMP below has the blob's bytes as they are
	c := s.Conn(t)
	const crashed = "ERR TFLITE model crashed the runtime (segmentation fault) when tried in a process of its own"
	expectErr(t, c, crashed, "AI.MODELSTORE", "m", "TFLITE", "CPU", "BLOB", crashes)
	expectErr(t, c, "ERR TFLITE model failed to run on zeros of its inputs' shapes, within 2 GiB or 16 times its size, "+
		"when tried in a process of its own: ERR TFLITE: LiteRT failed: basic_string::_M_construct null not valid",
		"AI.MODELSTORE", "m", "TFLITE", "CPU", "BLOB", throws)
	// crashes.tflite is quantized.tflite with one byte changed: the same DUMP, the blob swapped and resealed.
	expectOK(t, c, "AI.MODELSTORE", "q", "TFLITE", "CPU", "BLOB", quantized)
	dump := do(t, c, "DUMP", "q").Str
	at := bytes.Index(dump, quantized)
	if at < 0 || len(crashes) != len(quantized) {
		t.Fatal("the DUMP of quantized.tflite does not hold its bytes")
	}
	damaged := append([]byte(nil), dump...)
	copy(damaged[at:], crashes)
	expectErr(t, c, "ERR Bad data format", "RESTORE", "m", 0, resealDump(damaged))
	if !strings.Contains(s.Log(), crashed[len("ERR "):]) {
		t.Errorf("the log does not say why RESTORE refused the model:\n%s", s.LogTail(2000))
	}
	expectPing(t, c)
	expect(t, c, resp.Int(1), "EXISTS", "q")
}

// A model that divides integers is stored and run (backends/tflite/testdata/make_division.py): its trial's
// run on zeros divides by zero, which LiteRT's kernel refuses, and the trial then runs it on ones instead of
// taking the refusal for damage; so does the trial of a run on larger inputs than the model was tried at.
// Before, AI.MODELSTORE refused the model (`failed to run on zeros ...: Failed to invoke the TFLITE model
// (LiteRT status 3)`). A division by zero in a client's run fails that run alone.
func TestTFLiteDivisionStored(t *testing.T) {
	t.Parallel()
	blob, _ := tfliteTestdata(t, "floordiv.tflite")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.MODELSTORE", "div", "TFLITE", "CPU", "BLOB", blob)
	expectOK(t, c, "AI.TENSORSET", "a", "INT32", 1, 3, "VALUES", 7, -7, 9)
	expectOK(t, c, "AI.TENSORSET", "b", "INT32", 1, 3, "VALUES", 2, 2, -3)
	expectOK(t, c, "AI.MODELEXECUTE", "div", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "q")
	expect(t, c, resp.Ints(3, -4, -3), "AI.TENSORGET", "q", "VALUES")

	expectOK(t, c, "AI.TENSORSET", "zero", "INT32", 1, 3, "VALUES", 1, 0, 1)
	expectErr(t, c, "Failed to invoke the TFLITE model (LiteRT status 3)",
		"AI.MODELEXECUTE", "div", "INPUTS", 2, "a", "zero", "OUTPUTS", 1, "z")
	expect(t, c, resp.Int(0), "EXISTS", "z")

	// A batch of 4 is larger than the [1,3] the model was tried at: tried first, on zeros, then ones.
	expectOK(t, c, "AI.TENSORSET", "a4", "INT32", 4, 3, "VALUES", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	expectOK(t, c, "AI.TENSORSET", "b4", "INT32", 4, 3, "VALUES", 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4)
	expectOK(t, c, "AI.MODELEXECUTE", "div", "INPUTS", 2, "a4", "b4", "OUTPUTS", 1, "q4")
	expect(t, c, resp.Ints(1, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3), "AI.TENSORGET", "q4", "VALUES")
	expectPing(t, c)
}

// untriedBackends is a backends folder with LiteRT but without its trial program.
func untriedBackends(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tflite"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", "tflite", "libLiteRt.so")
	if err := os.Symlink(lib, filepath.Join(dir, "tflite", "libLiteRt.so")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// What Redis itself hands over is not tried: a server whose backends folder has LiteRT but no trial program
// stores throws.tflite (untried); a server with the trial program loads it from the first one's RDB file,
// and its runs fail with LiteRT's exception, caught (backends/tflite/guard.cc); it refuses the same model
// from a client, by AI.MODELSTORE and by RESTORE; and its replica takes the first server's models, from the
// RDB and from the stream.
func TestTFLiteTrialTrustsRedis(t *testing.T) {
	t.Parallel()
	throws, _ := tfliteTestdata(t, "throws.tflite")
	dense, dm := tfliteTestdata(t, "dense.tflite")
	first := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", untriedBackends(t)}})
	fc := first.Conn(t)
	expectOK(t, fc, "AI.MODELSTORE", "m", "TFLITE", "CPU", "BLOB", throws)
	expectOK(t, fc, "AI.MODELSTORE", "d", "TFLITE", "CPU", "BLOB", dense)
	dump := do(t, fc, "DUMP", "m").Str
	expectOK(t, fc, "SAVE")
	rdb, err := os.ReadFile(filepath.Join(first.Dir(), "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), rdb, 0o644); err != nil {
		t.Fatal(err)
	}
	s := redistest.Start(t, redistest.Options{Dir: dir})
	c := s.Conn(t)
	const threw = "ERR TFLITE: LiteRT failed: basic_string::_M_construct null not valid"
	run := execArgs("m", tfliteInputs(t, c, "m", dm.Cases[0]), []string{"out0", "out1"})
	expectErr(t, c, threw, run...)
	expectErr(t, c, threw+" (in an earlier run; store the model again)", run...)
	tfliteRun(t, c, "d", "d", dm.Cases[0], "loaded from the RDB file")
	expectErrPrefix(t, c, "ERR TFLITE model failed to run on zeros", "AI.MODELSTORE", "m2", "TFLITE", "CPU", "BLOB", throws)
	expectErr(t, c, "ERR Bad data format", "RESTORE", "m2", 0, dump)
	rc := redistest.Start(t, redistest.Options{Config: []string{"replicaof 127.0.0.1 " + strconv.Itoa(first.Port())}}).Conn(t)
	waitReplicaSynced(t, fc, rc)
	expectOK(t, fc, "AI.MODELSTORE", "m3", "TFLITE", "CPU", "BLOB", throws)
	waitReplicaSynced(t, fc, rc)
	expect(t, rc, resp.Int(2), "EXISTS", "m", "m3")
}

// TestTFLiteRunBeyondMemory: LiteRT sizes every tensor from the inputs' shapes, so a run on inputs larger than
// the model was tried on is tried first, within the memory left (backends/tflite/trial.go). tile.tflite and
// tile_sum.tflite (backends/tflite/testdata/make_tiles.py) tile a [1,10] input a million times, into their
// output or into an inner tensor: at [1,1000000] (4 MB sent) that is 4 TB, and the runs are refused with
// the server alive. Before the trial of runs, the kernel killed Redis (measured in a memory cgroup of 2 GiB;
// not run here on code without it). A larger input that fits runs, and so do smaller ones.
func TestTFLiteRunBeyondMemory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, name := range []string{"tile", "tile_sum"} {
		blob, _ := tfliteTestdata(t, name+".tflite")
		expectOK(t, c, "AI.MODELSTORE", name, "TFLITE", "CPU", "BLOB", blob)
	}
	ones := func(n int) []byte { return bytes.Repeat(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1)), n) }
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB", ones(10))
	expectOK(t, c, "AI.TENSORSET", "x20", "FLOAT", 1, 20, "BLOB", ones(20))
	expectOK(t, c, "AI.TENSORSET", "x5", "FLOAT", 1, 5, "BLOB", ones(5))
	expectOK(t, c, "AI.TENSORSET", "huge", "FLOAT", 1, 1_000_000, "BLOB", ones(1_000_000))

	const refused = "ERR TFLITE model failed to run on zeros of these inputs' shapes within the "
	for _, name := range []string{"tile", "tile_sum"} {
		expectErrContains(t, c, refused, "AI.MODELEXECUTE", name, "INPUTS", 1, "huge", "OUTPUTS", 1, "y")
		expect(t, c, resp.Int(0), "EXISTS", "y")
		expectPing(t, c)
	}

	for _, run := range []struct {
		in    string
		shape []int64
		sum   string
	}{{"x", []int64{1000, 10000}, "10000000"}, {"x20", []int64{1000, 20000}, "20000000"}, {"x5", []int64{1000, 5000}, "5000000"}} {
		expectOK(t, c, "AI.MODELEXECUTE", "tile", "INPUTS", 1, run.in, "OUTPUTS", 1, "y")
		expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("FLOAT"), resp.BulkString("shape"), resp.Ints(run.shape...)),
			"AI.TENSORGET", "y", "META")
		expectOK(t, c, "AI.MODELEXECUTE", "tile_sum", "INPUTS", 1, run.in, "OUTPUTS", 1, "s")
		expect(t, c, resp.Arr(resp.BulkString(run.sum)), "AI.TENSORGET", "s", "VALUES")
	}
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}

	// A run whose trial fails for its shapes, not for memory, answers LiteRT's own words, as the run in
	// Redis does once a larger run covers the shapes (the trial's answer blamed the memory left).
	dense, _ := tfliteTestdata(t, "dense.tflite")
	expectOK(t, c, "AI.MODELSTORE", "d", "TFLITE", "CPU", "BLOB", dense)
	expectOK(t, c, "AI.TENSORSET", "b7", "FLOAT", 7, 3)
	expectOK(t, c, "AI.TENSORSET", "a7", "FLOAT", 7, 2)
	expectOK(t, c, "AI.TENSORSET", "a1", "FLOAT", 1, 2)
	mismatched := execArgs("d", []string{"b7", "a1"}, []string{"z", "z2"})
	expectErr(t, c, "Failed to allocate tensors", mismatched...)
	expectOK(t, c, execArgs("d", []string{"b7", "a7"}, []string{"z", "z2"})...)
	expectErr(t, c, "Failed to allocate tensors", mismatched...)

	// Without the trial program, an output or inner tensor larger than the memory left is still refused
	// before LiteRT fills it: at LiteRT's call to the allocator (tensor/memory_guard.c), or for an output
	// by gorai's check of its size.
	u := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", untriedBackends(t)}})
	uc := u.Conn(t)
	for _, name := range []string{"tile", "tile_sum"} {
		blob, _ := tfliteTestdata(t, name+".tflite")
		expectOK(t, uc, "AI.MODELSTORE", name, "TFLITE", "CPU", "BLOB", blob)
	}
	expectOK(t, uc, "AI.TENSORSET", "huge", "FLOAT", 1, 1_000_000, "BLOB", ones(1_000_000))
	// Which comes first depends on when LiteRT sizes its tensors: "ERR TFLITE output of shape [1000
	// 1000000000]: could not allocate tensor", or LiteRT's "Failed to allocate tensors".
	expectErrContains(t, uc, "allocate tensor", "AI.MODELEXECUTE", "tile", "INPUTS", 1, "huge", "OUTPUTS", 1, "y")
	expectErr(t, uc, "Failed to allocate tensors", "AI.MODELEXECUTE", "tile_sum", "INPUTS", 1, "huge", "OUTPUTS", 1, "y")
	expectPing(t, uc)
	expectOK(t, uc, "AI.TENSORSET", "x20", "FLOAT", 1, 20, "BLOB", ones(20))
	expectOK(t, uc, "AI.MODELEXECUTE", "tile_sum", "INPUTS", 1, "x20", "OUTPUTS", 1, "s")
	expect(t, uc, resp.Arr(resp.BulkString("20000000")), "AI.TENSORGET", "s", "VALUES")
}
