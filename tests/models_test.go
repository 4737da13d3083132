package tests

// Model commands against a real server: AI.MODELSTORE / MODELSET / MODELGET /
// MODELDEL / MODELEXECUTE / MODELRUN / _MODELSCAN, AI.INFO and AI.CONFIG with
// the ONNX backend. Models: RedisAI's own test models in
// testdata/redisai (mnist.onnx, linear_iris.onnx, one.png) and the
// scikit-learn models committed in python/models (kmeans.onnx has two outputs,
// random_forest.onnx takes any batch size).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/backends/onnx/onnxtest"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

const (
	errModelEmpty      = "ERR model key is empty"
	errInTransaction   = "ERR Cannot run RedisAI command within a transaction or a LUA script"
	errInvalidDevice   = "ERR Invalid DEVICE"
	errInputsMismatch  = "Number of keys given as INPUTS here does not match model definition"
	errOutputsMismatch = "Number of keys given as OUTPUTS here does not match model definition"
	errNoRunInfo       = "ERR cannot find run info for key"
	errExecuteArity    = "ERR wrong number of arguments for 'AI.MODELEXECUTE' command"
	errModelRunArity   = "ERR wrong number of arguments for 'AI.MODELRUN' command"
	errMissingBlob     = "ERR Insufficient arguments, missing model BLOB"
	errLoadBackend     = "ERR Could not load backend"
	// RedisAI's default MODEL_CHUNK_SIZE, 511 MiB.
	defaultChunkSize = 511 * 1024 * 1024
)

// arityErr is RedisModule_WrongArity's text on Redis 7.0: the registered (lower-case) name.
func arityErr(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// ---------------------------------------------------------------------------
// fixtures

// redisaiFixture reads testdata/redisai/<name> (RedisAI's fixtures, shipped in
// the repository); a missing one fails the test.
func redisaiFixture(t testing.TB, name string) []byte {
	t.Helper()
	p := filepath.Join(redistest.RepoRoot(), "testdata", "redisai", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("RedisAI model fixture missing (testdata/redisai is part of the repository): %v", err)
	}
	return b
}

// madeFixture reads testdata/<name>, a model shipped with maker, the script under testdata that
// made it; a missing one fails the test.
func madeFixture(t testing.TB, name, maker string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "testdata", name))
	if err != nil {
		t.Fatalf("testdata/%s (made by testdata/%s) is missing: %v", name, maker, err)
	}
	return b
}

// testModel reads a model or array committed under tests/python/models.
func testModel(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "tests", "python", "models", name))
	if err != nil {
		t.Fatalf("committed test model missing (regenerate with tests/python/make_sklearn_models.py): %v", err)
	}
	return b
}

// mnistInput decodes one.png into float32 pixels (0..255), shape [1,1,28,28].
func mnistInput(t testing.TB) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(redisaiFixture(t, "one.png")))
	if err != nil {
		t.Fatalf("decode one.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 28 || b.Dy() != 28 {
		t.Fatalf("one.png is %v, want 28x28", b)
	}
	return pixelsF32(img)
}

func pixelsF32(img image.Image) []byte {
	b := img.Bounds()
	out := make([]byte, 0, 4*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(g)))
		}
	}
	return out
}

// f32s encodes float32 values little-endian.
func f32s(vs ...float32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// decodeF32 decodes a little-endian float32 blob.
func decodeF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func argmax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// npyData returns the raw data of a little-endian .npy file (version 1 or 2) and its header.
func npyData(t testing.TB, b []byte) ([]byte, string) {
	t.Helper()
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		t.Fatalf("not a .npy file")
	}
	var hlen, start int
	if b[6] == 1 {
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	return b[start+hlen:], string(b[start : start+hlen])
}

// ---------------------------------------------------------------------------
// expected replies

func modelMeta(backend, device, tag string, batch, minBatch, minBatchTimeout int64, inputs, outputs []string) resp.Value {
	b := resp.BulkString
	return resp.Arr(
		b("backend"), b(backend),
		b("device"), b(device),
		b("tag"), b(tag),
		b("batchsize"), resp.Int(batch),
		b("minbatchsize"), resp.Int(minBatch),
		b("inputs"), resp.BulkStrings(inputs...),
		b("outputs"), resp.BulkStrings(outputs...),
		b("minbatchtimeout"), resp.Int(minBatchTimeout),
	)
}

func withBlob(meta resp.Value, blob resp.Value) resp.Value {
	m := meta
	m.Elems = append(append([]resp.Value(nil), meta.Elems...), resp.BulkString("blob"), blob)
	return m
}

var (
	mnistInputs  = []string{"Input3"}
	mnistOutputs = []string{"Plus214_Output_0"}
	irisInputs   = []string{"float_input"}
	irisOutputs  = []string{"variable"}
)

// runInfo is the AI.INFO reply. duration < 0 stands for "any positive value"
// (see expectRunInfo).
func runInfo(key, backend, device, tag string, duration, samples, calls, errors int64) resp.Value {
	b := resp.BulkString
	return resp.Arr(
		b("key"), b(key),
		b("type"), b("MODEL"),
		b("backend"), b(backend),
		b("device"), b(device),
		b("tag"), b(tag),
		b("duration"), resp.Int(duration),
		b("samples"), resp.Int(samples),
		b("calls"), resp.Int(calls),
		b("errors"), resp.Int(errors),
	)
}

// expectRunInfo compares AI.INFO key with want; a negative duration in want
// accepts any positive duration.
func expectRunInfo(t *testing.T, c *resp.Conn, want resp.Value, args ...any) bool {
	t.Helper()
	got := do(t, c, append([]any{"AI.INFO"}, args...)...)
	w := want
	if len(want.Elems) == 18 && want.Elems[11].Int < 0 {
		w.Elems = append([]resp.Value(nil), want.Elems...)
		if got.Kind == resp.Array && len(got.Elems) == 18 && got.Elems[11].Kind == resp.Integer && got.Elems[11].Int > 0 {
			w.Elems[11] = got.Elems[11]
		}
	}
	if !resp.Equal(got, w) {
		t.Errorf("AI.INFO %s\n   got: %v\n  want: %v (duration < 0: any positive)", fmtArgs(args), got, want)
		return false
	}
	return true
}

// ---------------------------------------------------------------------------
// helpers for running

func storeArgs(key, backend, device string, blob []byte, opts ...any) []any {
	args := []any{"AI.MODELSTORE", key, backend, device}
	args = append(args, opts...)
	return append(args, "BLOB", blob)
}

func setMnistInput(t *testing.T, c *resp.Conn, key string, in []byte) {
	t.Helper()
	if !expectOK(t, c, "AI.TENSORSET", key, "FLOAT", "1", "1", "28", "28", "BLOB", in) {
		t.FailNow()
	}
}

func execArgs(model string, inputs, outputs []string, extra ...any) []any {
	args := []any{"AI.MODELEXECUTE", model, "INPUTS", len(inputs)}
	for _, k := range inputs {
		args = append(args, k)
	}
	args = append(args, "OUTPUTS", len(outputs))
	for _, k := range outputs {
		args = append(args, k)
	}
	return append(args, extra...)
}

// checkMnistOutput checks out is FLOAT [1,10] with the arg-max at 1.
func checkMnistOutput(t *testing.T, c *resp.Conn, key string) bool {
	t.Helper()
	got := do(t, c, "AI.TENSORGET", key, "META", "BLOB")
	b := resp.BulkString
	if got.Kind != resp.Array || len(got.Elems) != 6 || !resp.Equal(resp.Arr(got.Elems[:4]...), resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 10))) ||
		got.Elems[5].Kind != resp.Bulk || len(got.Elems[5].Str) != 40 {
		t.Errorf("AI.TENSORGET %q META BLOB: got %v, want FLOAT [1,10] with a 40-byte blob", key, got)
		return false
	}
	scores := decodeF32(got.Elems[5].Str)
	if am := argmax(scores); am != 1 {
		t.Errorf("mnist on one.png: arg-max %d, want 1 (scores %v)", am, scores)
		return false
	}
	return true
}

// ---------------------------------------------------------------------------
// tests

