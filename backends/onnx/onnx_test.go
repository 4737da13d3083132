package onnx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/backends"
	"gorai/backends/backendtest"
	"gorai/backends/onnx/onnxtest"
	"gorai/tensor"
)

// The real library, as build/fetch-onnxruntime.sh places it (GORAI_ONNX_LIB overrides), and the
// reference system's model fixtures (shipped in testdata/redisai at the repository root).
var (
	lib = &backendtest.Library{Backend: "ONNX", What: "ONNX Runtime", Env: "GORAI_ONNX_LIB", Script: "fetch-onnxruntime.sh",
		Path: filepath.Join("..", "..", "build", "backends", DefaultLibrary)}
	fixtures = filepath.Join("..", "..", "testdata", "redisai")
)

func TestMain(m *testing.M) { lib.Main(m) }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("RedisAI fixture missing (testdata/redisai is part of the repository): %v", err)
	}
	return b
}

func newModel(t *testing.T, blob []byte, opts backends.ModelOptions) backends.Model {
	t.Helper()
	if opts.Device == "" {
		opts.Device = "CPU"
	}
	m, err := lib.Need(t).NewModel(blob, opts)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

func newTensor(t testing.TB, dt tensor.DType, shape []int64, data []byte) tensor.Tensor {
	t.Helper()
	x, err := tensor.FromBlob(dt, shape, data)
	if err != nil {
		t.Fatalf("FromBlob: %v", err)
	}
	return x
}

func floats(t testing.TB, shape []int64, vals ...float32) tensor.Tensor {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return newTensor(t, tensor.Float, shape, b)
}

func release(ts []tensor.Tensor) {
	for _, x := range ts {
		if !x.IsZero() {
			x.Release()
		}
	}
}

// mnistInput is one.png as float32 pixels 0..255, shape [1,1,28,28].
func mnistInput(t *testing.T) tensor.Tensor {
	f, err := os.Open(filepath.Join(fixtures, "one.png"))
	if err != nil {
		t.Fatalf("RedisAI fixture missing (testdata/redisai is part of the repository): %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds().Dx() != 28 || g.Bounds().Dy() != 28 {
		t.Fatalf("one.png is %T %v, want 28x28 greyscale", img, img.Bounds())
	}
	px := make([]float32, 0, 28*28)
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			px = append(px, float32(g.GrayAt(x, y).Y))
		}
	}
	return floats(t, []int64{1, 1, 28, 28}, px...)
}

func argmax(x tensor.Tensor) int {
	best := 0
	for i := 1; i < x.Len(); i++ {
		if x.Float(i) > x.Float(best) {
			best = i
		}
	}
	return best
}

func TestVersion(t *testing.T) {
	b := lib.Need(t)
	if b.Name() != "ONNX" || b.Version() != "1.30.0" {
		t.Errorf("backend %s %s, want ONNX 1.30.0", b.Name(), b.Version())
	}
	if backends.Loaded("onnx") == nil {
		t.Error("Loaded(onnx) is nil after Load")
	}
}

func TestMNIST(t *testing.T) {
	m := newModel(t, fixture(t, "mnist.onnx"), backends.ModelOptions{})
	if got := fmt.Sprint(m.InputNames(), m.OutputNames()); got != "[Input3] [Plus214_Output_0]" {
		t.Errorf("names %s", got)
	}
	in := mnistInput(t)
	defer in.Release()
	out, err := m.Run([]tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out)
	if len(out) != 1 || out[0].DType() != tensor.Float || fmt.Sprint(out[0].Shape()) != "[1 10]" {
		t.Fatalf("output %d tensors, %s %v", len(out), out[0].DType().Name(), out[0].Shape())
	}
	if got := argmax(out[0]); got != 1 {
		t.Errorf("arg-max %d, want 1", got)
	}
}

