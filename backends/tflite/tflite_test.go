package tflite

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorai/backends"
	"gorai/backends/backendtest"
	"gorai/tensor"
)

// The real library, as build/fetch-litert.sh places it (GORAI_TFLITE_LIB overrides), and the models that
// testdata/make_models.py converted with TensorFlow, with TF Lite's own outputs for them.
var (
	lib = &backendtest.Library{Backend: "TFLITE", What: "LiteRT", Env: "GORAI_TFLITE_LIB", Script: "fetch-litert.sh",
		Path: filepath.Join("..", "..", "build", "backends", DefaultLibrary)}
)

func TestMain(m *testing.M) { lib.Main(m) }

// expectation is one model's entry in testdata/expected.json.
type expectation struct {
	Inputs, Outputs []string
	Cases           []struct{ Inputs, Outputs []jsonTensor }
}

type jsonTensor struct {
	DType  string
	Shape  []int64
	Values []float64
}

func expected(t testing.TB, name string) ([]byte, expectation) {
	t.Helper()
	blob, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]expectation
	if err := json.Unmarshal(j, &all); err != nil {
		t.Fatal(err)
	}
	return blob, all[name]
}

// tensor makes a tensor of the JSON's values.
func (j jsonTensor) tensor(t testing.TB) tensor.Tensor {
	t.Helper()
	var dt tensor.DType
	var blob []byte
	switch j.DType {
	case "float32":
		dt = tensor.Float
		for _, v := range j.Values {
			blob = binary.LittleEndian.AppendUint32(blob, math.Float32bits(float32(v)))
		}
	case "uint8":
		dt = tensor.UInt8
		for _, v := range j.Values {
			blob = append(blob, byte(v))
		}
	default:
		t.Fatalf("dtype %s", j.DType)
	}
	x, err := tensor.FromBlob(dt, j.Shape, blob)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Release)
	return x
}

// values reads a FLOAT or UINT8 tensor back as float64s.
func values(t testing.TB, x tensor.Tensor) []float64 {
	t.Helper()
	var vs []float64
	d := x.Data()
	switch x.DType() {
	case tensor.Float:
		for i := 0; i+4 <= len(d); i += 4 {
			vs = append(vs, float64(math.Float32frombits(binary.LittleEndian.Uint32(d[i:]))))
		}
	case tensor.UInt8:
		for _, b := range d {
			vs = append(vs, float64(b))
		}
	default:
		t.Fatalf("output dtype %v", x.DType())
	}
	return vs
}