// TestModelMnist: RedisAI's mnist.onnx on one.png gives 1.
func TestModelMnist(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	in := mnistInput(t)
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expect(t, c, resp.Simple("AI__MODEL"), "TYPE", "m")
	setMnistInput(t, c, "in", in)
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	// the input is untouched
	expect(t, c, resp.BulkBytes(in), "AI.TENSORGET", "in", "BLOB")

	// an existing output tensor of another type is replaced
	expectOK(t, c, "AI.TENSORSET", "out2", "INT8", "1")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out2"}, "TIMEOUT", "60000")...)
	checkMnistOutput(t, c, "out2")

	// the same key as input and output
	setMnistInput(t, c, "x", in)
	expectOK(t, c, execArgs("m", []string{"x"}, []string{"x"})...)
	checkMnistOutput(t, c, "x")

	// keywords and backend are case-insensitive; the device is kept as typed
	expectOK(t, c, "ai.modelstore", "m2", "onnx", "cpu", "blob", mnist)
	expect(t, c, modelMeta("ONNX", "cpu", "", 0, 0, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "m2", "META")
	expectOK(t, c, "ai.modelexecute", "m2", "inputs", "1", "in", "outputs", "1", "out3", "timeout", "1000")
	checkMnistOutput(t, c, "out3")

	// CPU:<n> is another CPU queue
	expectOK(t, c, storeArgs("m3", "ONNX", "CPU:1", mnist)...)
	expectOK(t, c, execArgs("m3", []string{"in"}, []string{"out4"})...)
	checkMnistOutput(t, c, "out4")
	expect(t, c, modelMeta("ONNX", "CPU:1", "", 0, 0, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "m3", "META")

	// the pixels divided by 255 give the same answer
	scaled := decodeF32(in)
	for i := range scaled {
		scaled[i] /= 255
	}
	setMnistInput(t, c, "in255", f32s(scaled...))
	expectOK(t, c, execArgs("m", []string{"in255"}, []string{"out5"})...)
	checkMnistOutput(t, c, "out5")
}

// TestModelLinearIris: linear_iris.onnx on [[5.1,3.5,1.4,0.2]] gives exactly
// float32 -0.090524077415466309 (ONNX Runtime and RedisAI agree).
func TestModelLinearIris(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", iris)...)
	expect(t, c, modelMeta("ONNX", "CPU", "", 0, 0, 0, irisInputs, irisOutputs), "AI.MODELGET", "iris", "META")
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectOK(t, c, execArgs("iris", []string{"in"}, []string{"out"})...)
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 1), b("values"), resp.BulkStrings("-0.090524077415466309")),
		"AI.TENSORGET", "out", "META", "VALUES")
	expect(t, c, resp.BulkBytes(f32s(float32(-0.090524077415466309))), "AI.TENSORGET", "out", "BLOB")
	// the same through BLOB input and the deprecated MODELRUN
	expectOK(t, c, "AI.TENSORSET", "in2", "FLOAT", "1", "4", "BLOB", f32s(5.1, 3.5, 1.4, 0.2))
	expectOK(t, c, "AI.MODELRUN", "iris", "INPUTS", "in2", "OUTPUTS", "out2")
	expect(t, c, resp.BulkStrings("-0.090524077415466309"), "AI.TENSORGET", "out2", "VALUES")
}

// TestModelKMeansTwoOutputs: a model with two outputs of different dtypes.
func TestModelKMeansTwoOutputs(t *testing.T) {
	t.Parallel()
	km := testModel(t, "kmeans.onnx")
	X, _ := npyData(t, testModel(t, "kmeans_X.npy"))
	labels, _ := npyData(t, testModel(t, "kmeans_labels.npy"))
	transform, _ := npyData(t, testModel(t, "kmeans_transform.npy"))
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	expectOK(t, c, storeArgs("km", "ONNX", "CPU", km, "TAG", "kmeans")...)
	expect(t, c, modelMeta("ONNX", "CPU", "kmeans", 0, 0, 0, []string{"X"}, []string{"label", "scores"}), "AI.MODELGET", "km", "META")
	expectOK(t, c, "AI.TENSORSET", "X", "FLOAT", "10", "2", "BLOB", X)
	expectOK(t, c, execArgs("km", []string{"X"}, []string{"labels", "transform"})...)
	expect(t, c, resp.Arr(b("dtype"), b("INT64"), b("shape"), resp.Ints(10), b("blob"), resp.BulkBytes(labels)), "AI.TENSORGET", "labels", "META", "BLOB")
	got := do(t, c, "AI.TENSORGET", "transform", "META", "BLOB")
	if got.Kind != resp.Array || len(got.Elems) != 6 || !resp.Equal(resp.Arr(got.Elems[:4]...), resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(10, 2))) {
		t.Fatalf("transform: %v", got)
	}
	g, w := decodeF32(got.Elems[5].Str), decodeF32(transform)
	for i := range w {
		if math.Abs(float64(g[i]-w[i])) > 1e-5 {
			t.Errorf("transform[%d] = %v, scikit-learn %v", i, g[i], w[i])
		}
	}
	expectRunInfo(t, c, runInfo("km", "ONNX", "CPU", "kmeans", -1, 10, 1, 0), "km")
}

// TestONNXHandedOverOutputs: an output that is a graph input, or that the graph lists again, is what
// ONNX Runtime gives (the input; the value of the last listing), at every batch size. It came back
// as zeros: ORT hands such an output another value than the tensor gorai gave it to write into.
func TestONNXHandedOverOutputs(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", onnxtest.HandedOver())...)
	for _, rows := range []int{2, 1, 3} {
		var x, negX []string
		for i := 1; i <= 3*rows; i++ {
			x, negX = append(x, fmt.Sprint(i)), append(negX, fmt.Sprint(-i))
		}
		args := []any{"AI.TENSORSET", "x", "FLOAT", rows, 3, "VALUES"}
		for _, v := range x {
			args = append(args, v)
		}
		expectOK(t, c, args...)
		expectOK(t, c, execArgs("m", []string{"x"}, []string{"y1", "x1", "y2"})...)
		for key, want := range map[string][]string{"y1": negX, "x1": x, "y2": negX} {
			expect(t, c, resp.BulkStrings(want...), "AI.TENSORGET", key, "VALUES")
		}
	}
}

// TestONNXScalarInSomeRuns: an output of no declared shape that is a scalar in some runs only
// (Squeeze of [1]) is right in every run. After a [1] run, every [3] run failed with ORT's
// "pre-allocated output has shape {}".
func TestONNXScalarInSomeRuns(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	b := resp.BulkString
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", onnxtest.Squeeze())...)
	expectOK(t, c, "AI.TENSORSET", "three", "FLOAT", 3, "VALUES", 1, 2, 3)
	expectOK(t, c, "AI.TENSORSET", "one", "FLOAT", 1, "VALUES", 7)
	for _, in := range []string{"three", "one", "three", "one", "three"} {
		want := resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(3), b("values"), resp.BulkStrings("1", "2", "3"))
		if in == "one" {
			want = resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(), b("values"), resp.BulkStrings("7"))
		}
		expectOK(t, c, execArgs("m", []string{in}, []string{"y"})...)
		expect(t, c, want, "AI.TENSORGET", "y", "META", "VALUES")
	}
}