// testdata/mnist_batch.onnx (mnist with a free batch dim, for autobatching) runs any batch size, and
// declares its output's batch dim free: the output is bound with the inputs' dim 0, not with a
// size ORT inferred from a batch of 1 (the annotations of the original pinned it to [1,10], and each
// run of another batch size failed once in ORT).
func TestMNISTFreeBatchDim(t *testing.T) {
	blob, err := os.ReadFile(filepath.Join(fixtures, "..", "mnist_batch.onnx"))
	if err != nil {
		t.Fatalf("testdata/mnist_batch.onnx (made by testdata/make_mnist_batch.py) is missing: %v", err)
	}
	m := newModel(t, blob, backends.ModelOptions{}).(*model)
	defer m.Close()
	one := mnistInput(t)
	defer one.Release()
	for _, rows := range []int64{1, 3} {
		in := newTensor(t, tensor.Float, []int64{rows, 1, 28, 28}, bytes.Repeat(one.Data(), int(rows)))
		out, err := m.Run([]tensor.Tensor{in})
		in.Release()
		if err != nil {
			t.Fatalf("batch of %d: %v", rows, err)
		}
		if fmt.Sprint(out[0].Shape()) != fmt.Sprintf("[%d 10]", rows) || argmax(out[0]) != 1 {
			t.Errorf("batch of %d: output %v, arg-max %d", rows, out[0].Shape(), argmax(out[0]))
		}
		release(out)
	}
	if b := m.bound[0]; b == nil || !b.batch || b.off.Load() {
		t.Errorf("output not bound with a free batch dim after runs of 1 and 3: %+v", b)
	}
}

func TestLinearIris(t *testing.T) {
	m := newModel(t, fixture(t, "linear_iris.onnx"), backends.ModelOptions{})
	if got := fmt.Sprint(m.InputNames(), m.OutputNames()); got != "[float_input] [variable]" {
		t.Errorf("names %s", got)
	}
	in := floats(t, []int64{1, 4}, 5.1, 3.5, 1.4, 0.2)
	defer in.Release()
	out, err := m.Run([]tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out)
	want := float32(-0.090524077415466309)
	if fmt.Sprint(out[0].Shape()) != "[1 1]" || float32(out[0].Float(0)) != want {
		t.Errorf("output %v %.17g, want [1 1] %.17g", out[0].Shape(), out[0].Float(0), want)
	}
}

func TestBadModel(t *testing.T) {
	b := lib.Need(t)
	for _, blob := range [][]byte{[]byte("this is not an ONNX model"), {}, {0x08}} {
		_, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"})
		if err == nil {
			t.Fatalf("NewModel(%q) succeeded", blob)
		}
		if strings.ContainsAny(err.Error(), "\r\n") || strings.Contains(err.Error(), "Error creating") {
			t.Errorf("error %q: not one line of ORT's own message", err)
		}
		t.Logf("%q -> %v", blob, err)
	}
}

