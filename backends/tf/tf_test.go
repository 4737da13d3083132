package tf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gorai/backends"
	"gorai/backends/backendtest"
	"gorai/tensor"
)

// The real library, as build/fetch-tensorflow.sh places it (GORAI_TF_LIB overrides); the reference system's
// graph.pb (shipped in testdata/redisai at the repository root); and the Keras model that tests/python/make_keras_model.py
// froze, with Keras' own predictions.
var (
	lib = &backendtest.Library{Backend: "TF", What: "TensorFlow", Env: "GORAI_TF_LIB", Script: "fetch-tensorflow.sh",
		Path: filepath.Join("..", "..", "build", "backends", DefaultLibrary)}
	fixtures = filepath.Join("..", "..", "testdata", "redisai")
	models   = filepath.Join("..", "..", "tests", "python", "models")
)

func TestMain(m *testing.M) { lib.Main(m) }

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("RedisAI fixture missing (testdata/redisai is part of the repository): %v", err)
	}
	return b
}

func newModel(t testing.TB, blob []byte, opts backends.ModelOptions) backends.Model {
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

var graphOpts = backends.ModelOptions{Device: "CPU", Inputs: []string{"a", "b"}, Outputs: []string{"c"}}

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

func strs(t testing.TB, shape []int64, vals ...string) tensor.Tensor {
	var b []byte
	for _, v := range vals {
		b = append(append(b, v...), 0)
	}
	return newTensor(t, tensor.String, shape, b)
}

func values(x tensor.Tensor) []float64 {
	v := make([]float64, x.Len())
	for i := range v {
		v[i] = x.Float(i)
	}
	return v
}

func release(ts []tensor.Tensor) {
	for _, x := range ts {
		if !x.IsZero() {
			x.Release()
		}
	}
}

func TestVersion(t *testing.T) {
	b := lib.Need(t)
	if b.Name() != "TF" || !regexp.MustCompile(`^2\.\d+\.\d+`).MatchString(b.Version()) {
		t.Errorf("backend %s %q, want TF 2.x", b.Name(), b.Version())
	}
	t.Logf("TensorFlow %s", b.Version())
	if backends.Loaded("tf") == nil {
		t.Error("Loaded(tf) is nil after Load")
	}
}

// TestGraphPB is the reference's own test: c = a*b with INPUTS 2 a b OUTPUTS 1 c.
func TestGraphPB(t *testing.T) {
	m := newModel(t, fixture(t, "graph.pb"), graphOpts)
	if fmt.Sprint(m.InputNames(), m.OutputNames()) != "[a b] [c]" {
		t.Errorf("names %v %v", m.InputNames(), m.OutputNames())
	}
	a, b := floats(t, []int64{2}, 2, 3), floats(t, []int64{2}, 2, 3)
	defer a.Release()
	defer b.Release()
	out, err := m.Run([]tensor.Tensor{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out)
	if len(out) != 1 || out[0].DType() != tensor.Float || fmt.Sprint(out[0].Shape(), values(out[0])) != "[2] [4 9]" {
		t.Errorf("c = %v %v, want FLOAT [2] [4 9]", out[0].Shape(), values(out[0]))
	}
	// The inputs are untouched, and the same output may be fetched twice.
	if fmt.Sprint(values(a), values(b)) != "[2 3] [2 3]" {
		t.Errorf("inputs changed: %v %v", values(a), values(b))
	}
	m2 := newModel(t, fixture(t, "graph.pb"), backends.ModelOptions{Inputs: []string{"b", "a"}, Outputs: []string{"c", "mul", "c"}})
	x, y := floats(t, []int64{2, 2}, 1, 2, 3, 4), floats(t, []int64{2, 2}, 5, 6, 7, 8)
	defer x.Release()
	defer y.Release()
	out2, err := m2.Run([]tensor.Tensor{x, y})
	if err != nil {
		t.Fatal(err)
	}
	defer release(out2)
	for i, o := range out2 {
		if fmt.Sprint(o.Shape(), values(o)) != "[2 2] [5 12 21 32]" {
			t.Errorf("output %d = %v %v", i, o.Shape(), values(o))
		}
	}
}

// npy reads a little-endian float32 C-order .npy file.
func npy(t testing.TB, name string) tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(models, name))
	if err != nil {
		t.Fatalf("%v (tests/python/make_keras_model.py makes it)", err)
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		t.Fatalf("%s is not a .npy file", name)
	}
	var hlen, off int
	if b[6] == 1 {
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	header := string(b[off : off+hlen])
	if !strings.Contains(header, "'descr': '<f4'") || !strings.Contains(header, "'fortran_order': False") {
		t.Fatalf("%s: header %s, want little-endian float32 in C order", name, header)
	}
	dims := regexp.MustCompile(`'shape': \(([^)]*)\)`).FindStringSubmatch(header)
	if dims == nil {
		t.Fatalf("%s: no shape in %s", name, header)
	}
	var shape []int64
	for _, d := range strings.Split(dims[1], ",") {
		if d = strings.TrimSpace(d); d != "" {
			n, err := strconv.ParseInt(d, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			shape = append(shape, n)
		}
	}
	return newTensor(t, tensor.Float, shape, b[off+hlen:])
}

type kerasMeta struct {
	Inputs, Outputs []string
	TensorFlow      string
}

func keras(t testing.TB) (blob []byte, meta kerasMeta) {
	t.Helper()
	blob, err := os.ReadFile(filepath.Join(models, "keras_fcn.pb"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join(models, "keras_fcn.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &meta); err != nil {
		t.Fatal(err)
	}
	return blob, meta
}

func closeTo(t testing.TB, what string, got, want tensor.Tensor, tol float64) {
	t.Helper()
	if got.DType() != want.DType() || fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
		t.Fatalf("%s: %s %v, want %s %v", what, got.DType().Name(), got.Shape(), want.DType().Name(), want.Shape())
	}
	for i := 0; i < want.Len(); i++ {
		if d := math.Abs(got.Float(i) - want.Float(i)); d > tol {
			t.Fatalf("%s: element %d is %v, want %v (off by %g)", what, i, got.Float(i), want.Float(i), d)
		}
	}
}

// TestKeras runs SmartSim's Keras FCN, frozen as freeze_model does it, and compares with Keras' prediction.
func TestKeras(t *testing.T) {
	blob, meta := keras(t)
	if fmt.Sprint(meta.Inputs, meta.Outputs) != "[x] [Identity]" {
		t.Logf("names %v %v", meta.Inputs, meta.Outputs)
	}
	m := newModel(t, blob, backends.ModelOptions{Inputs: meta.Inputs, Outputs: meta.Outputs})
	for _, suffix := range []string{"", "_5"} {
		x, want := npy(t, "keras_fcn_input"+suffix+".npy"), npy(t, "keras_fcn_output"+suffix+".npy")
		out, err := m.Run([]tensor.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "keras"+suffix, out[0], want, 1e-5)
		var sum float64
		for _, v := range values(out[0])[:10] {
			sum += v
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("softmax row sums to %v", sum)
		}
		release(out)
		x.Release()
		want.Release()
	}
}

func TestErrors(t *testing.T) {
	b := lib.Need(t)
	graph := fixture(t, "graph.pb")
	kblob, meta := keras(t)
	cases := []struct {
		name string
		blob []byte
		opts backends.ModelOptions
		err  string
	}{
		{"junk", []byte("this is not a graph"), graphOpts, "Invalid GraphDef"},
		{"truncated protobuf", []byte{0xff, 0xff, 0xff}, graphOpts, "Invalid GraphDef"},
		{"missing input", graph, backends.ModelOptions{Inputs: []string{"a", "x"}, Outputs: []string{"c"}},
			`ERR Input node named "x" not found in TF graph.`},
		{"input is not a Placeholder", graph, backends.ModelOptions{Inputs: []string{"a", "mul"}, Outputs: []string{"c"}},
			`ERR Input node named "mul" not found in TF graph.`},
		{"input with :0", graph, backends.ModelOptions{Inputs: []string{"a:0", "b"}, Outputs: []string{"c"}},
			`ERR Input node named "a:0" not found in TF graph.`},
		{"input with a NUL", graph, backends.ModelOptions{Inputs: []string{"a\x00b", "b"}, Outputs: []string{"c"}},
			`ERR Input node named "a" not found in TF graph.`},
		{"missing output", graph, backends.ModelOptions{Inputs: []string{"a", "b"}, Outputs: []string{"c", "x"}},
			`ERR Output node named "x" not found in TF graph`},
		{"keras input", kblob, backends.ModelOptions{Inputs: []string{"input"}, Outputs: meta.Outputs},
			`ERR Input node named "input" not found in TF graph.`},
		{"keras output", kblob, backends.ModelOptions{Inputs: meta.Inputs, Outputs: []string{"output"}},
			`ERR Output node named "output" not found in TF graph`},
		{"GPU", graph, backends.ModelOptions{Device: "GPU", Inputs: []string{"a", "b"}, Outputs: []string{"c"}},
			"ERR GPU requested but TF couldn't find CUDA"},
		{"GPU:1", graph, backends.ModelOptions{Device: "gpu:1", Inputs: []string{"a", "b"}, Outputs: []string{"c"}},
			"ERR GPU requested but TF couldn't find CUDA"},
		{"TPU", graph, backends.ModelOptions{Device: "TPU", Inputs: []string{"a", "b"}, Outputs: []string{"c"}},
			"ERR unsupported device"},
	}
	for _, c := range cases {
		if c.opts.Device == "" {
			c.opts.Device = "CPU"
		}
		m, err := b.NewModel(c.blob, c.opts)
		if err == nil {
			m.Close()
			t.Errorf("%s: no error, want %q", c.name, c.err)
			continue
		}
		if err.Error() != c.err {
			t.Errorf("%s: error %q, want %q", c.name, err, c.err)
		}
	}
	// The backend still works.
	m := newModel(t, graph, graphOpts)
	a := floats(t, []int64{1}, 3)
	defer a.Release()
	out, err := m.Run([]tensor.Tensor{a, a})
	if err != nil || out[0].Float(0) != 9 {
		t.Errorf("after the errors: %v", err)
	}
	release(out)
}

// TestRunErrors: a graph that fails at run time gives TensorFlow's message, on one line, and runs again.
func TestRunErrors(t *testing.T) {
	m := newModel(t, fixture(t, "graph.pb"), graphOpts)
	a2, a3 := floats(t, []int64{2}, 1, 2), floats(t, []int64{2, 2, 3}, make([]float32, 12)...)
	defer a2.Release()
	defer a3.Release()
	i32 := newTensor(t, tensor.Int32, []int64{2}, make([]byte, 8))
	defer i32.Release()
	s := strs(t, []int64{2}, "a", "b")
	defer s.Release()
	cases := []struct {
		in   []tensor.Tensor
		want string // a regular expression
	}{
		// The reference's text: "Incompatible shapes: [2] vs. [2,2,3] \t [[{{node mul}}]]".
		{[]tensor.Tensor{a2, a3}, `^Incompatible shapes: \[2\] vs\. \[2,2,3\] \t \[\[\{\{node mul\}\}\]\]`},
		{[]tensor.Tensor{a2, i32}, `int32`},
		{[]tensor.Tensor{s, a2}, `string`},
		{[]tensor.Tensor{a2}, `^ERR Expected 2 inputs but got 1$`},
		{[]tensor.Tensor{a2, {}}, `^ERR TF input b: no tensor$`},
	}
	for _, c := range cases {
		out, err := m.Run(c.in)
		if err == nil {
			release(out)
			t.Errorf("%v: no error", c.want)
			continue
		}
		if !regexp.MustCompile(c.want).MatchString(err.Error()) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("error %q, want %s on one line", err, c.want)
		}
		t.Logf("%q", err)
	}
	out, err := m.Run([]tensor.Tensor{a2, a2})
	if err != nil || fmt.Sprint(values(out[0])) != "[1 4]" {
		t.Errorf("after the errors: %v %v", err, out)
	}
	release(out)
}

func TestParallelRuns(t *testing.T) {
	graph := newModel(t, fixture(t, "graph.pb"), graphOpts)
	blob, meta := keras(t)
	km := newModel(t, blob, backends.ModelOptions{Inputs: meta.Inputs, Outputs: meta.Outputs})
	x, want := npy(t, "keras_fcn_input_5.npy"), npy(t, "keras_fcn_output_5.npy")
	defer x.Release()
	defer want.Release()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				v := float32(g*100 + i)
				a, b := floats(t, []int64{1}, v), floats(t, []int64{1}, 2)
				out, err := graph.Run([]tensor.Tensor{a, b})
				a.Release()
				b.Release()
				if err != nil {
					errs <- err
					return
				}
				if got := out[0].Float(0); got != float64(2*v) {
					errs <- fmt.Errorf("%v*2 = %v", v, got)
				}
				release(out)
				kout, err := km.Run([]tensor.Tensor{x})
				if err != nil {
					errs <- err
					return
				}
				for j := 0; j < want.Len(); j++ {
					if math.Abs(kout[0].Float(j)-want.Float(j)) > 1e-5 {
						errs <- fmt.Errorf("keras element %d: %v, want %v", j, kout[0].Float(j), want.Float(j))
						break
					}
				}
				release(kout)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestThreadsAndDevices(t *testing.T) {
	blob := fixture(t, "graph.pb")
	for _, opts := range []backends.ModelOptions{
		{Device: "cpu"},
		{Device: "CPU:3"},
		{Device: "CPU", IntraOpThreads: 2, InterOpThreads: 1},
		{Device: "CPU", IntraOpThreads: 300, InterOpThreads: 200},
	} {
		opts.Inputs, opts.Outputs = graphOpts.Inputs, graphOpts.Outputs
		m := newModel(t, blob, opts)
		a := floats(t, []int64{2}, 2, 3)
		out, err := m.Run([]tensor.Tensor{a, a})
		a.Release()
		if err != nil || fmt.Sprint(values(out[0])) != "[4 9]" {
			t.Errorf("%+v: %v", opts, err)
		}
		release(out)
	}
}

// TestSessionConfig checks the hand-written ConfigProto against RedisAI's bytes (src/backends/tensorflow.c),
// with gorai's inter-op default: -1 (the caller's thread), a 10-byte varint, when none is set.
func TestSessionConfig(t *testing.T) {
	callerThread := []byte{0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	with := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	cpu := []byte{0x0a, 0x07, 0x0a, 0x03, 'G', 'P', 'U', 0x10, 0x00}
	cases := []struct {
		gpu          bool
		id           int
		intra, inter int
		want         []byte
	}{
		{false, 0, 0, 0, with(cpu, callerThread)},
		{false, 0, 4, 0, with(cpu, []byte{0x10, 4}, callerThread)},
		{false, 0, 0, 3, with(cpu, []byte{0x28, 3})},
		{false, 0, 200, 1, with(cpu, []byte{0x10, 0xc8, 0x01, 0x28, 1})},
		{true, -1, 0, 0, with([]byte{0x32, 0x02, 0x20, 0x01}, callerThread)},
		{true, 0, 0, 0, with([]byte{0x32, 0x05, 0x20, 0x01, 0x2a, 0x01, '0'}, callerThread)},
		{true, 12, 0, 0, with([]byte{0x32, 0x06, 0x20, 0x01, 0x2a, 0x02, '1', '2'}, callerThread)},
	}
	for _, c := range cases {
		if got := sessionConfig(c.gpu, c.id, c.intra, c.inter); !bytes.Equal(got, c.want) {
			t.Errorf("sessionConfig(%v, %d, %d, %d) = % x, want % x", c.gpu, c.id, c.intra, c.inter, got, c.want)
		}
	}
}

func TestClosedModel(t *testing.T) {
	m, err := lib.Need(t).NewModel(fixture(t, "graph.pb"), graphOpts)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m.Close()
	a := floats(t, []int64{1}, 1)
	defer a.Release()
	if _, err := m.Run([]tensor.Tensor{a, a}); !errors.Is(err, errClosed) {
		t.Errorf("Run after Close: %v", err)
	}
}

// GraphDefs written field by field (tensorflow/core/framework/graph.proto, node_def.proto, attr_value.proto).

type nodeDef struct {
	name, op string
	inputs   []string
	attrs    [][2]any // name, AttrValue bytes, in order
}

func (n nodeDef) bytes() []byte {
	b := pbBytes(nil, 1, []byte(n.name))
	b = pbBytes(b, 2, []byte(n.op))
	for _, in := range n.inputs {
		b = pbBytes(b, 3, []byte(in))
	}
	for _, a := range n.attrs {
		entry := pbBytes(nil, 1, []byte(a[0].(string)))
		b = pbBytes(b, 5, pbBytes(entry, 2, a[1].([]byte)))
	}
	return b
}

func graphDef(nodes ...nodeDef) []byte {
	var b []byte
	for _, n := range nodes {
		b = pbBytes(b, 1, n.bytes())
	}
	return b
}

func attrType(dt int) []byte  { return pbVarint(nil, 6, uint64(dt)) }
func attrInt(v int) []byte    { return pbVarint(nil, 3, uint64(v)) }
func attrStr(s string) []byte { return pbBytes(nil, 2, []byte(s)) }

func placeholder(name string, dt int) nodeDef {
	return nodeDef{name: name, op: "Placeholder", attrs: [][2]any{{"dtype", attrType(dt)}}}
}

// identityGraph is y = Identity(x) for TensorFlow type dt.
func identityGraph(dt int) []byte {
	return graphDef(placeholder("x", dt), nodeDef{name: "y", op: "Identity", inputs: []string{"x"}, attrs: [][2]any{{"T", attrType(dt)}}})
}

// TestDTypes passes every data type through an Identity graph, with a shape and as a scalar.
func TestDTypes(t *testing.T) {
	for dt, code := range tfTypes {
		m := newModel(t, identityGraph(int(code)), backends.ModelOptions{Inputs: []string{"x"}, Outputs: []string{"y"}})
		for _, shape := range [][]int64{{2, 3}, nil} {
			n := 6
			if shape == nil {
				n = 1
			}
			var in tensor.Tensor
			if dt.IsString() {
				vals := []string{"", "a", "hello, world", strings.Repeat("long string ", 10), "é", "x"}
				in = strs(t, shape, vals[len(vals)-n:]...)
			} else {
				data := make([]byte, n*dt.ElemSize())
				for i := range data {
					data[i] = byte(i * 37)
					if dt.IsBool() {
						data[i] = byte(i % 2)
					}
				}
				in = newTensor(t, dt, shape, data)
			}
			out, err := m.Run([]tensor.Tensor{in})
			if err != nil {
				t.Errorf("%s %v: %v", dt.Name(), shape, err)
				in.Release()
				continue
			}
			if o := out[0]; o.DType() != dt || fmt.Sprint(o.Shape()) != fmt.Sprint(in.Shape()) || !bytes.Equal(o.Data(), in.Data()) {
				t.Errorf("%s %v: got %s %v %q, want %q", dt.Name(), shape, o.DType().Name(), o.Shape(), o.Data(), in.Data())
			}
			release(out)
			in.Release()
		}
	}
}

// TestStrings runs a graph that makes new strings (StringJoin), short and long (TensorFlow keeps strings of
// up to 22 bytes inline).
func TestStrings(t *testing.T) {
	const dtString = 7
	g := graphDef(placeholder("a", dtString), placeholder("b", dtString),
		nodeDef{name: "j", op: "StringJoin", inputs: []string{"a", "b"}, attrs: [][2]any{{"N", attrInt(2)}, {"separator", attrStr("-")}}})
	m := newModel(t, g, backends.ModelOptions{Inputs: []string{"a", "b"}, Outputs: []string{"j"}})
	long := strings.Repeat("0123456789", 5)
	a, b := strs(t, []int64{3}, "x", "", long), strs(t, []int64{3}, "y", "z", long)
	defer a.Release()
	defer b.Release()
	for i := 0; i < 3; i++ {
		out, err := m.Run([]tensor.Tensor{a, b})
		if err != nil {
			t.Fatal(err)
		}
		o := out[0]
		got := []string{string(o.Str(0)), string(o.Str(1)), string(o.Str(2))}
		if o.DType() != tensor.String || fmt.Sprint(o.Shape()) != "[3]" || fmt.Sprint(got) != fmt.Sprint([]string{"x-y", "-z", long + "-" + long}) {
			t.Errorf("StringJoin: %s %v %q", o.DType().Name(), o.Shape(), got)
		}
		release(out)
	}
}

// TestNoLeaks makes and frees models, and runs failing and succeeding runs, many times: the process must
// not grow by much (TensorFlow keeps some caches, so the bound is loose).
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	b := lib.Need(t)
	graph := fixture(t, "graph.pb")
	kblob, meta := keras(t)
	x := npy(t, "keras_fcn_input_5.npy")
	defer x.Release()
	a2, a3 := floats(t, []int64{2}, 1, 2), floats(t, []int64{3}, 1, 2, 3)
	defer a2.Release()
	defer a3.Release()
	s := strs(t, []int64{2}, strings.Repeat("long ", 20), "short")
	defer s.Release()
	sm := newModel(t, identityGraph(7), backends.ModelOptions{Inputs: []string{"x"}, Outputs: []string{"y"}})
	round := func() {
		for i := 0; i < 20; i++ {
			if m, err := b.NewModel(kblob, backends.ModelOptions{Device: "CPU", Inputs: meta.Inputs, Outputs: meta.Outputs}); err != nil {
				t.Fatal(err)
			} else {
				out, err := m.Run([]tensor.Tensor{x})
				if err != nil {
					t.Fatal(err)
				}
				release(out)
				m.Close()
			}
			for _, o := range []backends.ModelOptions{
				{Device: "CPU", Inputs: []string{"a", "x"}, Outputs: []string{"c"}},
				{Device: "CPU", Inputs: []string{"a", "b"}, Outputs: []string{"x"}},
				{Device: "GPU", Inputs: []string{"a", "b"}, Outputs: []string{"c"}},
			} {
				if _, err := b.NewModel(graph, o); err == nil {
					t.Fatal("no error")
				}
			}
			if _, err := b.NewModel(kblob[:len(kblob)/2], graphOpts); err == nil {
				t.Fatal("no error for half a graph")
			}
		}
		m, err := b.NewModel(graph, graphOpts)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for i := 0; i < 200; i++ {
			if _, err := m.Run([]tensor.Tensor{a2, a3}); err == nil {
				t.Fatal("no error")
			}
			out, err := sm.Run([]tensor.Tensor{s})
			if err != nil {
				t.Fatal(err)
			}
			release(out)
		}
	}
	round() // TensorFlow's caches and pools fill up
	before := rss(t)
	for i := 0; i < 3; i++ {
		round()
	}
	after := rss(t)
	t.Logf("RSS %d MB -> %d MB", before>>20, after>>20)
	if after-before > 32<<20 {
		t.Errorf("RSS grew from %d MB to %d MB", before>>20, after>>20)
	}
}

func rss(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestMissingLibrary runs in a fresh test process, where TensorFlow has not been loaded: a library that is
// not there, or a library that is not TensorFlow, is one clear error, remembered for lazy loads, and the
// real library still loads after it.
func TestMissingLibrary(t *testing.T) {
	if !lib.InFreshProcess(t) {
		return
	}

	if _, err := (backend{}).NewModel([]byte("x"), graphOpts); err != errNotOpen {
		t.Errorf("NewModel without a library: %v", err)
	}
	bogus := filepath.Join(t.TempDir(), "no", "libtensorflow_cc.so.2")
	_, err := backends.Load("TF", bogus)
	if err == nil {
		t.Fatal("Load from a bogus path succeeded")
	}
	if !strings.Contains(err.Error(), "could not load backend TF from "+bogus) ||
		!strings.Contains(err.Error(), "file does not exist (build/fetch-tensorflow.sh fetches it)") || strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error %q", err)
	}
	t.Logf("missing library: %v", err)
	if _, err2 := backends.Load("TF", bogus); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second lazy Load: %v, want the same error", err2)
	}
	// A library that is there but is not TensorFlow.
	notTF := filepath.Join(t.TempDir(), "libnottf.so")
	if out, err := exec.Command("cc", "-shared", "-fPIC", "-o", notTF, "-x", "c", "/dev/null").CombinedOutput(); err != nil {
		t.Logf("SKIPPED the not-TensorFlow part, no C compiler: %v %s", err, out)
	} else if _, err := backends.Open("TF", notTF); err == nil || !strings.Contains(err.Error(), "does not export TensorFlow's C API: no symbol TF_Version") {
		t.Errorf("Open of a library that is not TensorFlow: %v", err)
	}
	lib := os.Getenv("GORAI_TF_LIB")
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("SKIPPED the reload part, no library: %v", err)
	}
	// Another path is tried: a failed load-time path must not hide the default one.
	if _, err := backends.Load("TF", lib); err != nil {
		t.Fatalf("lazy Load from another path after a failure: %v", err)
	}
	if _, err := backends.Load("TF", bogus); err != nil {
		t.Errorf("Load after a successful Open: %v", err)
	}
	if _, err := backends.Open("TF", lib); err == nil {
		t.Error("a second explicit Open succeeded")
	}
}

func BenchmarkKeras(b *testing.B) {
	blob, meta := keras(b)
	m := newModel(b, blob, backends.ModelOptions{Inputs: meta.Inputs, Outputs: meta.Outputs})
	x := npy(b, "keras_fcn_input.npy")
	defer x.Release()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := m.Run([]tensor.Tensor{x})
			if err != nil {
				b.Error(err)
				return
			}
			release(out)
		}
	})
}