// TestONNXScalarBesideTensor: a scalar output beside an output of no declared shape that is not one
// comes back right, as do both in runs from many clients at once. The binding made no Go value of a
// scalar, so gorai guessed which outputs were scalars: every output of no declared shape, which failed
// every such run ("The shape has no dimensions"), and one client's guess raced another's run.
func TestONNXScalarBesideTensor(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", onnxtest.SqueezeAndNeg())...)
	expectOK(t, c, "AI.TENSORSET", "one", "FLOAT", 1, "VALUES", 7)
	expectOK(t, c, "AI.TENSORSET", "three", "FLOAT", 3, "VALUES", 1, 2, 3)
	scalar := resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(), b("values"), resp.BulkStrings("7"))
	negated := resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(3), b("values"), resp.BulkStrings("-1", "-2", "-3"))
	expectOK(t, c, execArgs("m", []string{"one", "three"}, []string{"y", "z"})...)
	expect(t, c, scalar, "AI.TENSORGET", "y", "META", "VALUES")
	expect(t, c, negated, "AI.TENSORGET", "z", "META", "VALUES")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.Conn(t)
			in := []string{"one", "three"}[i%2]
			for range 200 {
				if v := do(t, c, execArgs("m", []string{in, "three"}, []string{"y" + in, "z" + in})...); v.IsError() {
					t.Errorf("a run on %s: %v", in, v)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestONNXDivisionFault: an ONNX Div of INT64 -2^63 by -1, which the processor faults on (SIGFPE: Redis
// died of it), fails its run, on a worker, on Redis' main thread, and on ONNX Runtime's intra-op threads
// (INTRA_OP_PARALLELISM 2 and a million elements: Redis died of it there while the run's own thread was
// guarded); the server answers, and the model runs on.
func TestONNXDivisionFault(t *testing.T) {
	t.Parallel()
	const int64Type = 7
	const failed = "ERR ONNX run failed: an integer division by zero or overflow (SIGFPE in ONNX Runtime)"
	div := onnxtest.Binary("Div", int64Type)
	int64s := func(n int, v int64) []byte {
		return bytes.Repeat(binary.LittleEndian.AppendUint64(nil, uint64(v)), n)
	}
	for _, threads := range []string{"1", "2"} {
		c := redistest.Start(t, redistest.Options{ModuleArgs: []string{"INTRA_OP_PARALLELISM", threads}}).Conn(t)
		n := map[string]int{"1": 1, "2": 1 << 20}[threads]
		expectOK(t, c, "AI.TENSORSET", "min", "INT64", n, "BLOB", int64s(n, math.MinInt64))
		expectOK(t, c, "AI.TENSORSET", "minus1", "INT64", n, "BLOB", int64s(n, -1))
		expectOK(t, c, "AI.TENSORSET", "two", "INT64", n, "BLOB", int64s(n, 2))
		expectOK(t, c, storeArgs("d", "ONNX", "CPU", div)...)
		for _, short := range []int{0, 50} { // after 50 short runs, a run like them is made on Redis' main thread
			for range short {
				expectOK(t, c, execArgs("d", []string{"two", "two"}, []string{"q"})...)
			}
			expectErr(t, c, failed, execArgs("d", []string{"min", "minus1"}, []string{"q" + threads})...)
			expect(t, c, resp.Int(0), "EXISTS", "q"+threads)
			expectPing(t, c)
			expectOK(t, c, execArgs("d", []string{"min", "two"}, []string{"q"})...)
			expect(t, c, resp.BulkBytes(int64s(n, math.MinInt64/2)), "AI.TENSORGET", "q", "BLOB")
		}
	}
}

// TestModelGet: MODELGET reply layouts.
func TestModelGet(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist, "TAG", "my tag", "BATCHSIZE", "4", "MINBATCHSIZE", "2", "MINBATCHTIMEOUT", "7")...)
	meta := modelMeta("ONNX", "CPU", "my tag", 4, 2, 7, mnistInputs, mnistOutputs)
	full := withBlob(meta, resp.BulkBytes(mnist))
	expect(t, c, meta, "AI.MODELGET", "m", "META")
	expect(t, c, meta, "AI.MODELGET", "m", "meta")
	expect(t, c, meta, "AI.MODELGET", "m", "META", "FOO") // unknown arguments are ignored
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "m", "BLOB")
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "m", "blob")
	expect(t, c, full, "AI.MODELGET", "m")
	expect(t, c, full, "AI.MODELGET", "m", "META", "BLOB")
	expect(t, c, full, "AI.MODELGET", "m", "BLOB", "META")

	// MODELSET stores the same options
	expectOK(t, c, "AI.MODELSET", "ms", "ONNX", "CPU", "TAG", "t", "BATCHSIZE", "3", "MINBATCHSIZE", "1", "BLOB", mnist)
	expect(t, c, modelMeta("ONNX", "CPU", "t", 3, 1, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "ms", "META")

	// errors
	expectErr(t, c, arityErr("ai.modelget"), "AI.MODELGET")
	expectErr(t, c, arityErr("ai.modelget"), "AI.MODELGET", "m", "META", "BLOB", "X")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "nokey")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "nokey", "META")
	expectOK(t, c, "AI.TENSORSET", "tn", "FLOAT", "1")
	expectOK(t, c, "SET", "str", "x")
	expectErr(t, c, errWrongType, "AI.MODELGET", "tn", "META")
	expectErr(t, c, errWrongType, "AI.MODELGET", "str")
	// and the other way round
	expectErr(t, c, errWrongType, "AI.TENSORGET", "m")
	expectErr(t, c, errWrongType, "GET", "m")
}

// TestModelChunking: MODELGET BLOB is split by MODEL_CHUNK_SIZE (len >= size:
// len/size+1 chunks, so an exact multiple ends with an empty chunk), and the
// BLOB of MODELSTORE/MODELSET may come in several chunks.
func TestModelChunking(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expect(t, c, resp.Int(defaultChunkSize), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
	expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", iris)...)

	chunks := func(blob []byte, sizes ...int) resp.Value {
		var vs []resp.Value
		off := 0
		for _, n := range sizes {
			vs = append(vs, resp.BulkBytes(blob[off:off+n]))
			off += n
		}
		if off != len(blob) {
			panic("chunk sizes do not add up")
		}
		return resp.Arr(vs...)
	}
	cases := []struct {
		key   string
		blob  []byte
		chunk int
		want  resp.Value
	}{
		// redisai-py's test_config: len//3 gives 4 chunks (277 = 3*92 + 1)
		{"iris", iris, len(iris) / 3, chunks(iris, 92, 92, 92, 1)},
		// 26454 = 3*8818: an exact multiple ends with an empty chunk
		{"mnist", mnist, len(mnist) / 3, chunks(mnist, 8818, 8818, 8818, 0)},
		{"iris", iris, 100, chunks(iris, 100, 100, 77)},
		{"iris", iris, len(iris), chunks(iris, len(iris), 0)},
		{"iris", iris, len(iris) + 1, resp.BulkBytes(iris)},
		{"mnist", mnist, 1 << 20, resp.BulkBytes(mnist)},
	}
	meta := map[string]resp.Value{
		"iris":  modelMeta("ONNX", "CPU", "", 0, 0, 0, irisInputs, irisOutputs),
		"mnist": modelMeta("ONNX", "CPU", "", 0, 0, 0, mnistInputs, mnistOutputs),
	}
	for _, tc := range cases {
		expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", tc.chunk)
		expect(t, c, resp.Int(int64(tc.chunk)), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
		expect(t, c, tc.want, "AI.MODELGET", tc.key, "BLOB")
		expect(t, c, withBlob(meta[tc.key], tc.want), "AI.MODELGET", tc.key)
		expect(t, c, meta[tc.key], "AI.MODELGET", tc.key, "META")
	}
	expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", defaultChunkSize)

	// several BLOB chunks at store time (one of them empty) are concatenated
	parts := []any{mnist[:1000], mnist[1000:1001], []byte{}, mnist[1001:20000], mnist[20000:]}
	expectOK(t, c, append([]any{"AI.MODELSTORE", "chunked", "ONNX", "CPU", "TAG", "c", "BLOB"}, parts...)...)
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "chunked", "BLOB")
	expectOK(t, c, append([]any{"AI.MODELSET", "chunked2", "ONNX", "CPU", "BLOB"}, parts...)...)
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "chunked2", "BLOB")
	setMnistInput(t, c, "in", mnistInput(t))
	for _, m := range []string{"chunked", "chunked2"} {
		expectOK(t, c, execArgs(m, []string{"in"}, []string{"out:" + m})...)
		checkMnistOutput(t, c, "out:"+m)
	}
}

// TestModelDel: MODELDEL and plain DEL remove the model and its run info.
func TestModelDel(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "AI.MODELDEL", "m")
	expect(t, c, resp.Int(0), "EXISTS", "m")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "m")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "m", "META")
	expectErr(t, c, errModelEmpty, "AI.MODELDEL", "m")
	expectErr(t, c, errModelEmpty, execArgs("m", []string{"in"}, []string{"out"})...)
	expectErr(t, c, errNoRunInfo, "AI.INFO", "m")
	expect(t, c, resp.Arr(), "AI._MODELSCAN")

	// plain DEL does the same
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expect(t, c, resp.Int(1), "DEL", "m")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "m", "BLOB")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "m")
	expect(t, c, resp.Arr(), "AI._MODELSCAN")

	// wrong types and arity
	expectOK(t, c, "SET", "str", "x")
	expectErr(t, c, errWrongType, "AI.MODELDEL", "in")
	expectErr(t, c, errWrongType, "AI.MODELDEL", "str")
	expectErr(t, c, arityErr("ai.modeldel"), "AI.MODELDEL")
	expectErr(t, c, arityErr("ai.modeldel"), "AI.MODELDEL", "a", "b")
	expect(t, c, resp.BulkString("x"), "GET", "str")
	expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", "in")
}

type modelErrorCase struct {
	args []any // after AI.MODELSTORE <key> (or AI.MODELSET <key>)
	want string
}