func TestBadInputs(t *testing.T) {
	m := newModel(t, fixture(t, "linear_iris.onnx"), backends.ModelOptions{})
	good := floats(t, []int64{1, 4}, 1, 2, 3, 4)
	defer good.Release()
	short := floats(t, []int64{1, 3}, 1, 2, 3)
	defer short.Release()
	double := newTensor(t, tensor.Double, []int64{1, 4}, make([]byte, 32))
	defer double.Release()
	str := newTensor(t, tensor.String, []int64{1, 4}, []byte("a\x00b\x00c\x00d\x00"))
	defer str.Release()
	cases := []struct {
		name   string
		inputs []tensor.Tensor
		want   string
	}{
		{"none", nil, "ERR Expected 1 inputs but got 0"},
		{"two", []tensor.Tensor{good, good}, "ERR Expected 1 inputs but got 2"},
		{"shape", []tensor.Tensor{short}, "Got invalid dimensions for input: float_input for the following indices"},
		{"dtype", []tensor.Tensor{double}, "Unexpected input data type"},
		{"string", []tensor.Tensor{str}, "Unexpected input data type"},
	}
	for _, c := range cases {
		out, err := m.Run(c.inputs)
		if err == nil {
			release(out)
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: error %q, want one line with %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
	}
	// The model still works after failed runs.
	out, err := m.Run([]tensor.Tensor{good})
	if err != nil {
		t.Fatal(err)
	}
	release(out)
}

func TestParallelRuns(t *testing.T) {
	m := newModel(t, fixture(t, "mnist.onnx"), backends.ModelOptions{})
	in := mnistInput(t)
	defer in.Release()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := m.Run([]tensor.Tensor{in})
			if err != nil {
				errs <- err
				return
			}
			defer release(out)
			if got := argmax(out[0]); got != 1 {
				errs <- fmt.Errorf("arg-max %d", got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDevicesAndThreads(t *testing.T) {
	b := lib.Need(t)
	blob := fixture(t, "linear_iris.onnx")
	cases := []struct {
		opts backends.ModelOptions
		err  string
	}{
		{backends.ModelOptions{Device: "cpu"}, ""},
		{backends.ModelOptions{Device: "CPU:3"}, ""},
		{backends.ModelOptions{Device: "CPU", IntraOpThreads: 2, InterOpThreads: 2}, ""},
		{backends.ModelOptions{Device: "GPU"}, "ERR GPU requested but ONNX couldn't find CUDA"},
		{backends.ModelOptions{Device: "gpu:1"}, "ERR GPU requested but ONNX couldn't find CUDA"},
		{backends.ModelOptions{Device: "TPU"}, "ERR unsupported device"},
	}
	for _, c := range cases {
		m, err := b.NewModel(blob, c.opts)
		if err != nil {
			if err.Error() != c.err {
				t.Errorf("%+v: error %q, want %q", c.opts, err, c.err)
			}
			continue
		}
		if c.err != "" {
			t.Errorf("%+v: no error, want %q (a CUDA-enabled library?)", c.opts, c.err)
		}
		in := floats(t, []int64{1, 4}, 5.1, 3.5, 1.4, 0.2)
		out, err := m.Run([]tensor.Tensor{in})
		in.Release()
		if err != nil || float32(out[0].Float(0)) != float32(-0.090524077415466309) {
			t.Errorf("%+v: run %v", c.opts, err)
		}
		release(out)
		m.Close()
	}
}

func TestClosedModel(t *testing.T) {
	m, err := lib.Need(t).NewModel(fixture(t, "linear_iris.onnx"), backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	in := floats(t, []int64{1, 4}, 1, 2, 3, 4)
	defer in.Release()
	if _, err := m.Run([]tensor.Tensor{in}); err == nil {
		t.Error("Run after Close succeeded")
	}
}

// TestDTypes runs an Identity model for each data type, with dynamic dimensions, a fixed shape,
// and as a scalar.
func TestDTypes(t *testing.T) {
	b := lib.Need(t)
	cases := []struct {
		dt     tensor.DType
		onnxT  int
		shape  []int64
		data   []byte
		shapes [][]any // declared input/output shapes to try; nil: no shape declared
	}{
		{tensor.Float, 1, []int64{2, 2}, le32(0x3f800000, 0xc0000000, 0, 0x7f800000), nil},
		{tensor.Double, 11, []int64{2}, le64(math.Float64bits(1.5), math.Float64bits(-2)), nil},
		{tensor.Int8, 3, []int64{3}, []byte{1, 0x80, 0x7f}, nil},
		{tensor.Int16, 5, []int64{2}, []byte{1, 2, 0xff, 0xff}, nil},
		{tensor.Int32, 6, []int64{1, 2}, le32(7, 0xffffffff), nil},
		{tensor.Int64, 7, []int64{2, 1}, le64(1<<40, math.MaxUint64), nil},
		{tensor.UInt8, 2, []int64{4}, []byte{0, 1, 254, 255}, nil},
		{tensor.UInt16, 4, []int64{2}, []byte{0xff, 0xff, 1, 0}, nil},
		{tensor.Bool, 9, []int64{3}, []byte{1, 0, 1}, nil},
		{tensor.String, 8, []int64{3}, []byte("a\x00\x00hello\x00"), nil},
	}
	for _, c := range cases {
		for _, decl := range []string{"dynamic", "fixed", "unknown"} {
			var dims []any
			switch decl {
			case "dynamic":
				for i := range c.shape {
					dims = append(dims, fmt.Sprintf("d%d", i))
				}
			case "fixed":
				for _, d := range c.shape {
					dims = append(dims, d)
				}
			}
			name := c.dt.Name() + "/" + decl
			m, err := b.NewModel(identity(c.onnxT, dims, decl == "unknown"), backends.ModelOptions{Device: "CPU"})
			if err != nil {
				t.Errorf("%s: NewModel: %v", name, err)
				continue
			}
			in := newTensor(t, c.dt, c.shape, c.data)
			out, err := m.Run([]tensor.Tensor{in})
			if err != nil {
				t.Errorf("%s: Run: %v", name, err)
			} else if out[0].DType() != c.dt || fmt.Sprint(out[0].Shape()) != fmt.Sprint(c.shape) ||
				string(out[0].Data()) != string(c.data) {
				t.Errorf("%s: got %s %v %q, want %v %q", name, out[0].DType().Name(), out[0].Shape(),
					out[0].Data(), c.shape, c.data)
			}
			release(out)
			in.Release()
			m.Close()
		}
	}
}

// An output of a declared shape, or of one with a free dim 0 (the batch, sized as the inputs'), is
// written by ORT straight into its tensor; a model whose output has another shape than it declares
// or than the inputs' dim 0 still runs (without the binding from then on).
func TestBoundOutputs(t *testing.T) {
	b := lib.Need(t)
	for _, c := range []struct {
		name      string
		op        string
		xDims     []any
		shape     []int64
		wantBound bool
		yDeclared []any
		yShape    []int64
	}{
		{"declared", "Identity", []any{int64(3)}, []int64{3}, true, []any{int64(3)}, []int64{3}},
		{"free batch dim", "Identity", []any{"n"}, []int64{3}, true, []any{"n"}, []int64{3}},
		{"free batch dim, rank 2", "Identity", []any{"n", int64(1)}, []int64{3, 1}, true, []any{"n", int64(1)}, []int64{3, 1}},
		{"free dim 0, not the batch", "Transpose", []any{int64(1), "n"}, []int64{1, 3}, false, []any{"n", int64(1)}, []int64{3, 1}},
		{"free later dim", "Identity", []any{int64(1), "n"}, []int64{1, 3}, false, []any{int64(1), "n"}, []int64{1, 3}},
		{"declared otherwise", "Identity", []any{"n"}, []int64{3}, false, []any{int64(5)}, []int64{3}},
	} {
		bm, err := b.NewModel(unaryDeclaring(c.op, 1, c.xDims, c.yDeclared, false), backends.ModelOptions{Device: "CPU"})
		if err != nil {
			t.Fatalf("%s: NewModel: %v", c.name, err)
		}
		m := bm.(*model)
		for run := 0; run < 2; run++ {
			in := floats(t, c.shape, 1, 2, 3)
			out, err := m.Run([]tensor.Tensor{in})
			in.Release()
			if err != nil {
				t.Fatalf("%s, run %d: %v", c.name, run, err)
			}
			if fmt.Sprint(out[0].Shape()) != fmt.Sprint(c.yShape) || string(out[0].Data()) != string(le32(0x3f800000, 0x40000000, 0x40400000)) {
				t.Errorf("%s, run %d: got %v %v", c.name, run, out[0].Shape(), out[0].Data())
			}
			release(out)
		}
		if bound := m.bound[0] != nil && !m.bound[0].off.Load(); bound != c.wantBound {
			t.Errorf("%s: output bound %v after two runs, want %v", c.name, bound, c.wantBound)
		}
		m.Close()
	}
}

// An output that is a graph input, or that the graph lists again later, is not computed by ORT into
// the value it is given: ORT hands it the input's value, or the later listing's. Such outputs are not
// bound (they came back as zeros, the tensor gorai had made), whatever their dtype and dims.
func TestHandedOverOutputs(t *testing.T) {
	x, negX := le32(1, 2, 3), le32(0xffffffff, 0xfffffffe, 0xfffffffd)
	for _, c := range []struct {
		name    string
		dims    []any
		shape   []int64
		outputs []string
		want    [][]byte
	}{
		{"graph input, free batch dim", []any{"n", int64(1)}, []int64{3, 1}, []string{"y", "x"}, [][]byte{negX, x}},
		{"graph input, declared", []any{int64(3)}, []int64{3}, []string{"x", "y"}, [][]byte{x, negX}},
		{"listed twice", []any{"n"}, []int64{3}, []string{"y", "x", "y"}, [][]byte{negX, x, negX}},
	} {
		m := newModel(t, unaryListing("Neg", 6, c.dims, c.dims, false, c.outputs...), backends.ModelOptions{}).(*model)
		for run := 0; run < 2; run++ {
			in := newTensor(t, tensor.Int32, c.shape, x)
			out, err := m.Run([]tensor.Tensor{in})
			in.Release()
			if err != nil {
				t.Fatalf("%s, run %d: %v", c.name, run, err)
			}
			for i, o := range out {
				if fmt.Sprint(o.Shape()) != fmt.Sprint(c.shape) || string(o.Data()) != string(c.want[i]) {
					t.Errorf("%s, run %d: output %d (%s) is %v %v, want %v", c.name, run, i, c.outputs[i], o.Shape(), o.Data(), c.want[i])
				}
			}
			release(out)
		}
	}
}

// An output of no declared shape is a scalar in some runs only (Squeeze of [1]); a run into a scalar
// of gorai's that fails runs again without it. A [3] run after a [1] run failed with ORT's
// "pre-allocated output has shape {}", for every run after.
func TestScalarInSomeRuns(t *testing.T) {
	m := newModel(t, unaryDeclaring("Squeeze", 1, nil, nil, true), backends.ModelOptions{})
	for run, shape := range [][]int64{{3}, {1}, {3}, {3}, {1}, {1}, {3}} {
		in := floats(t, shape, []float32{1, 2, 3}[:shape[0]]...)
		out, err := m.Run([]tensor.Tensor{in})
		in.Release()
		if err != nil {
			t.Fatalf("run %d, input %v: %v", run, shape, err)
		}
		want := []int64{3}
		if shape[0] == 1 {
			want = []int64{}
		}
		if fmt.Sprint(out[0].Shape()) != fmt.Sprint(want) || out[0].Float(0) != 1 || len(want) > 0 && out[0].Float(2) != 3 {
			t.Errorf("run %d, input %v: output %v %v", run, shape, out[0].Shape(), out[0].Data())
		}
		release(out)
	}
}

func TestScalar(t *testing.T) {
	b := lib.Need(t)
	for _, unknown := range []bool{false, true} {
		m, err := b.NewModel(identity(1, []any{}, unknown), backends.ModelOptions{Device: "CPU"})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		in := newTensor(t, tensor.Float, nil, le32(math.Float32bits(2.5)))
		defer in.Release()
		out, err := m.Run([]tensor.Tensor{in})
		if err != nil {
			t.Errorf("unknown shape %v: %v", unknown, err)
			continue
		}
		if len(out[0].Shape()) != 0 || out[0].Float(0) != 2.5 {
			t.Errorf("scalar out %v %v", out[0].Shape(), out[0].Float(0))
		}
		release(out)
	}
}

// TestSequenceOutput: an output that is not a tensor (here a sequence, as scikit-learn's ZipMap
// makes) is a zero Tensor; the tensor outputs beside it are there.
func TestSequenceOutput(t *testing.T) {
	tensorType := pbBytes(nil, 1, pbBytes(pbInt(nil, 1, 1), 2, pbBytes(nil, 1, pbBytes(nil, 2, []byte("n")))))
	seqType := pbBytes(nil, 4, pbBytes(nil, 1, tensorType))
	valueInfo := func(name string, typ []byte) []byte { return pbBytes(pbBytes(nil, 1, []byte(name)), 2, typ) }
	node := func(op, in, out string) []byte {
		return pbBytes(pbBytes(pbBytes(nil, 1, []byte(in)), 2, []byte(out)), 4, []byte(op))
	}
	graph := pbBytes(nil, 1, node("SequenceConstruct", "x", "s"))
	graph = pbBytes(graph, 1, node("Identity", "x", "y"))
	graph = pbBytes(graph, 2, []byte("seq"))
	graph = pbBytes(graph, 11, valueInfo("x", tensorType))
	graph = pbBytes(graph, 12, valueInfo("s", seqType))
	graph = pbBytes(graph, 12, valueInfo("y", tensorType))
	blob := pbBytes(pbBytes(pbInt(nil, 1, 8), 8, pbInt(nil, 2, 13)), 7, graph)

	m := newModel(t, blob, backends.ModelOptions{})
	if got := fmt.Sprint(m.InputNames(), m.OutputNames()); got != "[x] [s y]" {
		t.Errorf("names %s", got)
	}
	in := floats(t, []int64{2}, 1, 2)
	defer in.Release()
	out, err := m.Run([]tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out)
	if len(out) != 2 || !out[0].IsZero() || out[1].IsZero() || out[1].Float(1) != 2 {
		t.Errorf("outputs %v", out)
	}
}

// TestSparseOutputs: a graph output of a sparse tensor type is refused by name, from the graph (ONNX
// Runtime shows it as a tensor); sequences and maps, whatever they hold, are not (their runs skip them).
func TestSparseOutputs(t *testing.T) {
	tensorOf := func(et int64) []byte { return pbBytes(nil, 1, pbInt(nil, 1, et)) } // TypeProto.tensor_type
	sparseOf := func(et int64) []byte { return pbBytes(nil, 8, pbInt(nil, 1, et)) } // TypeProto.sparse_tensor_type
	seqOf := func(elem []byte) []byte { return pbBytes(nil, 4, pbBytes(nil, 1, elem)) }
	mapOf := func(key int64, value []byte) []byte { return pbBytes(nil, 5, pbBytes(pbInt(nil, 1, key), 2, value)) }
	const float, int64, float16 = 1, 7, 10
	for _, c := range []struct {
		typ     []byte
		refused bool
	}{
		{tensorOf(float), false},
		{tensorOf(float16), false}, // unsupportedRun's, from ONNX Runtime's information
		{sparseOf(float), true},
		{seqOf(sparseOf(float)), false},
		{seqOf(tensorOf(float16)), false},
		{mapOf(int64, seqOf(tensorOf(float))), false},
	} {
		graph := pbBytes(nil, 12, pbBytes(pbBytes(nil, 1, []byte("out")), 2, c.typ))
		err := sparseOutput(pbBytes(nil, 7, graph))
		want := "<nil>"
		if c.refused {
			want = "ERR ONNX output out: sparse tensor outputs are not supported"
		}
		if got := fmt.Sprint(err); got != want {
			t.Errorf("type %x: %v, want %s", c.typ, got, want)
		}
	}
}

// TestMissingLibrary runs in a fresh test process, where ORT has not been loaded: a library that
// is not there is one clear error, remembered for lazy loads, and the real library still loads
// after it.
func TestMissingLibrary(t *testing.T) {
	if !lib.InFreshProcess(t) {
		return
	}

	bogus := filepath.Join(t.TempDir(), "no", "libonnxruntime.so.1")
	_, err := backends.Load("ONNX", bogus)
	if err == nil {
		t.Fatal("Load from a bogus path succeeded")
	}
	if !strings.Contains(err.Error(), "could not load backend ONNX from "+bogus) ||
		!strings.HasSuffix(err.Error(), ": file does not exist (build/fetch-onnxruntime.sh fetches it)") || strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error %q", err)
	}
	t.Logf("missing library: %v", err)
	if _, err2 := backends.Load("ONNX", bogus); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second lazy Load: %v, want the same error", err2)
	}
	if _, err := (backend{}).NewModel([]byte("x"), backends.ModelOptions{Device: "CPU"}); err == nil {
		t.Error("NewModel without a library succeeded")
	}
	lib := os.Getenv("GORAI_ONNX_LIB")
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("SKIPPED the reload part, no library: %v", err)
	}
	// Another path is tried: a failed load-time path must not hide the default one.
	if _, err := backends.Load("ONNX", lib); err != nil {
		t.Fatalf("lazy Load from another path after a failure: %v", err)
	}
	if _, err := backends.Load("ONNX", bogus); err != nil {
		t.Errorf("Load after a successful Open: %v", err)
	}
	if _, err := backends.Open("ONNX", lib); err == nil {
		t.Error("a second explicit Open succeeded")
	}
}

func le32(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func le64(vs ...uint64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// identity is an ONNX model y = Identity(x), written field by field (onnx.proto): elemType is
// ONNX's TensorProto.DataType; dims are int64 sizes or string names; noShape leaves the shape
// undeclared.
func identity(elemType int, dims []any, noShape bool) []byte {
	return identityDeclaring(elemType, dims, dims, noShape)
}

// identityDeclaring is identity with x and y declared with shapes of their own.
func identityDeclaring(elemType int, xDims, yDims []any, noShape bool) []byte {
	return unaryDeclaring("Identity", elemType, xDims, yDims, noShape)
}

// unaryDeclaring is a model of one node, op (with its default attributes), from x to y, declared
// with shapes of their own.
func unaryDeclaring(op string, elemType int, xDims, yDims []any, noShape bool) []byte {
	return unaryListing(op, elemType, xDims, yDims, noShape, "y")
}

// unaryListing is unaryDeclaring with the graph's outputs listed as outputs names them, each x or y.
func unaryListing(op string, elemType int, xDims, yDims []any, noShape bool, outputs ...string) []byte {
	typ := func(dims []any) []byte {
		var shape []byte
		for _, d := range dims {
			switch d := d.(type) {
			case int64:
				shape = pbBytes(shape, 1, pbInt(nil, 1, d))
			case string:
				shape = pbBytes(shape, 1, pbBytes(nil, 2, []byte(d)))
			}
		}
		tensorType := pbInt(nil, 1, int64(elemType))
		if !noShape {
			tensorType = pbBytes(tensorType, 2, shape)
		}
		return pbBytes(nil, 1, tensorType)
	}
	valueInfo := func(name string, dims []any) []byte {
		return pbBytes(pbBytes(nil, 1, []byte(name)), 2, typ(dims))
	}

	node := pbBytes(nil, 1, []byte("x"))
	node = pbBytes(node, 2, []byte("y"))
	node = pbBytes(node, 4, []byte(op))
	graph := pbBytes(nil, 1, node)
	graph = pbBytes(graph, 2, []byte("identity"))
	graph = pbBytes(graph, 11, valueInfo("x", xDims))
	for _, name := range outputs {
		graph = pbBytes(graph, 12, valueInfo(name, map[string][]any{"x": xDims, "y": yDims}[name]))
	}
	model := pbInt(nil, 1, 8)                    // ir_version
	model = pbBytes(model, 8, pbInt(nil, 2, 13)) // opset_import { version: 13 }
	return pbBytes(model, 7, graph)              // graph
}

func pbVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbInt(b []byte, field int, v int64) []byte {
	return pbVarint(pbVarint(b, uint64(field)<<3), uint64(v))
}

func pbBytes(b []byte, field int, data []byte) []byte {
	b = pbVarint(pbVarint(b, uint64(field)<<3|2), uint64(len(data)))
	return append(b, data...)
}

func BenchmarkMNIST(b *testing.B) {
	if lib.SkipReason() != "" {
		b.Skip(lib.SkipReason())
	}
	blob, err := os.ReadFile(filepath.Join(fixtures, "mnist.onnx"))
	if err != nil {
		b.Fatalf("RedisAI fixture missing (testdata/redisai is part of the repository): %v", err)
	}
	be, _ := backends.Load("ONNX", lib.Path)
	m, err := be.NewModel(blob, backends.ModelOptions{Device: "CPU"})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	in := floats(b, []int64{1, 1, 28, 28}, make([]float32, 784)...)
	defer in.Release()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := m.Run([]tensor.Tensor{in})
			if err != nil {
				b.Error(err)
				return
			}
			release(out)
		}
	})
}

// TestKillSwitch: a run longer than the model's execution timeout is told to stop and fails
// (ONNX Runtime checks between nodes, so mnist, whose run takes tens of µs, gets a timeout of 1 ns);
// the model runs normally afterwards with a generous timeout.
func TestKillSwitch(t *testing.T) {
	blob := fixture(t, "mnist.onnx")
	input, err := tensor.Zeros(tensor.Float, []int64{1, 1, 28, 28}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Release()

	m := newModel(t, blob, backends.ModelOptions{ExecutionTimeout: time.Nanosecond})
	terminated := 0
	for i := 0; i < 200; i++ {
		outs, err := m.Run([]tensor.Tensor{input})
		switch {
		case err == nil:
			release(outs)
		case strings.Contains(err.Error(), "terminate"):
			terminated++
		default:
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if terminated == 0 {
		t.Fatal("no run was terminated with a 1 ns timeout")
	}
	t.Logf("%d of 200 runs terminated", terminated)

	generous := newModel(t, blob, backends.ModelOptions{ExecutionTimeout: time.Minute})
	for i := 0; i < 50; i++ {
		outs, err := generous.Run([]tensor.Tensor{input})
		if err != nil {
			t.Fatalf("a run within the timeout: %v", err)
		}
		release(outs)
	}
}

// TestOutputsOfNoDType: a run of a model with an output of a type no tensor of RedisAI's holds fails
// saying so, whichever the type (FLOAT16 and BFLOAT16 said "not enough space: expected 12, got 6", the
// binding's failure to hold them).
func TestOutputsOfNoDType(t *testing.T) {
	for _, to := range []uint64{10, 16, 12} { // FLOAT16, BFLOAT16, UINT32
		m := newModel(t, onnxtest.Cast(to), backends.ModelOptions{})
		in := newTensor(t, tensor.Float, []int64{3}, le32(0, 0, 0))
		_, err := m.Run([]tensor.Tensor{in})
		in.Release()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR ONNX output Y: type ") || !strings.HasSuffix(err.Error(), " has no tensor data type") {
			t.Errorf("an output of element type %d: %v, want its type said to have no tensor data type", to, err)
		}
	}
}

// TestEmptyOptionalOutput: a model with an optional output fails its runs, saying so, before they are
// made: ONNX Runtime hands back an optional that holds nothing as a value the binding cannot read
// (its type is asked of a null: Redis died of SIGSEGV in libonnxruntime).
func TestEmptyOptionalOutput(t *testing.T) {
	m := newModel(t, onnxtest.EmptyOptional(), backends.ModelOptions{})
	in := floats(t, []int64{2, 3}, 1, 2, 3, 4, 5, 6)
	defer in.Release()
	out, err := m.Run([]tensor.Tensor{in})
	if err == nil || err.Error() != "ERR ONNX output Y: optional outputs are not supported" {
		release(out)
		t.Errorf("a run with an optional output: %v, want it refused", err)
	}
}

// TestScalarStringOutput: a STRING output without dimensions comes back as one (the binding's reading
// of all a tensor's strings panics on it).
func TestScalarStringOutput(t *testing.T) {
	m := newModel(t, onnxtest.ScalarString(), backends.ModelOptions{})
	in := newTensor(t, tensor.String, []int64{2}, []byte("first\x00second\x00"))
	defer in.Release()
	out, err := m.Run([]tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out)
	if y := out[0]; y.DType() != tensor.String || len(y.Shape()) != 0 || string(y.Str(0)) != "second" {
		t.Errorf("output %s %v %q, want STRING [] \"second\"", y.DType().Name(), y.Shape(), y.Str(0))
	}
}

// TestDivisionFaultFailsTheRun: an ONNX Div or Mod of integers that the processor faults on (INT_MIN / -1;
// ONNX Runtime refuses a division by zero itself) fails the run instead of ending the process (SIGFPE:
// Redis died of it), on the run's thread and on ORT's intra-op threads (a million elements over 2 threads:
// Redis died of it there even when the run's own thread was guarded), and the model runs on.
func TestDivisionFaultFailsTheRun(t *testing.T) {
	ints := func(dt tensor.DType, n int, vs ...int64) tensor.Tensor {
		var b []byte
		for range n {
			for _, v := range vs {
				if dt == tensor.Int32 {
					b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
				} else {
					b = binary.LittleEndian.AppendUint64(b, uint64(v))
				}
			}
		}
		return newTensor(t, dt, []int64{int64(n * len(vs))}, b)
	}
	const int32Type, int64Type = 6, 7
	for _, c := range []struct {
		name    string
		blob    []byte
		threads int
		a, b    tensor.Tensor
	}{
		{"Div INT64 min / -1", onnxtest.Binary("Div", int64Type), 1, ints(tensor.Int64, 1, 7, math.MinInt64), ints(tensor.Int64, 1, 2, -1)},
		{"Div INT32 min / -1", onnxtest.Binary("Div", int32Type), 1, ints(tensor.Int32, 1, math.MinInt32), ints(tensor.Int32, 1, -1)},
		{"Mod INT32 min % -1", onnxtest.Binary("Mod", int32Type), 1, ints(tensor.Int32, 1, math.MinInt32), ints(tensor.Int32, 1, -1)},
		{"Div INT64 min / -1 on 2 threads", onnxtest.Binary("Div", int64Type), 2,
			ints(tensor.Int64, 1<<19, 7, math.MinInt64), ints(tensor.Int64, 1<<19, 2, -1)},
	} {
		defer c.a.Release()
		defer c.b.Release()
		m := newModel(t, c.blob, backends.ModelOptions{ExecutionTimeout: time.Second, IntraOpThreads: c.threads})
		out, err := m.Run([]tensor.Tensor{c.a, c.b})
		if want := backends.FaultError("ONNX", "ONNX Runtime"); fmt.Sprint(err) != want.Error() {
			release(out)
			t.Fatalf("%s: %v, want %v", c.name, err, want)
		}
		// The same model, on inputs it can divide, runs: a / a is 1, a % a 0.
		out, err = m.Run([]tensor.Tensor{c.a, c.a})
		if err != nil {
			t.Fatalf("%s: the next run: %v", c.name, err)
		}
		if want := int64(strings.Count(c.name, "Div")); out[0].Int(0) != want {
			t.Errorf("%s: the next run's a by a is %d, want %d", c.name, out[0].Int(0), want)
		}
		release(out)
	}
}

// TestUnsafeOpsRefused: a model using com.microsoft's Inverse, in its graph or in a function, is refused
// at store (its run on a [4000,1] input ended Redis with SIGSEGV); what Redis loads itself is not checked.
func TestUnsafeOpsRefused(t *testing.T) {
	be := lib.Need(t)
	inverse := pbBytes(pbBytes(pbBytes(pbBytes(nil, 1, []byte("X")), 2, []byte("Y")), 4, []byte("Inverse")), 7, []byte("com.microsoft"))
	graph := pbBytes(nil, 7, pbBytes(pbBytes(nil, 2, []byte("g")), 1, inverse))
	function := pbBytes(nil, 25, pbBytes(pbBytes(pbBytes(nil, 1, []byte("f")), 10, []byte("local")), 7, inverse))
	const want = "ERR ONNX model uses com.microsoft's Inverse, which inverts a matrix that is not square past its tensors' ends: it cannot be stored"
	for name, blob := range map[string][]byte{"graph": graph, "function": function} {
		if m, err := be.NewModel(blob, backends.ModelOptions{Device: "CPU"}); fmt.Sprint(err) != want {
			if err == nil {
				m.Close()
			}
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	if err := checkUnsafeOps(onnxtest.Binary("Div", 7)); err != nil {
		t.Errorf("Div: %v", err)
	}
}