func newModel(t testing.TB, blob []byte) backends.Model {
	t.Helper()
	m, err := lib.Need(t).NewModel(blob, backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// checkCase runs one case of expected.json and compares every output with TF Lite's, within float32
// rounding (LiteRT may fuse differently); quantized outputs must be equal.
func checkCase(t *testing.T, m backends.Model, inputs, outputs []jsonTensor) {
	t.Helper()
	in := make([]tensor.Tensor, len(inputs))
	for i, j := range inputs {
		in[i] = j.tensor(t)
	}
	out, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, o := range out {
			o.Release()
		}
	}()
	if len(out) != len(outputs) {
		t.Fatalf("%d outputs, want %d", len(out), len(outputs))
	}
	for i, want := range outputs {
		if fmt.Sprint(out[i].Shape()) != fmt.Sprint(want.Shape) || out[i].DType().Name() != strings.ToUpper(strings.TrimSuffix(want.DType, "32")) {
			t.Errorf("output %d: %s %v, want %s %v", i, out[i].DType().Name(), out[i].Shape(), want.DType, want.Shape)
			continue
		}
		got := values(t, out[i])
		for k, w := range want.Values {
			if math.Abs(got[k]-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Errorf("output %d [%d] = %v, want %v (TF Lite)", i, k, got[k], w)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	b := lib.Need(t)
	if b.Name() != "TFLITE" || b.Version() != "2.3.0" {
		t.Errorf("backend %s version %q, want TFLITE 2.3.0 (build/fetch-litert.sh's VERSION)", b.Name(), b.Version())
	}
}

// The names and order are TF Lite's interpreter's, not the Keras model's (a, b and y, s): inputs and outputs
// are taken by position.
func TestModelNames(t *testing.T) {
	for _, name := range []string{"dense.tflite", "quantized.tflite"} {
		blob, want := expected(t, name)
		m := newModel(t, blob)
		if fmt.Sprint(m.InputNames()) != fmt.Sprint(want.Inputs) || fmt.Sprint(m.OutputNames()) != fmt.Sprint(want.Outputs) {
			t.Errorf("%s: inputs %q outputs %q, want %q %q", name, m.InputNames(), m.OutputNames(), want.Inputs, want.Outputs)
		}
	}
}

// Batch 1 is the flatbuffer's shape; batch 3 resizes the inputs (the output shapes follow), and batch 1
// again resizes back.
func TestFloatModel(t *testing.T) {
	blob, want := expected(t, "dense.tflite")
	m := newModel(t, blob)
	for _, c := range append(want.Cases, want.Cases[0]) {
		checkCase(t, m, c.Inputs, c.Outputs)
	}
}

func TestQuantizedModel(t *testing.T) {
	blob, want := expected(t, "quantized.tflite")
	m := newModel(t, blob)
	for _, c := range want.Cases {
		checkCase(t, m, c.Inputs, c.Outputs)
	}
}

// Runs of one compiled model are serialized by loader.c; each must still see its own inputs.
func TestConcurrentRuns(t *testing.T) {
	blob, want := expected(t, "dense.tflite")
	m := newModel(t, blob)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := want.Cases[g%len(want.Cases)]
			for range 50 {
				checkCase(t, m, c.Inputs, c.Outputs)
			}
		}()
	}
	wg.Wait()
}

func TestBadBlobs(t *testing.T) {
	b := lib.Need(t)
	blob, _ := expected(t, "dense.tflite")
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a flatbuffer at all"),
		"truncated": blob[:len(blob)/2],
	} {
		if _, err := b.NewModel(bad, backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != "Failed to load model from buffer" {
			t.Errorf("%s: %v, want RedisAI's Failed to load model from buffer", name, err)
		}
	}
	if _, err := b.NewModel(blob, backends.ModelOptions{Device: "GPU:0"}); err != errNoGPU {
		t.Errorf("GPU: %v, want %v", err, errNoGPU)
	}
}

func TestRunErrors(t *testing.T) {
	blob, want := expected(t, "dense.tflite")
	m := newModel(t, blob)
	c := want.Cases[0]
	good := []tensor.Tensor{c.Inputs[0].tensor(t), c.Inputs[1].tensor(t)}
	dbl, err := tensor.FromBlob(tensor.Double, []int64{1, 3}, make([]byte, 24))
	if err != nil {
		t.Fatal(err)
	}
	defer dbl.Release()
	u8, err := tensor.FromBlob(tensor.UInt8, []int64{1, 3}, make([]byte, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer u8.Release()
	const typeErr = "Input tensor type doesn't match the type expected by the model definition"
	for name, in := range map[string][]tensor.Tensor{
		"uint8 for float": {u8, good[1]},
		"double":          {dbl, good[1]},
	} {
		if _, err := m.Run(in); err == nil || err.Error() != typeErr {
			t.Errorf("%s: %v, want %q", name, err, typeErr)
		}
	}
	if _, err := m.Run(good[:1]); err == nil {
		t.Error("one input of two ran")
	}
	// A shape the graph cannot take (concatenating batches 1 and 2) fails the run, and the model still
	// works afterwards.
	b2, err := tensor.FromBlob(tensor.Float, []int64{2, 2}, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Release()
	if _, err := m.Run([]tensor.Tensor{good[0], b2}); err == nil {
		t.Error("batches 1 and 2 ran")
	} else {
		t.Logf("mismatched batches: %v", err)
	}
	checkCase(t, m, c.Inputs, c.Outputs)
}

// A C++ exception out of LiteRT is the run's error, not the process' end, and the model is not run again.
// throws.tflite is loaded as Redis loads its own RDB (Trusted): the trial refuses it.
func TestLiteRTExceptionIsAnError(t *testing.T) {
	_, want := expected(t, "dense.tflite")
	throws, _ := expected(t, "throws.tflite") // testdata/make_damaged.py
	m, err := lib.Need(t).NewModel(throws, backends.ModelOptions{Device: "CPU", Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := want.Cases[0]
	in := []tensor.Tensor{c.Inputs[0].tensor(t), c.Inputs[1].tensor(t)}
	const threw = "ERR TFLITE: LiteRT failed: basic_string::_M_construct null not valid"
	if _, err := m.Run(in); err == nil || err.Error() != threw {
		t.Fatalf("first run: %v, want %q", err, threw)
	}
	if _, err := m.Run(in); err == nil || err.Error() != threw+" (in an earlier run; store the model again)" {
		t.Errorf("second run: %v, want the first run's exception", err)
	}
}

// The trial program (make build builds it) refuses a model that crashes LiteRT, and one whose run on zeros
// throws; the crash ends the program, not this process.
func TestTrialRefusesDamage(t *testing.T) {
	b := lib.Need(t)
	if trial.Program == "" {
		t.Fatalf("no %s beside the library (make build builds it): the crash would end this test", TrialProgram)
	}
	crashes, _ := expected(t, "crashes.tflite") // testdata/make_damaged.py
	throws, _ := expected(t, "throws.tflite")
	for _, c := range []struct {
		blob []byte
		want string
	}{
		{crashes, "ERR TFLITE model crashed the runtime (segmentation fault) when tried in a process of its own"},
		{throws, "ERR TFLITE model failed to run on zeros of its inputs' shapes, within 2 GiB or 16 times its size, " +
			"when tried in a process of its own: ERR TFLITE: LiteRT failed: basic_string::_M_construct null not valid"},
	} {
		if _, err := b.NewModel(c.blob, backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != c.want {
			t.Errorf("NewModel: %v, want %q", err, c.want)
		}
	}
}

// A client's model is tried, a trusted one is not.
func TestTrustedIsNotTried(t *testing.T) {
	dense, _ := expected(t, "dense.tflite")
	backendtest.TrustedIsNotTried(t, lib.Need(t), &trial, dense)
}

func TestMissingLibrary(t *testing.T) {
	if !lib.InFreshProcess(t) {
		return
	}
	if _, err := (backend{}).NewModel([]byte("x"), backends.ModelOptions{Device: "CPU"}); err != errNotOpen {
		t.Errorf("NewModel without a library: %v", err)
	}
	bogus := filepath.Join(t.TempDir(), "no", "libLiteRt.so")
	if _, err := backends.Load("TFLITE", bogus); err == nil ||
		!strings.Contains(err.Error(), "file does not exist (build/fetch-litert.sh fetches it)") {
		t.Errorf("Load from a bogus path: %v", err)
	}
	notLiteRT := filepath.Join(t.TempDir(), "libnotlitert.so")
	if out, err := exec.Command("cc", "-shared", "-fPIC", "-o", notLiteRT, "-x", "c", "/dev/null").CombinedOutput(); err != nil {
		t.Logf("SKIPPED the not-LiteRT part, no C compiler: %v %s", err, out)
	} else if _, err := backends.Open("TFLITE", notLiteRT); err == nil || !strings.Contains(err.Error(), "(LiteRT's C API): no symbol LiteRtCreateEnvironment") {
		t.Errorf("Open of a library that is not LiteRT: %v", err)
	}
	lib := os.Getenv("GORAI_TFLITE_LIB")
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("SKIPPED the reload part, no library: %v", err)
	}
	if _, err := backends.Open("TFLITE", lib); err != nil {
		t.Fatalf("Open after failures: %v", err)
	}
}

// The version comes from the VERSION file beside the library, which build/fetch-litert.sh writes.
func TestReadVersion(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libLiteRt.so")
	if v := readVersion(lib); v != "unknown" {
		t.Errorf("no VERSION file: %q", v)
	}
	if err := os.WriteFile(filepath.Join(dir, "VERSION"), []byte("9.8.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := readVersion(lib); v != "9.8.7" {
		t.Errorf("VERSION 9.8.7: %q", v)
	}
	// dlopen finds a bare name in its search path, not in the working directory that holds this VERSION.
	t.Chdir(dir)
	if v := readVersion("libLiteRt.so"); v != "unknown" {
		t.Errorf("a bare library name: %q", v)
	}
}

// BenchmarkDense: one in-process run of dense.tflite at batch 1, the inputs copied in and the outputs out.
func BenchmarkDense(b *testing.B) {
	blob, want := expected(b, "dense.tflite")
	m := newModel(b, blob)
	c := want.Cases[0]
	in := []tensor.Tensor{c.Inputs[0].tensor(b), c.Inputs[1].tensor(b)}
	for b.Loop() {
		out, err := m.Run(in)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			o.Release()
		}
	}
}

// TestTriedShapes: a set of input shapes is covered by one tried whose every input has its rank and no
// smaller dim; a set tried in place of smaller ones replaces them, and at most maxTried are kept, the
// oldest going first.
func TestTriedShapes(t *testing.T) {
	var tr tried
	tr.add([][]int64{{1, 10}, {1, 3}})
	for _, c := range []struct {
		shapes [][]int64
		want   bool
	}{
		{[][]int64{{1, 10}, {1, 3}}, true},
		{[][]int64{{1, 5}, {1, 1}}, true},
		{[][]int64{{1, 11}, {1, 3}}, false},
		{[][]int64{{2, 10}, {1, 3}}, false},
		{[][]int64{{1, 10}}, false},
		{[][]int64{{1, 10}, {1, 3, 1}}, false},
	} {
		if got := tr.covers(c.shapes); got != c.want {
			t.Errorf("covers(%v) = %v after %v was tried", c.shapes, got, tr.shapes)
		}
	}
	tr.add([][]int64{{4, 20}, {4, 3}})
	if len(tr.shapes) != 1 || !tr.covers([][]int64{{3, 15}, {2, 2}}) {
		t.Errorf("after a larger set: %v, want it alone", tr.shapes)
	}
	const n = maxTried + 3
	for i := range int64(n) { // none covers another
		tr.add([][]int64{{1, 100 + i}, {5, 100 - i}})
	}
	if len(tr.shapes) != maxTried || tr.covers([][]int64{{4, 20}, {4, 3}}) || tr.covers([][]int64{{1, 100}, {5, 100}}) ||
		!tr.covers([][]int64{{1, 100 + n - 1}, {5, 100 - n + 1}}) {
		t.Errorf("after %d more sets: %d kept (want %d, the oldest gone): %v", maxTried+3, len(tr.shapes), maxTried, tr.shapes)
	}
}