// TestModelStoreErrors: every AI.MODELSTORE error text of the spec, exactly;
// a failed store creates nothing and leaves an existing model as it was.
func TestModelStoreErrors(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	graph := redisaiFixture(t, "graph.pb")
	s := startServer(t)
	c := s.Conn(t)
	x := []byte("x")
	cases := []modelErrorCase{
		{[]any{}, arityErr("ai.modelstore")},
		{[]any{"ONNX", "CPU", "BLOB"}, arityErr("ai.modelstore")},
		{[]any{"TORCH", "BLOB", x}, arityErr("ai.modelstore")},
		{[]any{"FOO", "CPU", "BLOB", mnist}, "ERR unsupported backend"},
		{[]any{"ONNXX", "CPU", "BLOB", mnist}, "ERR unsupported backend"},
		{[]any{"", "CPU", "BLOB", mnist}, "ERR unsupported backend"},
		{[]any{"ONNX", "bad_device", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "CPU::", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "CPU:1.8", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "CPU:123456", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "GPU:x", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "foo", "BLOB", mnist}, "ERR Invalid argument for BATCHSIZE"},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "-1", "BLOB", mnist}, "ERR Invalid argument for BATCHSIZE"},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "2", "MINBATCHSIZE", "foo", "BLOB", mnist}, "ERR Invalid argument for MINBATCHSIZE"},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "2", "MINBATCHSIZE", "1", "MINBATCHTIMEOUT", "foo", "BLOB", mnist}, "ERR Invalid argument for MINBATCHTIMEOUT"},
		{[]any{"ONNX", "CPU", "MINBATCHSIZE", "2", "BLOB", mnist}, "ERR MINBATCHSIZE specified without BATCHSIZE"},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "0", "MINBATCHSIZE", "2", "BLOB", mnist}, "ERR MINBATCHSIZE specified without BATCHSIZE"},
		{[]any{"ONNX", "CPU", "BATCHSIZE", "2", "MINBATCHTIMEOUT", "5", "BLOB", mnist}, "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"},
		{[]any{"ONNX", "CPU", "TAG", "t", "BATCHSIZE", "2"}, errMissingBlob},
		{[]any{"ONNX", "CPU", "TAG", "t", "BLOB"}, errMissingBlob},
		{[]any{"ONNX", "CPU", "TAG", "t", "NOTBLOB", mnist}, "ERR Invalid argument, expected BLOB"},
		// the option order is fixed: TAG after BATCHSIZE is not an option any more
		{[]any{"ONNX", "CPU", "BATCHSIZE", "2", "TAG", "t", "BLOB", mnist}, "ERR Invalid argument, expected BLOB"},
		{[]any{"ONNX", "CPU", "INPUTS", "1", "a", "OUTPUTS", "1", "b", "BLOB", mnist}, "ERR INPUTS argument should not be specified for this backend"},
		// TF's INPUTS/OUTPUTS are parsed before the backend is needed
		{[]any{"TF", "CPU", "BLOB", graph}, "ERR INPUTS not specified for TF"},
		{[]any{"TF", "CPU", "INPUTS", "0", "OUTPUTS", "1", "c", "BLOB", graph}, "ERR Invalid argument for input_count"},
		{[]any{"TF", "CPU", "INPUTS", "x", "a", "OUTPUTS", "1", "c", "BLOB", graph}, "ERR Invalid argument for input_count"},
		{[]any{"TF", "CPU", "INPUTS", "5", "a", "b"}, "ERR number of model inputs does not match the number of given arguments"},
		{[]any{"TF", "CPU", "INPUTS", "1", "a", "BLOB", graph}, "ERR OUTPUTS not specified for TF"},
		{[]any{"TF", "CPU", "INPUTS", "1", "a", "OUTPUTS", "0", "BLOB", graph}, "ERR Invalid argument for output_count"},
		{[]any{"TF", "CPU", "INPUTS", "1", "a", "OUTPUTS", "3", "c"}, "ERR number of model outputs does not match the number of given arguments"},
		// a blob that is no TF Lite flatbuffer: RedisAI's text
		{[]any{"TFLITE", "CPU", "BLOB", x}, "Failed to load model from buffer"},
		// TF: a graph without the named nodes, and a blob that is no graph
		{[]any{"TF", "CPU", "INPUTS", "2", "a", "z", "OUTPUTS", "1", "c", "BLOB", graph}, `ERR Input node named "z" not found in TF graph.`},
		{[]any{"TF", "CPU", "INPUTS", "1", "a", "OUTPUTS", "1", "q", "BLOB", graph}, `ERR Output node named "q" not found in TF graph`},
		{[]any{"TF", "CPU", "INPUTS", "1", "a", "OUTPUTS", "1", "c", "BLOB", x}, "Invalid GraphDef"},
		// a blob that is no TorchScript: libtorch's own message (1.13 and 2.15 word it alike)
		{[]any{"TORCH", "CPU", "BLOB", x}, "istream reader failed: getting the current position."},
	}
	expectOK(t, c, storeArgs("keep", "ONNX", "CPU", mnist, "TAG", "kept")...)
	keepMeta := modelMeta("ONNX", "CPU", "kept", 0, 0, 0, mnistInputs, mnistOutputs)
	for _, ec := range cases {
		for _, key := range []string{"fresh", "keep"} {
			expectErr(t, c, ec.want, append([]any{"AI.MODELSTORE", key}, ec.args...)...)
		}
	}
	expect(t, c, resp.Int(0), "EXISTS", "fresh")
	expect(t, c, withBlob(keepMeta, resp.BulkBytes(mnist)), "AI.MODELGET", "keep")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "fresh")

	// ONNX Runtime without CUDA
	expectErr(t, c, "ERR GPU requested but ONNX couldn't find CUDA", storeArgs("gpu", "ONNX", "GPU", mnist)...)
	expectErr(t, c, "ERR GPU requested but ONNX couldn't find CUDA", storeArgs("gpu", "ONNX", "GPU:0", mnist)...)
	expect(t, c, resp.Int(0), "EXISTS", "gpu")

	// valid device spellings
	for _, dev := range []string{"CPU", "cpu", "CPU:0", "CPU:12345", "cpu:7"} {
		expectOK(t, c, storeArgs("dev", "ONNX", dev, mnist)...)
		expect(t, c, modelMeta("ONNX", dev, "", 0, 0, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "dev", "META")
	}

	// a key of another type: WRONGTYPE, and nothing changes
	expectOK(t, c, "SET", "str", "v")
	expectOK(t, c, "AI.TENSORSET", "tn", "INT8", "1")
	expectErr(t, c, errWrongType, storeArgs("str", "ONNX", "CPU", mnist)...)
	expectErr(t, c, errWrongType, storeArgs("tn", "ONNX", "CPU", mnist)...)
	expect(t, c, resp.BulkString("v"), "GET", "str")
	expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", "tn")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "str")
	expectPing(t, c)
}

// TestModelStoreBadBlobs: garbage and truncated models give an error reply
// (ONNX Runtime's text) and the server lives on.
func TestModelStoreBadBlobs(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("keep", "ONNX", "CPU", mnist)...)
	bad := map[string][]byte{
		"garbage":        []byte("this is not an ONNX model"),
		"empty":          {},
		"truncated-half": mnist[:len(mnist)/2],
		"truncated-end":  mnist[:len(mnist)-1],
		"random":         bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x01}, 4096),
	}
	names := make([]string, 0, len(bad))
	for n := range bad {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, key := range []string{"bad", "keep"} {
			got := do(t, c, storeArgs(key, "ONNX", "CPU", bad[name])...)
			if got.Kind != resp.Error || len(got.Str) == 0 || bytes.ContainsAny(got.Str, "\r\n") {
				t.Errorf("AI.MODELSTORE %s ONNX CPU BLOB <%s>: got %v, want a one-line error reply", key, name, got)
			} else {
				t.Logf("%s: %s", name, got.Text())
			}
			expectPing(t, c)
		}
	}
	// a backend error comes before WRONGTYPE (the key is checked after the model was built)
	expectOK(t, c, "SET", "str", "v")
	got := do(t, c, storeArgs("str", "ONNX", "CPU", bad["garbage"])...)
	if got.Kind != resp.Error || strings.HasPrefix(got.Text(), "WRONGTYPE") {
		t.Errorf("AI.MODELSTORE str ONNX CPU BLOB <garbage> on a string key: got %v, want the backend's error (not WRONGTYPE)", got)
	}
	expect(t, c, resp.Int(0), "EXISTS", "bad")
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "keep", "BLOB")
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("keep", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
}

// TestModelSetDeprecated: AI.MODELSET (no counts, lax device check).
func TestModelSetDeprecated(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "AI.MODELSET", "m", "ONNX", "CPU", "BLOB", mnist)
	expect(t, c, withBlob(modelMeta("ONNX", "CPU", "", 0, 0, 0, mnistInputs, mnistOutputs), resp.BulkBytes(mnist)), "AI.MODELGET", "m")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, 1, 1, 0), "m")

	// the device is not validated beyond its length and keywords
	expectOK(t, c, "AI.MODELSET", "m2", "ONNX", "CPU:1.8", "BLOB", mnist)
	expect(t, c, modelMeta("ONNX", "CPU:1.8", "", 0, 0, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "m2", "META")
	expectOK(t, c, execArgs("m2", []string{"in"}, []string{"out2"})...)
	checkMnistOutput(t, c, "out2")
	// for non-TF backends, tokens between the options and BLOB are ignored
	expectOK(t, c, "AI.MODELSET", "m3", "ONNX", "CPU", "TAG", "t", "BATCHSIZE", "2", "MINBATCHSIZE", "1", "junk", "more", "BLOB", mnist)
	expect(t, c, modelMeta("ONNX", "CPU", "t", 2, 1, 0, mnistInputs, mnistOutputs), "AI.MODELGET", "m3", "META")

	cases := []modelErrorCase{
		{[]any{}, arityErr("ai.modelset")},
		{[]any{"ONNX"}, arityErr("ai.modelset")},
		{[]any{"ONNX", "CPU"}, errMissingBlob},
		{[]any{"FOO", "CPU", "BLOB", mnist}, "ERR unsupported backend"},
		{[]any{"ONNX", "ABCDEFGHIJK", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "TAG", "t", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "INPUTS", "BLOB", mnist}, errInvalidDevice},
		{[]any{"ONNX", "CPU", "NOT_BLOB", mnist}, errMissingBlob},
		{[]any{"ONNX", "CPU", "TAG", "t"}, errMissingBlob},
		{[]any{"ONNX", "CPU", "MINBATCHTIMEOUT", "5", "BLOB", mnist}, "ERR MINBATCHTIMEOUT specified without BATCHSIZE"},
		{[]any{"TF", "CPU", "BLOB", mnist}, "ERR Insufficient arguments, INPUTS and OUTPUTS not specified"},
		{[]any{"TFLITE", "CPU", "BATCHSIZE", "2", "BLOB", mnist}, "ERR Auto-batching not supported by the TFLITE backend"},
	}
	for _, ec := range cases {
		expectErr(t, c, ec.want, append([]any{"AI.MODELSET", "fresh"}, ec.args...)...)
	}
	expect(t, c, resp.Int(0), "EXISTS", "fresh")
}

// TestModelExecuteErrors: every AI.MODELEXECUTE / AI.MODELRUN error text of the spec, exactly.
func TestModelExecuteErrors(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	km := testModel(t, "kmeans.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("km", "ONNX", "CPU", km)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "SET", "str", "v")
	cases := []struct {
		args []any
		want string
	}{
		{[]any{"AI.MODELEXECUTE"}, errExecuteArity},
		{[]any{"AI.MODELEXECUTE", "m"}, errExecuteArity},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1"}, errExecuteArity},
		{[]any{"ai.modelexecute", "m", "INPUTS", "1", "in", "OUTPUTS"}, errExecuteArity},
		// the model is looked up first
		{[]any{"AI.MODELEXECUTE", "nokey", "FOO", "1", "in", "OUTPUTS", "1", "out"}, errModelEmpty},
		{[]any{"AI.MODELEXECUTE", "in", "INPUTS", "1", "in", "OUTPUTS", "1", "out"}, errWrongType},
		{[]any{"AI.MODELEXECUTE", "str", "INPUTS", "1", "in", "OUTPUTS", "1", "out"}, errWrongType},
		{[]any{"AI.MODELEXECUTE", "m", "FOO", "1", "in", "OUTPUTS", "1", "out"}, "ERR INPUTS not specified"},
		{[]any{"AI.MODELEXECUTE", "m", "TIMEOUT", "5", "INPUTS", "1", "in", "OUTPUTS", "1", "out"}, "ERR INPUTS not specified"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "x", "in", "OUTPUTS", "1", "out"}, "ERR Invalid argument for input_count"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "0", "in", "OUTPUTS", "1", "out"}, "ERR Input count must be a positive integer"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "-1", "in", "OUTPUTS", "1", "out"}, "ERR Input count must be a positive integer"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "2", "in", "in", "OUTPUTS", "1", "out"}, errInputsMismatch},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "FOO", "1", "out"}, "ERR OUTPUTS not specified"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "x", "out"}, "ERR Invalid argument for output_count"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "0", "out"}, "ERR Output count must be a positive integer"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "-2", "out"}, "ERR Output count must be a positive integer"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "2", "out", "out2"}, errOutputsMismatch},
		{[]any{"AI.MODELEXECUTE", "km", "INPUTS", "1", "in", "OUTPUTS", "1", "out"}, errOutputsMismatch},
		{[]any{"AI.MODELEXECUTE", "km", "INPUTS", "1", "in", "OUTPUTS", "2", "out"}, "ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments"},
		// after OUTPUTS only TIMEOUT <ms>
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "FOO"}, "Invalid argument: FOO"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "TIMEOUT"}, "ERR No value provided for TIMEOUT"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "TIMEOUT", "0"}, "ERR Invalid value for TIMEOUT"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "TIMEOUT", "-5"}, "ERR Invalid value for TIMEOUT"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "TIMEOUT", "abc"}, "ERR Invalid value for TIMEOUT"},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "in", "OUTPUTS", "1", "out", "TIMEOUT", "5", "extra"}, "Invalid argument: extra"},
		// inputs are read at parse time
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "nokey", "OUTPUTS", "1", "out"}, errEmptyKey},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "str", "OUTPUTS", "1", "out"}, errWrongType},
		{[]any{"AI.MODELEXECUTE", "m", "INPUTS", "1", "m", "OUTPUTS", "1", "out"}, errWrongType},

		// the deprecated AI.MODELRUN
		{[]any{"AI.MODELRUN"}, errModelRunArity},
		{[]any{"AI.MODELRUN", "m", "INPUTS", "in", "OUTPUTS"}, errModelRunArity},
		{[]any{"AI.MODELRUN", "nokey", "INPUTS", "in", "OUTPUTS", "out"}, errModelEmpty},
		{[]any{"AI.MODELRUN", "in", "INPUTS", "in", "OUTPUTS", "out"}, errWrongType},
		{[]any{"AI.MODELRUN", "m", "FOO", "in", "OUTPUTS", "out"}, "ERR INPUTS not specified"},
		{[]any{"AI.MODELRUN", "m", "INPUTS", "in", "in", "OUTPUTS", "out"}, errInputsMismatch},
		{[]any{"AI.MODELRUN", "m", "INPUTS", "in", "OUTPUTS", "out", "out2"}, errOutputsMismatch},
		{[]any{"AI.MODELRUN", "m", "INPUTS", "nokey", "OUTPUTS", "out"}, errEmptyKey},
	}
	for _, tc := range cases {
		expectErr(t, c, tc.want, tc.args...)
	}
	expect(t, c, resp.Int(0), "EXISTS", "out")
	expect(t, c, resp.Int(0), "EXISTS", "out2")
	// parse errors are not counted
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	expectRunInfo(t, c, runInfo("km", "ONNX", "CPU", "", 0, 0, 0, 0), "km")
	expect(t, c, resp.BulkString("v"), "GET", "str")
}

// TestModelExecuteRuntimeErrors: a wrong input shape or dtype is the backend's
// error reply, counted in AI.INFO; nothing is written and the server lives on.
func TestModelExecuteRuntimeErrors(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", iris)...)
	expectOK(t, c, "AI.TENSORSET", "shape", "FLOAT", "1", "1", "28", "27")
	expectOK(t, c, "AI.TENSORSET", "rank", "FLOAT", "784")
	expectOK(t, c, "AI.TENSORSET", "dtype", "INT8", "1", "1", "28", "28")
	expectOK(t, c, "AI.TENSORSET", "dbl", "DOUBLE", "1", "1", "28", "28")
	expectOK(t, c, "AI.TENSORSET", "str", "STRING", "1", "1", "28", "28")
	expectOK(t, c, "AI.TENSORSET", "iris3", "FLOAT", "1", "3", "VALUES", "1", "2", "3")
	runs := []struct{ model, input string }{
		{"m", "shape"}, {"m", "rank"}, {"m", "dtype"}, {"m", "dbl"}, {"m", "str"}, {"iris", "iris3"},
	}
	for _, r := range runs {
		args := execArgs(r.model, []string{r.input}, []string{"out"})
		got := do(t, c, args...)
		if got.Kind != resp.Error || len(got.Str) == 0 || bytes.ContainsAny(got.Str, "\r\n") {
			t.Errorf("%s: got %v, want a one-line error reply", fmtArgs(args), got)
		} else {
			t.Logf("%s on %s: %s", r.model, r.input, got.Text())
		}
		expectPing(t, c)
	}
	expect(t, c, resp.Int(0), "EXISTS", "out")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 5, 5), "m")
	expectRunInfo(t, c, runInfo("iris", "ONNX", "CPU", "", 0, 0, 1, 1), "iris")

	// the model still works
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, 1, 6, 5), "m")

	// an output key holding another type: one error reply (RedisAI 1.2.7 sent
	// OK and then an error, a double reply), the string is untouched, and the
	// connection stays in step
	expectOK(t, c, "SET", "s", "v")
	got := do(t, c, execArgs("m", []string{"in"}, []string{"s"})...)
	if got.Kind != resp.Error || !strings.HasPrefix(got.Text(), "WRONGTYPE") {
		t.Errorf("MODELEXECUTE with a string key as output: got %v, want WRONGTYPE", got)
	}
	expectPing(t, c)
	expect(t, c, resp.BulkString("v"), "GET", "s")
}

// TestModelExecuteTransactionsAndScripts: execution commands are refused in MULTI and Lua.
func TestModelExecuteTransactionsAndScripts(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))

	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), execArgs("m", []string{"in"}, []string{"out"})...)
	expect(t, c, resp.Simple("QUEUED"), "AI.MODELRUN", "m", "INPUTS", "in", "OUTPUTS", "out")
	expect(t, c, resp.Simple("QUEUED"), "AI.TENSORGET", "in", "META")
	b := resp.BulkString
	expect(t, c, resp.Arr(resp.Err(errInTransaction), resp.Err(errInTransaction), resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 1, 28, 28))), "EXEC")
	expect(t, c, resp.Int(0), "EXISTS", "out")

	// Lua: redis.pcall returns the error as is
	expectErr(t, c, errInTransaction, "EVAL", "return redis.pcall('AI.MODELEXECUTE', KEYS[1], 'INPUTS', '1', KEYS[2], 'OUTPUTS', '1', KEYS[3])", "3", "m", "in", "out")
	expectErr(t, c, errInTransaction, "EVAL", "return redis.pcall('AI.MODELRUN', KEYS[1], 'INPUTS', KEYS[2], 'OUTPUTS', KEYS[3])", "3", "m", "in", "out")
	// redis.call raises it (Redis 7 appends where in the script)
	expectErrPrefix(t, c, errInTransaction, "EVAL", "return redis.call('AI.MODELEXECUTE', KEYS[1], 'INPUTS', '1', KEYS[2], 'OUTPUTS', '1', KEYS[3])", "3", "m", "in", "out")
	expect(t, c, resp.Int(0), "EXISTS", "out")
	// The refusal comes before anything is looked at: missing keys, a bad grammar, every kind of run.
	for _, script := range []string{
		"return redis.pcall('AI.MODELEXECUTE', 'no_model{1}', 'INPUTS', 1, 'x{1}', 'OUTPUTS', 1, 'y{1}')",
		"return redis.pcall('AI.MODELRUN', 'no_model{1}')",
		"return redis.pcall('AI.SCRIPTEXECUTE', 'no_script{1}', 'bar', 'KEYS', 1, 'x{1}')",
		"return redis.pcall('AI.SCRIPTRUN', 'no_script{1}', 'bar', 'INPUTS', 'x{1}')",
		"return redis.pcall('AI.DAGEXECUTE', 'LOAD', 1, 'no_tensor{1}', '|>', 'AI.TENSORGET', 'no_tensor{1}')",
		"return redis.pcall('AI.DAGEXECUTE_RO', 'ROUTING', 'x{1}', '|>', 'AI.MODELEXECUTE', 'no_model{1}')",
		"return redis.pcall('AI.DAGRUN', '|>', 'AI.MODELRUN', 'no_model{1}')",
		"return redis.pcall('AI.DAGRUN_RO')",
	} {
		expectErr(t, c, errInTransaction, "EVAL", script, "0")
	}
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.MODELEXECUTE", "no_model", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTEXECUTE", "no_script", "bar", "KEYS", 1, "x")
	expect(t, c, resp.Simple("QUEUED"), "AI.DAGEXECUTE", "LOAD", 1, "no_tensor", "|>", "AI.TENSORGET", "no_tensor")
	expect(t, c, resp.Arr(resp.Err(errInTransaction), resp.Err(errInTransaction), resp.Err(errInTransaction)), "EXEC")
	// the non-execution model commands work in both
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.MODELGET", "m", "META")
	expect(t, c, resp.Simple("QUEUED"), "AI.MODELDEL", "m")
	expect(t, c, resp.Arr(modelMeta("ONNX", "CPU", "", 0, 0, 0, mnistInputs, mnistOutputs), resp.Simple("OK")), "EXEC")
	expectOK(t, c, "EVAL", "return redis.call('AI.MODELSTORE', KEYS[1], 'ONNX', 'CPU', 'BLOB', ARGV[1])", "1", "m", mnist)
	expect(t, c, resp.BulkBytes(mnist), "EVAL", "return redis.call('AI.MODELGET', KEYS[1], 'BLOB')", "1", "m")
	// and the model runs normally afterwards
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
}

// TestModelTimeout: TIMEOUT counts the time a request waited in its queue:
// behind a long queue a request gets +TIMEDOUT (and writes nothing); on an idle
// queue a run longer than its TIMEOUT still succeeds.
func TestModelTimeout(t *testing.T) {
	// Serial (no t.Parallel): a 20 ms sleep puts the blockers in the queue before the timed request, and the
	// idle-queue TIMEOUT is derived from measured run times; other tests' load would reorder or distort both.
	mnist := redisaiFixture(t, "mnist.onnx")
	rf := testModel(t, "random_forest.onnx")
	X, _ := npyData(t, testModel(t, "random_forest_X_all.npy"))
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("rf", "ONNX", "CPU", rf)...)
	setMnistInput(t, c, "in", mnistInput(t))
	// a slow run: the random forest on 1000 copies of iris (150000 rows)
	const copies = 1000
	big := bytes.Repeat(X, copies)
	expectOK(t, c, "AI.TENSORSET", "big", "FLOAT", 150*copies, "4", "BLOB", big)
	expectOK(t, c, execArgs("rf", []string{"big"}, []string{"bigout"})...)
	inf := do(t, c, "AI.INFO", "rf")
	if inf.Kind != resp.Array || len(inf.Elems) != 18 {
		t.Fatalf("AI.INFO rf: %v", inf)
	}
	runUS := inf.Elems[11].Int
	t.Logf("one random-forest run on %d rows took %d µs", 150*copies, runUS)

	// Behind several slow runs on the single CPU worker, TIMEOUT 1 times out.
	const blockers = 4
	var conns []*resp.Conn
	for i := 0; i < blockers; i++ {
		bc := s.Conn(t)
		if err := bc.Send(execArgs("rf", []string{"big"}, []string{"blockout"})...); err != nil {
			t.Fatal(err)
		}
		if err := bc.Flush(); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, bc)
	}
	time.Sleep(20 * time.Millisecond) // let the server read them
	start := time.Now()
	expect(t, c, resp.Simple("TIMEDOUT"), execArgs("m", []string{"in"}, []string{"timedout"}, "TIMEOUT", "1")...)
	t.Logf("TIMEDOUT came after %v", time.Since(start))
	expect(t, c, resp.Int(0), "EXISTS", "timedout")
	// behind the same kind of queue, a generous TIMEOUT runs
	d2 := s.Conn(t)
	for i := 0; i < 2; i++ {
		if err := d2.Send(execArgs("rf", []string{"big"}, []string{"blockout"})...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d2.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"notimedout"}, "TIMEOUT", "60000")...)
	checkMnistOutput(t, c, "notimedout")
	for _, bc := range conns {
		v, err := bc.Receive()
		if err != nil || !resp.Equal(v, resp.Simple("OK")) {
			t.Errorf("blocking run: %v %v", v, err)
		}
	}
	for i := 0; i < 2; i++ {
		v, err := d2.Receive()
		if err != nil || !resp.Equal(v, resp.Simple("OK")) {
			t.Errorf("blocking run: %v %v", v, err)
		}
	}

	// On an idle queue, a run that takes longer than its TIMEOUT is not timed out:
	// only the wait in the queue counts.
	inf = do(t, c, "AI.INFO", "rf")
	if inf.Kind != resp.Array || len(inf.Elems) != 18 || inf.Elems[15].Int == 0 {
		t.Fatalf("AI.INFO rf: %v", inf)
	}
	avgUS := inf.Elems[11].Int / inf.Elems[15].Int
	timeoutMS := avgUS / 1000 / 4
	if timeoutMS < 5 {
		t.Logf("the slow run took only %d µs on average: skipping the idle-queue check", avgUS)
		return
	}
	t.Logf("idle queue: TIMEOUT %d ms for a run of about %d µs", timeoutMS, avgUS)
	expectOK(t, c, execArgs("rf", []string{"big"}, []string{"idle"}, "TIMEOUT", timeoutMS)...)
	expect(t, c, resp.Int(1), "EXISTS", "idle")
}

// TestModelInfo: AI.INFO statistics, RESETSTAT, overwrite, errors.
func TestModelInfo(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist, "TAG", "t1")...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", 0, 0, 0, 0), "m")
	for i := 0; i < 3; i++ {
		expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	}
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", -1, 3, 3, 0), "m")
	// a third argument other than RESETSTAT is ignored
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", -1, 3, 3, 0), "m", "FOO")
	// MODELRUN counts too
	expectOK(t, c, "AI.MODELRUN", "m", "INPUTS", "in", "OUTPUTS", "out")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", -1, 4, 4, 0), "m")
	expectOK(t, c, "AI.INFO", "m", "RESETSTAT")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", 0, 0, 0, 0), "m")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	expectOK(t, c, "AI.INFO", "m", "resetstat")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", 0, 0, 0, 0), "m")

	// a failed run: calls and errors, no samples, no duration
	expectOK(t, c, "AI.TENSORSET", "bad", "FLOAT", "2", "2")
	if v := do(t, c, execArgs("m", []string{"bad"}, []string{"out"})...); v.Kind != resp.Error {
		t.Errorf("run on a bad input: %v, want an error", v)
	}
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", 0, 0, 1, 1), "m")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "t1", -1, 1, 2, 1), "m")

	// overwriting the model resets its statistics (and takes the new tag and device)
	expectOK(t, c, storeArgs("m", "ONNX", "cpu", mnist, "TAG", "t2")...)
	expectRunInfo(t, c, runInfo("m", "ONNX", "cpu", "t2", 0, 0, 0, 0), "m")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	expectRunInfo(t, c, runInfo("m", "ONNX", "cpu", "t2", -1, 1, 1, 0), "m")

	// errors
	expectErr(t, c, errNoRunInfo, "AI.INFO", "nokey")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "in")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "nokey", "RESETSTAT")
	expectOK(t, c, "SET", "str", "v")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "str")
	expectErr(t, c, arityErr("ai.info"), "AI.INFO")
	expectErr(t, c, arityErr("ai.info"), "AI.INFO", "m", "RESETSTAT", "x")
}

// TestModelScan: AI._MODELSCAN lists [key, tag] for every model.
func TestModelScan(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expect(t, c, resp.Arr(), "AI._MODELSCAN")
	expectOK(t, c, storeArgs("m1", "ONNX", "CPU", mnist, "TAG", "a")...)
	expectOK(t, c, storeArgs("m2", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("m\x00bin", "ONNX", "CPU", mnist, "TAG", "x\x00y")...)
	expectOK(t, c, "AI.TENSORSET", "t", "FLOAT", "1")
	scan := func() []string {
		v := do(t, c, "AI._MODELSCAN")
		if v.Kind != resp.Array {
			t.Fatalf("AI._MODELSCAN: %v", v)
		}
		var out []string
		for _, e := range v.Elems {
			if e.Kind != resp.Array || len(e.Elems) != 2 || e.Elems[0].Kind != resp.Bulk || e.Elems[1].Kind != resp.Bulk {
				t.Errorf("AI._MODELSCAN element %v, want [bulk key, bulk tag]", e)
				continue
			}
			out = append(out, e.Elems[0].Text()+"|"+e.Elems[1].Text())
		}
		sort.Strings(out)
		return out
	}
	check := func(want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := scan(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("AI._MODELSCAN = %q, want %q", got, want)
		}
	}
	check("m1|a", "m2|", "m\x00bin|x\x00y")
	expectOK(t, c, "AI.MODELDEL", "m1")
	check("m2|", "m\x00bin|x\x00y")
	expectOK(t, c, storeArgs("m2", "ONNX", "CPU", mnist, "TAG", "new")...)
	check("m2|new", "m\x00bin|x\x00y")
	expectErr(t, c, arityErr("ai._modelscan"), "AI._MODELSCAN", "x")
}

// TestModelConfig: AI.CONFIG subcommands and errors.
func TestModelConfig(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	backends := filepath.Join(filepath.Dir(redistest.ModulePath()), "backends")
	expect(t, c, resp.Int(defaultChunkSize), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
	expect(t, c, resp.Int(defaultChunkSize), "ai.config", "get", "model_chunk_size")
	// Unset, as RedisAI (<module dir>/backends is used meanwhile; INFO's ai_backends_path says it).
	expect(t, c, resp.NilBulk(), "AI.CONFIG", "GET", "BACKENDSPATH")
	if got := backendsPath(t, c); got != backends {
		t.Errorf("INFO ai_backends_path %q, want %q", got, backends)
	}
	expect(t, c, resp.NilBulk(), "AI.CONFIG", "GET", "FOO")
	expect(t, c, resp.NilBulk(), "AI.CONFIG", "GET", "THREADS_PER_QUEUE")

	expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", "100")
	expect(t, c, resp.Int(100), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
	expectOK(t, c, "ai.config", "model_chunk_size", "4096")
	expect(t, c, resp.Int(4096), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")

	expectErr(t, c, arityErr("ai.config"), "AI.CONFIG")
	expectErr(t, c, arityErr("ai.config"), "AI.CONFIG", "GET")
	expectErr(t, c, arityErr("ai.config"), "AI.CONFIG", "LOADBACKEND", "ONNX")
	expectErr(t, c, arityErr("ai.config"), "AI.CONFIG", "LOADBACKEND")
	expectErr(t, c, "ERR unsupported subcommand", "AI.CONFIG", "FOO")
	expectErr(t, c, "ERR unsupported subcommand", "AI.CONFIG", "FOO", "bar")
	expectErr(t, c, "ERR MODEL_CHUNK_SIZE: missing chunk size", "AI.CONFIG", "MODEL_CHUNK_SIZE")
	for _, bad := range []string{"0", "-1", "abc", "1.5", ""} {
		expectErr(t, c, "ERR MODEL_CHUNK_SIZE: invalid chunk size", "AI.CONFIG", "MODEL_CHUNK_SIZE", bad)
	}
	expect(t, c, resp.Int(4096), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
	expectErr(t, c, "ERR BACKENDSPATH: missing path argument", "AI.CONFIG", "BACKENDSPATH")
	expectErr(t, c, "ERR unsupported backend", "AI.CONFIG", "LOADBACKEND", "FOO", "/x.so")
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "TF", "/nonexistent/redisai_tensorflow.so")
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "TORCH", "nonexistent.so")

	// ONNX is loaded once a model used it; loading it again is refused
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	ort := filepath.Join(backends, "onnx", "libonnxruntime.so.1")
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "ONNX", ort)
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "onnx", ort)

	expectOK(t, c, "AI.CONFIG", "BACKENDSPATH", "/tmp/gorai-backends")
	expect(t, c, resp.BulkString("/tmp/gorai-backends"), "AI.CONFIG", "GET", "BACKENDSPATH")
	// the loaded backend keeps working
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	expectOK(t, c, storeArgs("m2", "ONNX", "CPU", mnist)...)
}

// TestModelCommandKeys: COMMAND GETKEYS and COMMAND INFO for the model commands.
func TestModelCommandKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	keys := resp.BulkStrings
	expect(t, c, keys("m", "a", "b", "c"), "COMMAND", "GETKEYS", "AI.MODELEXECUTE", "m", "INPUTS", "2", "a", "b", "OUTPUTS", "1", "c")
	expect(t, c, keys("m", "a", "c", "d"), "COMMAND", "GETKEYS", "AI.MODELEXECUTE", "m", "INPUTS", "1", "a", "OUTPUTS", "2", "c", "d", "TIMEOUT", "5")
	expect(t, c, keys("m", "a", "b", "c"), "COMMAND", "GETKEYS", "AI.MODELRUN", "m", "INPUTS", "a", "b", "OUTPUTS", "c")
	expect(t, c, keys("m", "a", "c"), "COMMAND", "GETKEYS", "AI.MODELRUN", "m", "TIMEOUT", "5", "INPUTS", "a", "OUTPUTS", "c")
	for _, cmd := range [][]any{
		{"AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", "x"},
		{"AI.MODELSET", "m", "ONNX", "CPU", "BLOB", "x"},
		{"AI.MODELGET", "m", "META"},
		{"AI.MODELDEL", "m"},
		{"AI.INFO", "m"},
	} {
		expect(t, c, keys("m"), append([]any{"COMMAND", "GETKEYS"}, cmd...)...)
	}

	got := do(t, c, "COMMAND", "INFO", "ai.modelexecute", "ai.modelrun", "ai.modelstore", "ai.modelget", "ai.modeldel", "ai._modelscan", "ai.info", "ai.config", "ai.modelset")
	want := []struct {
		name  string
		flags []string
		not   []string
	}{
		{"ai.modelexecute", []string{"write", "denyoom", "movablekeys"}, []string{"readonly"}},
		{"ai.modelrun", []string{"write", "denyoom", "movablekeys"}, []string{"readonly"}},
		{"ai.modelstore", []string{"write", "denyoom"}, []string{"readonly"}},
		{"ai.modelget", []string{"readonly"}, []string{"write"}},
		{"ai.modeldel", []string{"write"}, []string{"readonly"}},
		{"ai._modelscan", []string{"readonly"}, []string{"write"}},
		{"ai.info", []string{"readonly"}, []string{"write"}},
		{"ai.config", []string{"write"}, []string{"readonly"}},
		{"ai.modelset", []string{"write", "denyoom"}, []string{"readonly"}},
	}
	if got.Kind != resp.Array || len(got.Elems) != len(want) {
		t.Fatalf("COMMAND INFO: %v", got)
	}
	for i, w := range want {
		e := got.Elems[i]
		if e.Kind != resp.Array || len(e.Elems) < 3 || e.Elems[0].Text() != w.name {
			t.Errorf("COMMAND INFO %s: %v", w.name, e)
			continue
		}
		flags := map[string]bool{}
		for _, f := range e.Elems[2].Elems {
			flags[f.Text()] = true
		}
		for _, f := range w.flags {
			if !flags[f] {
				t.Errorf("%s flags %v lack %q", w.name, e.Elems[2], f)
			}
		}
		for _, f := range w.not {
			if flags[f] {
				t.Errorf("%s flags %v must not have %q", w.name, e.Elems[2], f)
			}
		}
	}
}

// TestModelDenyOOM: MODELSTORE, MODELSET and MODELEXECUTE are deny-oom;
// MODELGET, MODELDEL and AI.INFO are not.
func TestModelDenyOOM(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "1")
	expectErrPrefix(t, c, "OOM ", storeArgs("m2", "ONNX", "CPU", mnist)...)
	expectErrPrefix(t, c, "OOM ", "AI.MODELSET", "m2", "ONNX", "CPU", "BLOB", mnist)
	expectErrPrefix(t, c, "OOM ", execArgs("m", []string{"in"}, []string{"out"})...)
	expectErrPrefix(t, c, "OOM ", "AI.MODELRUN", "m", "INPUTS", "in", "OUTPUTS", "out")
	expect(t, c, resp.BulkBytes(mnist), "AI.MODELGET", "m", "BLOB")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "0")
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "1")
	expectOK(t, c, "AI.MODELDEL", "m")
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "0")
}

// TestModelRunDeprecated: AI.MODELRUN <key> [TIMEOUT t] INPUTS ... OUTPUTS ...
func TestModelRunDeprecated(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	km := testModel(t, "kmeans.onnx")
	X, _ := npyData(t, testModel(t, "kmeans_X.npy"))
	labels, _ := npyData(t, testModel(t, "kmeans_labels.npy"))
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.MODELSET", "m", "ONNX", "CPU", "BLOB", mnist)
	setMnistInput(t, c, "a", mnistInput(t))
	expectOK(t, c, "AI.MODELRUN", "m", "INPUTS", "a", "OUTPUTS", "b")
	checkMnistOutput(t, c, "b")
	expectOK(t, c, "AI.MODELRUN", "m", "TIMEOUT", "60000", "INPUTS", "a", "OUTPUTS", "b2")
	checkMnistOutput(t, c, "b2")
	expectOK(t, c, "ai.modelrun", "m", "inputs", "a", "outputs", "b3")
	checkMnistOutput(t, c, "b3")
	// two outputs
	expectOK(t, c, storeArgs("km", "ONNX", "CPU", km)...)
	expectOK(t, c, "AI.TENSORSET", "X", "FLOAT", "10", "2", "BLOB", X)
	expectOK(t, c, "AI.MODELRUN", "km", "INPUTS", "X", "OUTPUTS", "l", "d")
	expect(t, c, resp.BulkBytes(labels), "AI.TENSORGET", "l", "BLOB")
	expect(t, c, resp.Int(1), "EXISTS", "d")
}

// TestModelBinaryKeys: model and tensor keys with NUL, CR/LF and high bytes.
func TestModelBinaryKeys(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	model, in, out := "m\x00od\xffel\r\n", "in\x00put", "out\x00\x00put"
	expectOK(t, c, storeArgs(model, "ONNX", "CPU", mnist, "TAG", "t\x00ag")...)
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "m", "META")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "m\x00od", "META")
	setMnistInput(t, c, in, mnistInput(t))
	expectOK(t, c, execArgs(model, []string{in}, []string{out})...)
	checkMnistOutput(t, c, out)
	expect(t, c, resp.Int(0), "EXISTS", "out")
	expectOK(t, c, "AI.MODELRUN", model, "INPUTS", in, "OUTPUTS", out+"2")
	checkMnistOutput(t, c, out+"2")
	expect(t, c, modelMeta("ONNX", "CPU", "t\x00ag", 0, 0, 0, mnistInputs, mnistOutputs), "AI.MODELGET", model, "META")
	expectRunInfo(t, c, runInfo(model, "ONNX", "CPU", "t\x00ag", -1, 2, 2, 0), model)
	expect(t, c, resp.Arr(resp.Arr(resp.BulkString(model), resp.BulkString("t\x00ag"))), "AI._MODELSCAN")
	expectOK(t, c, "AI.MODELDEL", model)
	expect(t, c, resp.Int(0), "EXISTS", model)
}

// TestModelSelectedDB reports (without asserting a behaviour the spec leaves
// open) where MODELEXECUTE finds its keys and writes its outputs when the
// client has selected another database. RedisAI 1.2.7 read the model and
// inputs from db 0 and wrote the outputs to the selected db.
func TestModelSelectedDB(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	in := mnistInput(t)
	s := startServer(t)
	c := s.Conn(t)
	where := func(key string) string {
		var dbs []string
		for _, db := range []string{"0", "1"} {
			do(t, c, "SELECT", db)
			if do(t, c, "EXISTS", key).Int == 1 {
				dbs = append(dbs, "db"+db)
			}
		}
		if dbs == nil {
			return "nowhere"
		}
		return strings.Join(dbs, "+")
	}
	// 1: model, input and client all in db 1
	expectOK(t, c, "SELECT", "1")
	expectOK(t, c, storeArgs("m1", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in1", in)
	r1 := do(t, c, execArgs("m1", []string{"in1"}, []string{"out1"})...)
	t.Logf("everything in db 1: MODELEXECUTE -> %v; output in %s; AI.INFO -> %v", r1, where("out1"), do(t, c, "AI.INFO", "m1"))
	// 2: model and input in db 0, client in db 1
	expectOK(t, c, "SELECT", "0")
	expectOK(t, c, storeArgs("m0", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in0", in)
	expectOK(t, c, "SELECT", "1")
	r2 := do(t, c, execArgs("m0", []string{"in0"}, []string{"out2"})...)
	t.Logf("model+input in db 0, client in db 1: MODELEXECUTE -> %v; output in %s", r2, where("out2"))
	for _, r := range []resp.Value{r1, r2} {
		if !resp.Equal(r, resp.Simple("OK")) && r.Kind != resp.Error {
			t.Errorf("MODELEXECUTE in db 1: %v, want OK or an error reply", r)
		}
	}
	expectPing(t, c)
}

// TestModelOverwriteWhileQueued: MODELDEL and overwrite of a model with runs in
// flight: the runs finish with the model they were queued with.
func TestModelOverwriteWhileQueued(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	const n = 20
	var wg sync.WaitGroup
	replies := make([]resp.Value, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		cc := s.Conn(t)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			replies[i], errs[i] = cc.Do(execArgs("m", []string{"in"}, []string{"out:" + string(rune('a'+i))})...)
		}(i)
	}
	expectOK(t, c, "AI.MODELDEL", "m")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectOK(t, c, "AI.MODELDEL", "m")
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Errorf("run %d: %v", i, errs[i])
			continue
		}
		switch {
		case resp.Equal(replies[i], resp.Simple("OK")):
			checkMnistOutput(t, c, "out:"+string(rune('a'+i)))
		case resp.Equal(replies[i], resp.Err(errModelEmpty)):
		default:
			t.Errorf("run %d: %v, want OK or %q", i, replies[i], errModelEmpty)
		}
	}
	expectPing(t, c)
}

// TestModelLoadTimeBackendPaths: a backend named at load time that cannot be loaded (a launch line
// written for RedisAI names RedisAI's own backend objects) is logged, and the server starts; the
// backend is then loaded from its default path when a model needs it. A working path loads it.
func TestModelLoadTimeBackendPaths(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{
		"ONNX", "/nonexistent/redisai_onnxruntime/redisai_onnxruntime.so", "TORCH", "/nonexistent/redisai_torch.so"}})
	c := s.Conn(t)
	if !strings.Contains(s.Log(), "redisai_onnxruntime.so") {
		t.Errorf("the failed backend path is not in the log:\n%s", s.LogTail(2000))
	}
	expectOK(t, c, "AI.TENSORSET", "t", "FLOAT", "1", "VALUES", "1")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)

	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", "onnx", "libonnxruntime.so.1")
	s2 := redistest.Start(t, redistest.Options{ModuleArgs: []string{"ONNX", lib}})
	info, err := s2.Info("modules")
	if err != nil || !strings.HasPrefix(info["ai_onnxruntime_version"], "1.") {
		t.Fatalf("ONNX Runtime not loaded at start: %v %v", info, err)
	}
}
