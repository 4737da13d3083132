package tests

// TORCH models against a real server: the TorchScript fixtures of
// backends/torch/testdata (made by make_models.py there, with PyTorch's own
// outputs in expected.json) and the MNIST-example CNN of python/models (made
// by python/make_torch_models.py, with torch's outputs as .npy). MODELSTORE,
// MODELGET META/BLOB, MODELEXECUTE against torch's values, tuple outputs,
// errors, AI.INFO, batching, BGSAVE/AOF/replication, and a server whose
// TORCH shim cannot be found.

import (
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

// ---------------------------------------------------------------------------
// fixtures

// torchTensorJSON is a tensor of expected.json: data as JSON numbers (BOOL as 0/1).
type torchTensorJSON struct {
	DType string    `json:"dtype"`
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

type torchModelJSON struct {
	File       string            `json:"file"`
	InputNames []string          `json:"input_names"`
	Inputs     []torchTensorJSON `json:"inputs"`
	Outputs    []torchTensorJSON `json:"outputs"`
}

func torchTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(redistest.RepoRoot(), "backends", "torch", "testdata", name))
	if err != nil {
		t.Fatalf("committed TorchScript fixture missing (regenerate with backends/torch/testdata/make_models.py): %v", err)
	}
	return b
}

func torchExpected(t testing.TB) map[string]torchModelJSON {
	return torchExpectedIn(t, "")
}

// torchExpectedIn reads dir's expected.json ("" for testdata itself, "torch2/" for the models of torch
// 2.15); the models' files are named relative to testdata.
func torchExpectedIn(t testing.TB, dir string) map[string]torchModelJSON {
	t.Helper()
	var doc struct {
		Models map[string]torchModelJSON `json:"models"`
	}
	if err := json.Unmarshal(torchTestdata(t, dir+"expected.json"), &doc); err != nil {
		t.Fatalf("%sexpected.json: %v", dir, err)
	}
	for name, m := range doc.Models {
		m.File = dir + m.File
		doc.Models[name] = m
	}
	return doc.Models
}

// blob encodes the tensor's data little-endian in its dtype.
func (tj torchTensorJSON) blob() []byte {
	var out []byte
	le := binary.LittleEndian
	for _, v := range tj.Data {
		switch tj.DType {
		case "FLOAT":
			out = le.AppendUint32(out, math.Float32bits(float32(v)))
		case "DOUBLE":
			out = le.AppendUint64(out, math.Float64bits(v))
		case "INT8", "UINT8", "BOOL":
			out = append(out, byte(int64(v)))
		case "INT16", "UINT16":
			out = le.AppendUint16(out, uint16(int64(v)))
		case "INT32":
			out = le.AppendUint32(out, uint32(int64(v)))
		case "INT64":
			out = le.AppendUint64(out, uint64(int64(v)))
		default:
			panic("torchTensorJSON: dtype " + tj.DType)
		}
	}
	return out
}

func (tj torchTensorJSON) setArgs(key string) []any {
	args := []any{"AI.TENSORSET", key, tj.DType}
	for _, d := range tj.Shape {
		args = append(args, d)
	}
	return append(args, "BLOB", tj.blob())
}

// decodeAs decodes a blob of dtype into float64 values.
func decodeAs(dtype string, b []byte) []float64 {
	le := binary.LittleEndian
	var out []float64
	switch dtype {
	case "FLOAT":
		for i := 0; i+4 <= len(b); i += 4 {
			out = append(out, float64(math.Float32frombits(le.Uint32(b[i:]))))
		}
	case "DOUBLE":
		for i := 0; i+8 <= len(b); i += 8 {
			out = append(out, math.Float64frombits(le.Uint64(b[i:])))
		}
	case "INT8":
		for _, x := range b {
			out = append(out, float64(int8(x)))
		}
	case "UINT8", "BOOL":
		for _, x := range b {
			out = append(out, float64(x))
		}
	case "INT16":
		for i := 0; i+2 <= len(b); i += 2 {
			out = append(out, float64(int16(le.Uint16(b[i:]))))
		}
	case "INT32":
		for i := 0; i+4 <= len(b); i += 4 {
			out = append(out, float64(int32(le.Uint32(b[i:]))))
		}
	case "INT64":
		for i := 0; i+8 <= len(b); i += 8 {
			out = append(out, float64(int64(le.Uint64(b[i:]))))
		}
	}
	return out
}

// checkTorchTensor compares AI.TENSORGET key META BLOB with want: dtype and
// shape exactly, integers and booleans exactly, floats within tol (absolute
// and relative).
func checkTorchTensor(t *testing.T, c *resp.Conn, key string, want torchTensorJSON, tol float64, context string) bool {
	t.Helper()
	b := resp.BulkString
	got := do(t, c, "AI.TENSORGET", key, "META", "BLOB")
	head := resp.Arr(b("dtype"), b(want.DType), b("shape"), resp.Ints(want.Shape...))
	if got.Kind != resp.Array || len(got.Elems) != 6 || !resp.Equal(resp.Arr(got.Elems[:4]...), head) ||
		!resp.Equal(got.Elems[4], b("blob")) || got.Elems[5].Kind != resp.Bulk {
		t.Errorf("%s: AI.TENSORGET %q META BLOB\n   got: %v\n  want: %v blob <%d values>", context, key, got, head, len(want.Data))
		return false
	}
	vals := decodeAs(want.DType, got.Elems[5].Str)
	if len(got.Elems[5].Str) != len(want.blob()) || len(vals) != len(want.Data) {
		t.Errorf("%s: %q has a %d-byte blob (%d values), want %d values of %s", context, key, len(got.Elems[5].Str), len(vals), len(want.Data), want.DType)
		return false
	}
	exact := want.DType != "FLOAT" && want.DType != "DOUBLE"
	bad := 0
	for i, w := range want.Data {
		g := vals[i]
		ok := g == w
		if !exact && !ok {
			ok = math.Abs(g-w) <= tol+tol*math.Abs(w)
		}
		if !ok {
			t.Errorf("%s: %q[%d] = %v, torch computed %v", context, key, i, g, w)
			if bad++; bad >= 5 {
				return false
			}
		}
	}
	return bad == 0
}

// torchModel is a TORCH model with torch's own outputs for given inputs.
type torchModel struct {
	key, device, tag            string
	batch, minBatch, minBatchTO int64
	blob                        []byte
	inputNames                  []string
	inputs, outputs             []torchTensorJSON
	tol                         float64
}

func (m torchModel) outputNames() []string { return make([]string, len(m.outputs)) }

func (m torchModel) meta() resp.Value {
	return modelMeta("TORCH", m.device, m.tag, m.batch, m.minBatch, m.minBatchTO, m.inputNames, m.outputNames())
}

func (m torchModel) store(t *testing.T, c *resp.Conn) {
	t.Helper()
	var opts []any
	if m.tag != "" {
		opts = append(opts, "TAG", m.tag)
	}
	if m.batch > 0 {
		opts = append(opts, "BATCHSIZE", m.batch)
		if m.minBatch > 0 {
			opts = append(opts, "MINBATCHSIZE", m.minBatch)
			if m.minBatchTO > 0 {
				opts = append(opts, "MINBATCHTIMEOUT", m.minBatchTO)
			}
		}
	}
	if !expectOK(t, c, storeArgs(m.key, "TORCH", m.device, m.blob, opts...)...) {
		t.FailNow()
	}
}

// check compares MODELGET META BLOB, and MODELGET BLOB, with what was stored.
func (m torchModel) check(t *testing.T, c *resp.Conn, context string) bool {
	t.Helper()
	want := withBlob(m.meta(), resp.BulkBytes(m.blob))
	if got := do(t, c, "AI.MODELGET", m.key, "META", "BLOB"); !resp.Equal(got, want) {
		t.Errorf("%s: AI.MODELGET %q META BLOB\n   got: %v\n  want: %v", context, m.key, got, want)
		return false
	}
	if got := do(t, c, "AI.MODELGET", m.key, "BLOB"); got.Kind != resp.Bulk || string(got.Str) != string(m.blob) {
		t.Errorf("%s: AI.MODELGET %q BLOB is not the %d stored bytes: %v", context, m.key, len(m.blob), got)
		return false
	}
	return true
}

func (m torchModel) keys(prefix string) (ins, outs []string) {
	for i := range m.inputs {
		ins = append(ins, prefix+m.key+":in"+strconv.Itoa(i))
	}
	for i := range m.outputs {
		outs = append(outs, prefix+m.key+":out"+strconv.Itoa(i))
	}
	return ins, outs
}

// run sets the inputs (keys prefixed by prefix), runs the model and compares
// every output with torch's.
func (m torchModel) run(t *testing.T, c *resp.Conn, prefix, context string) bool {
	t.Helper()
	ins, outs := m.keys(prefix)
	for i, in := range m.inputs {
		if !expectOK(t, c, in.setArgs(ins[i])...) {
			return false
		}
	}
	if !expectOK(t, c, execArgs(m.key, ins, outs)...) {
		t.Errorf("%s: running %q failed", context, m.key)
		return false
	}
	ok := true
	for i, out := range m.outputs {
		ok = checkTorchTensor(t, c, outs[i], out, m.tol, context+": "+m.key) && ok
	}
	return ok
}

// npyTensor reads a float32 .npy of python/models as a tensor of the given shape.
func npyTensor(t testing.TB, name string, shape ...int64) torchTensorJSON {
	t.Helper()
	data, header := npyData(t, testModel(t, name))
	if !strings.Contains(header, "'descr': '<f4'") || strings.Contains(header, "'fortran_order': True") {
		t.Fatalf("%s: header %q, want little-endian float32 in C order", name, header)
	}
	vals := decodeAs("FLOAT", data)
	if int64(len(vals)) != prod(shape) {
		t.Fatalf("%s: %d values, want shape %v", name, len(vals), shape)
	}
	return torchTensorJSON{DType: "FLOAT", Shape: shape, Data: vals}
}

// cnnTolerance: the CNN's log-softmax outputs (about -2.3) from the server's
// libtorch against the same libtorch in Python; only rounding that depends on
// the thread count can differ.
const cnnTolerance = 1e-5

// cnnModel is the CNN of python/models on its batch of 20 images.
func cnnModel(t testing.TB, key string) torchModel {
	t.Helper()
	return torchModel{key: key, device: "CPU", blob: testModel(t, "cnn.pt"), inputNames: []string{"x"},
		inputs:  []torchTensorJSON{npyTensor(t, "cnn_input.npy", 20, 1, 28, 28)},
		outputs: []torchTensorJSON{npyTensor(t, "cnn_output.npy", 20, 10)},
		tol:     cnnTolerance}
}

// fixtureModel is one model of backends/torch/testdata with expected.json's values.
func fixtureModel(t testing.TB, exp map[string]torchModelJSON, name, key string) torchModel {
	t.Helper()
	e, ok := exp[name]
	if !ok {
		t.Fatalf("expected.json has no model %q", name)
	}
	return torchModel{key: key, device: "CPU", blob: torchTestdata(t, e.File), inputNames: e.InputNames,
		inputs: e.Inputs, outputs: e.Outputs, tol: 1e-6}
}

// rows is rows [from, to) of a tensor along dim 0.
func (tj torchTensorJSON) rows(from, to int64) torchTensorJSON {
	per := prod(tj.Shape[1:])
	shape := append([]int64{to - from}, tj.Shape[1:]...)
	return torchTensorJSON{DType: tj.DType, Shape: shape, Data: tj.Data[from*per : to*per]}
}

// ---------------------------------------------------------------------------
// tests

// TestTorchModels: every fixture stored, described (forward's argument names
// as inputs, "" per output) and run against torch's outputs, including a
// Tuple of two outputs, two inputs, INT64/DOUBLE/BOOL tensors and a 0-dim
// output; the CNN on 20 images and on 1.
func TestTorchModels(t *testing.T) {
	t.Parallel()
	exp := torchExpected(t)
	s := startServer(t)
	c := s.Conn(t)
	models := []torchModel{cnnModel(t, "cnn")}
	for _, name := range []string{"linear", "pair", "two_inputs", "types", "scalar"} {
		models = append(models, fixtureModel(t, exp, name, name))
	}
	want := map[string]struct{ ins, outs []string }{
		"cnn": {[]string{"x"}, []string{""}}, "linear": {[]string{"x"}, []string{""}}, "pair": {[]string{"x"}, []string{"", ""}},
		"two_inputs": {[]string{"a", "b"}, []string{""}}, "types": {[]string{"counts", "weights"}, []string{"", "", ""}},
		"scalar": {[]string{"x"}, []string{""}},
	}
	for i, m := range models {
		m.tag = "tag " + m.key
		models[i] = m
		m.store(t, c)
		expect(t, c, resp.Simple("AI__MODEL"), "TYPE", m.key)
		w := want[m.key]
		expect(t, c, modelMeta("TORCH", "CPU", m.tag, 0, 0, 0, w.ins, w.outs), "AI.MODELGET", m.key, "META")
		m.check(t, c, "stored")
		m.run(t, c, "", "first run")
		// a second run over the same output keys gives the same
		m.run(t, c, "", "second run")
	}

	// the CNN on a batch of 1, and on the first 5 images (same rows as in the batch of 20)
	cnn := models[0]
	one := cnn
	one.inputs = []torchTensorJSON{npyTensor(t, "cnn_input_1.npy", 1, 1, 28, 28)}
	one.outputs = []torchTensorJSON{npyTensor(t, "cnn_output_1.npy", 1, 10)}
	one.run(t, c, "one:", "batch of 1")
	five := cnn
	five.inputs = []torchTensorJSON{cnn.inputs[0].rows(0, 5)}
	five.outputs = []torchTensorJSON{cnn.outputs[0].rows(0, 5)}
	five.run(t, c, "five:", "batch of 5")
	// the rows differ by far more than the tolerance, so mixed-up rows would show
	if d := math.Abs(cnn.outputs[0].Data[0] - cnn.outputs[0].Data[10]); d < 100*cnnTolerance {
		t.Fatalf("the CNN's first two output rows differ by only %g", d)
	}

	// the tuple model into 2 OUTPUTS: shapes [2,3] and [2]
	b := resp.BulkString
	pair := models[2]
	expectOK(t, c, "AI.TENSORSET", "p:in", "FLOAT", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6")
	expectOK(t, c, execArgs(pair.key, []string{"p:in"}, []string{"p:double", "p:sum"})...)
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(2, 3), b("values"), resp.BulkStrings("2", "4", "6", "8", "10", "12")),
		"AI.TENSORGET", "p:double", "META", "VALUES")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(2), b("values"), resp.BulkStrings("6", "15")),
		"AI.TENSORGET", "p:sum", "META", "VALUES")
	// a batch dimension that is not the fixture's
	expectOK(t, c, "AI.TENSORSET", "p:in3", "FLOAT", "3", "1", "VALUES", "-1", "0.5", "7")
	expectOK(t, c, execArgs(pair.key, []string{"p:in3"}, []string{"p:d3", "p:s3"})...)
	expect(t, c, resp.BulkStrings("-2", "1", "14"), "AI.TENSORGET", "p:d3", "VALUES")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(3), b("values"), resp.BulkStrings("-1", "0.5", "7")),
		"AI.TENSORGET", "p:s3", "META", "VALUES")

	// two inputs are bound in order: swapping them changes the result (a + 2b)
	expectOK(t, c, "AI.TENSORSET", "ta", "FLOAT", "2", "VALUES", "1", "10")
	expectOK(t, c, "AI.TENSORSET", "tb", "FLOAT", "2", "VALUES", "100", "1000")
	expectOK(t, c, execArgs("two_inputs", []string{"ta", "tb"}, []string{"tab"})...)
	expect(t, c, resp.BulkStrings("201", "2010"), "AI.TENSORGET", "tab", "VALUES")
	expectOK(t, c, execArgs("two_inputs", []string{"tb", "ta"}, []string{"tba"})...)
	expect(t, c, resp.BulkStrings("102", "1020"), "AI.TENSORGET", "tba", "VALUES")

	// the same key as input and output
	expectOK(t, c, "AI.TENSORSET", "same", "FLOAT", "1", "3", "VALUES", "1", "2", "3")
	expectOK(t, c, execArgs("linear", []string{"same"}, []string{"same"})...)
	checkTorchTensor(t, c, "same", torchTensorJSON{DType: "FLOAT", Shape: []int64{1, 2}, Data: []float64{
		float64(float32(0.5*1 - 1*2 + 2*3 + 0.1)), float64(float32(1.5*1 + 0.25*2 - 0.75*3 - 0.2))}}, 1e-6, "linear in place")

	// MODELRUN (deprecated) runs TORCH models too; a CPU:<n> device is another queue
	expectOK(t, c, "AI.MODELRUN", "two_inputs", "INPUTS", "ta", "tb", "OUTPUTS", "tab2")
	expect(t, c, resp.BulkStrings("201", "2010"), "AI.TENSORGET", "tab2", "VALUES")
	onCPU1 := models[1]
	onCPU1.key, onCPU1.device = "linear:cpu1", "CPU:1"
	onCPU1.store(t, c)
	onCPU1.check(t, c, "on CPU:1")
	onCPU1.run(t, c, "", "on CPU:1")

	// a model stored in several BLOB chunks (MODELSTORE and MODELSET) is the concatenation
	blob := cnn.blob
	parts := []any{blob[:1000], []byte{}, blob[1000 : len(blob)/2], blob[len(blob)/2:]}
	expectOK(t, c, append([]any{"AI.MODELSTORE", "chunked", "TORCH", "CPU", "BLOB"}, parts...)...)
	expectOK(t, c, append([]any{"AI.MODELSET", "chunked2", "TORCH", "CPU", "BLOB"}, parts...)...)
	for _, k := range []string{"chunked", "chunked2"} {
		ck := cnn
		ck.key, ck.tag = k, ""
		ck.check(t, c, "chunked store")
		ck.run(t, c, "", "chunked store")
	}

	// _MODELSCAN lists them; MODELDEL removes one
	v := do(t, c, "AI._MODELSCAN")
	seen := map[string]string{}
	for _, e := range v.Elems {
		if len(e.Elems) == 2 {
			seen[e.Elems[0].Text()] = e.Elems[1].Text()
		}
	}
	for _, m := range models {
		if seen[m.key] != m.tag {
			t.Errorf("AI._MODELSCAN %v lacks [%q, %q]", v, m.key, m.tag)
		}
	}
	expectOK(t, c, "AI.MODELDEL", "pair")
	expectErr(t, c, errModelEmpty, "AI.MODELGET", "pair", "META")
	expectErr(t, c, errModelEmpty, execArgs("pair", []string{"p:in"}, []string{"x", "y"})...)
	expectErr(t, c, errNoRunInfo, "AI.INFO", "pair")
	expectPing(t, c)
}

// TestTorchModelsTorch2: the fixtures as torch 2.15 saved them, and attention through
// scaled_dot_product_attention (traced, and scripted behind a branch), which libtorch 1.13 refused
// ("Unknown builtin op"): stored, described and run against torch's outputs.
func TestTorchModelsTorch2(t *testing.T) {
	t.Parallel()
	exp := torchExpectedIn(t, "torch2/")
	c := startServer(t).Conn(t)
	for _, name := range []string{"linear", "pair", "two_inputs", "types", "scalar", "attention", "attention_branch"} {
		m := fixtureModel(t, exp, name, name)
		m.store(t, c)
		m.check(t, c, "stored")
		m.run(t, c, "", "run")
	}
	expectPing(t, c)
}

// TestTorchModelErrors: count mismatches, garbage blobs, unsupported input
// dtypes, wrong shapes, a List output and GPU without CUDA: each an error
// reply, nothing written, the server and the models alive.
func TestTorchModelErrors(t *testing.T) {
	t.Parallel()
	exp := torchExpected(t)
	s := startServer(t)
	c := s.Conn(t)
	linear := fixtureModel(t, exp, "linear", "linear")
	two := fixtureModel(t, exp, "two_inputs", "two")
	pair := fixtureModel(t, exp, "pair", "pair")
	cnn := cnnModel(t, "cnn")
	for _, m := range []torchModel{linear, two, pair, cnn} {
		m.store(t, c)
	}
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6")
	expectOK(t, c, "AI.TENSORSET", "b", "FLOAT", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6")

	// input and output counts against forward's signature and return type
	expectErr(t, c, errInputsMismatch, execArgs("two", []string{"a"}, []string{"o"})...)
	expectErr(t, c, errInputsMismatch, execArgs("two", []string{"a", "b", "a"}, []string{"o"})...)
	expectErr(t, c, errInputsMismatch, execArgs("linear", []string{"a", "b"}, []string{"o"})...)
	expectErr(t, c, errOutputsMismatch, execArgs("linear", []string{"a"}, []string{"o", "o2"})...)
	expectErr(t, c, errOutputsMismatch, execArgs("pair", []string{"a"}, []string{"o"})...)
	expectErr(t, c, errOutputsMismatch, execArgs("pair", []string{"a"}, []string{"o", "o2", "o3"})...)
	expectErr(t, c, errInputsMismatch, "AI.MODELRUN", "two", "INPUTS", "a", "OUTPUTS", "o")
	expect(t, c, resp.Int(0), "EXISTS", "o")
	// parse errors are not counted
	expectRunInfo(t, c, runInfo("two", "TORCH", "CPU", "", 0, 0, 0, 0), "two")

	// unsupported input dtypes: an error reply from the run, counted as an error
	for _, in := range [][]any{
		{"AI.TENSORSET", "u16", "UINT16", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6"},
		{"AI.TENSORSET", "str", "STRING", "2", "3", "VALUES", "a", "b", "c", "d", "e", "f"},
	} {
		expectOK(t, c, in...)
		key := in[1].(string)
		got := do(t, c, execArgs("linear", []string{key}, []string{"o"})...)
		if got.Kind != resp.Error || len(got.Str) == 0 || strings.ContainsAny(got.Text(), "\r\n") {
			t.Errorf("linear on a %s input: got %v, want a one-line error reply", in[2], got)
		} else {
			t.Logf("linear on %s: %s", in[2], got.Text())
		}
	}
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectRunInfo(t, c, runInfo("linear", "TORCH", "CPU", "", 0, 0, 2, 2), "linear")

	// wrong shapes and a wrong dtype: libtorch's error
	expectOK(t, c, "AI.TENSORSET", "small", "FLOAT", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6")
	expectOK(t, c, "AI.TENSORSET", "dbl", "DOUBLE", "2", "3", "VALUES", "1", "2", "3", "4", "5", "6")
	expectOK(t, c, "AI.TENSORSET", "four", "FLOAT", "4", "VALUES", "1", "2", "3", "4")
	for _, args := range [][]any{
		execArgs("cnn", []string{"small"}, []string{"o"}),
		execArgs("linear", []string{"dbl"}, []string{"o"}),
		execArgs("linear", []string{"four"}, []string{"o"}),
		execArgs("two", []string{"a", "four"}, []string{"o"}),
	} {
		got := do(t, c, args...)
		if got.Kind != resp.Error || len(got.Str) == 0 || strings.ContainsAny(got.Text(), "\r\n") {
			t.Errorf("%s: got %v, want a one-line error reply", fmtArgs(args), got)
		} else {
			t.Logf("%s: %s", fmtArgs(args), got.Text())
		}
		expectPing(t, c)
	}
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "", 0, 0, 1, 1), "cnn")

	// garbage blobs: an error reply, no key, an existing model kept
	blob := cnn.blob
	bad := []struct {
		name string
		blob []byte
	}{
		{"text", []byte("this is not a TorchScript model")},
		{"empty", []byte{}},
		{"one byte", []byte("x")},
		{"truncated half", blob[:len(blob)/2]},
		{"truncated end", blob[:len(blob)-1]},
		{"onnx", testModel(t, "kmeans.onnx")},
		{"zip header only", blob[:64]},
	}
	for _, bb := range bad {
		for _, key := range []string{"bad", "cnn"} {
			got := do(t, c, storeArgs(key, "TORCH", "CPU", bb.blob)...)
			if got.Kind != resp.Error || len(got.Str) == 0 || strings.ContainsAny(got.Text(), "\r\n") {
				t.Errorf("AI.MODELSTORE %s TORCH CPU BLOB <%s>: got %v, want a one-line error reply", key, bb.name, got)
			} else if key == "bad" {
				t.Logf("%s: %s", bb.name, got.Text())
			}
			expectPing(t, c)
		}
	}
	expect(t, c, resp.Int(0), "EXISTS", "bad")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "bad")
	// a backend error comes before WRONGTYPE
	expectOK(t, c, "SET", "strkey", "v")
	if got := do(t, c, storeArgs("strkey", "TORCH", "CPU", bad[0].blob)...); got.Kind != resp.Error || strings.HasPrefix(got.Text(), "WRONGTYPE") {
		t.Errorf("garbage TORCH blob on a string key: got %v, want the backend's error", got)
	}
	expectErr(t, c, errWrongType, storeArgs("strkey", "TORCH", "CPU", linear.blob)...)
	expect(t, c, resp.BulkString("v"), "GET", "strkey")

	// List[Tensor] of unknown length is refused; GPU without CUDA
	lst := exp["list_out"]
	if got := do(t, c, storeArgs("list", "TORCH", "CPU", torchTestdata(t, lst.File))...); got.Kind != resp.Error {
		t.Errorf("a model returning List[Tensor]: got %v, want an error reply", got)
	}
	expect(t, c, resp.Int(0), "EXISTS", "list")
	for _, dev := range []string{"GPU", "GPU:0"} {
		expectErr(t, c, "GPU requested but Torch couldn't find CUDA", storeArgs("gpu", "TORCH", dev, linear.blob)...)
	}
	expect(t, c, resp.Int(0), "EXISTS", "gpu")
	expectErr(t, c, errInvalidDevice, storeArgs("gpu", "TORCH", "TPU", linear.blob)...)

	// everything still works
	cnn.check(t, c, "after the errors")
	cnn.run(t, c, "", "after the errors")
	linear.run(t, c, "", "after the errors")
	two.run(t, c, "", "after the errors")
}

// TestTorchInfo: AI.INFO of a TORCH model counts calls, errors and samples
// (dim 0 of the first output, i.e. the batch size); overwrite resets it.
func TestTorchInfo(t *testing.T) {
	t.Parallel()
	exp := torchExpected(t)
	s := startServer(t)
	c := s.Conn(t)
	cnn := cnnModel(t, "cnn")
	cnn.tag = "t"
	cnn.store(t, c)
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t", 0, 0, 0, 0), "cnn")
	cnn.run(t, c, "", "1st")
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t", -1, 20, 1, 0), "cnn")
	cnn.run(t, c, "", "2nd")
	expectOK(t, c, "AI.TENSORSET", "one", "FLOAT", "1", "1", "28", "28", "BLOB", npyTensor(t, "cnn_input_1.npy", 1, 1, 28, 28).blob())
	expectOK(t, c, execArgs("cnn", []string{"one"}, []string{"one:out"})...)
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t", -1, 41, 3, 0), "cnn")
	expectOK(t, c, "AI.TENSORSET", "bad", "FLOAT", "2", "2")
	if got := do(t, c, execArgs("cnn", []string{"bad"}, []string{"o"})...); got.Kind != resp.Error {
		t.Errorf("the CNN on a [2,2] input: %v, want an error", got)
	}
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t", -1, 41, 4, 1), "cnn")
	expectOK(t, c, "AI.INFO", "cnn", "RESETSTAT")
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t", 0, 0, 0, 0), "cnn")

	// the tuple model: samples from its first output ([2,3])
	pair := fixtureModel(t, exp, "pair", "pair")
	pair.device = "cpu:3"
	pair.store(t, c)
	pair.run(t, c, "", "pair")
	pair.run(t, c, "", "pair")
	expectRunInfo(t, c, runInfo("pair", "TORCH", "cpu:3", "", -1, 4, 2, 0), "pair")

	// overwriting (with an ONNX model, even) gives a fresh entry
	cnn.tag = "t2"
	cnn.store(t, c)
	expectRunInfo(t, c, runInfo("cnn", "TORCH", "CPU", "t2", 0, 0, 0, 0), "cnn")
	expectOK(t, c, storeArgs("pair", "ONNX", "CPU", testModel(t, "kmeans.onnx"))...)
	expectRunInfo(t, c, runInfo("pair", "ONNX", "CPU", "", 0, 0, 0, 0), "pair")
	expect(t, c, modelMeta("ONNX", "CPU", "", 0, 0, 0, []string{"X"}, []string{"label", "scores"}), "AI.MODELGET", "pair", "META")
}

// TestTorchBatching: two clients' requests of 10 images each are run as one
// batch of 20 (BATCHSIZE 20 MINBATCHSIZE 20) and each gets its own rows back.
func TestTorchBatching(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c1 := s.Conn(t)
	c2 := s.Conn(t)
	cnn := cnnModel(t, "cnn")
	// without batching the first request would wait for MINBATCHTIMEOUT (20 s)
	cnn.batch, cnn.minBatch, cnn.minBatchTO = 20, 20, 20000
	cnn.store(t, c1)
	expect(t, c1, cnn.meta(), "AI.MODELGET", "cnn", "META")
	in, out := cnn.inputs[0], cnn.outputs[0]
	expectOK(t, c1, in.rows(0, 10).setArgs("in1")...)
	expectOK(t, c2, in.rows(10, 20).setArgs("in2")...)

	start := time.Now()
	if err := c1.Send(execArgs("cnn", []string{"in1"}, []string{"out1"})...); err != nil {
		t.Fatal(err)
	}
	if err := c1.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the first request reach the queue
	expectOK(t, c2, execArgs("cnn", []string{"in2"}, []string{"out2"})...)
	v, err := c1.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Equal(v, resp.Simple("OK")) {
		t.Fatalf("first request: %v", v)
	}
	// Answered before MINBATCHTIMEOUT could release the first request alone: the two ran as one batch.
	// (Not a speed limit: only the timeout, never load, makes the unbatched case reach it.)
	if el, to := time.Since(start), time.Duration(cnn.minBatchTO)*time.Millisecond; el >= to {
		t.Errorf("the two requests took %v, MINBATCHTIMEOUT %v: they were not batched (MINBATCHTIMEOUT released them)", el, to)
	}
	checkTorchTensor(t, c1, "out1", out.rows(0, 10), cnnTolerance, "batched request 1")
	checkTorchTensor(t, c1, "out2", out.rows(10, 20), cnnTolerance, "batched request 2")
	// each request counts its own samples
	expectRunInfo(t, c1, runInfo("cnn", "TORCH", "CPU", "", -1, 20, 2, 0), "cnn")

	// a request of the full batch size runs alone at once
	cnn.run(t, c1, "", "a full batch")
}

// torchPersistenceModels: the CNN with every option, two fixtures with
// none, one of them on another device string and under a binary key.
func torchPersistenceModels(t *testing.T) []torchModel {
	exp := torchExpected(t)
	cnn := cnnModel(t, "p:cnn")
	cnn.tag, cnn.batch, cnn.minBatch, cnn.minBatchTO = "cnn tag", 40, 2, 10
	pair := fixtureModel(t, exp, "pair", "p:pair")
	types := fixtureModel(t, exp, "types", "p:types\x00bin\xff")
	types.device, types.tag = "CPU:2", "t\x00g"
	return []torchModel{cnn, pair, types}
}

// checkTorchModels checks each model's META and BLOB, a fresh AI.INFO, and
// that it runs (inputs and outputs under prefix).
func checkTorchModels(t *testing.T, c *resp.Conn, ms []torchModel, prefix, context string) {
	t.Helper()
	for _, m := range ms {
		m.check(t, c, context)
		expect(t, c, resp.Simple("AI__MODEL"), "TYPE", m.key)
		expectRunInfo(t, c, runInfo(m.key, "TORCH", m.device, m.tag, 0, 0, 0, 0), m.key)
		m.run(t, c, prefix, context)
	}
}

// TestTorchPersistenceBGSAVE: TORCH models survive BGSAVE + restart (also
// chunked in the RDB) byte for byte, and run.
func TestTorchPersistenceBGSAVE(t *testing.T) {
	t.Parallel()
	ms := torchPersistenceModels(t)
	for _, chunk := range []int{defaultChunkSize, 1 << 20} {
		t.Run("MODEL_CHUNK_SIZE="+strconv.Itoa(chunk), func(t *testing.T) {
			s := startServer(t)
			c := s.Conn(t)
			expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", chunk)
			for _, m := range ms {
				m.store(t, c)
				m.run(t, c, "", "before")
			}
			expect(t, c, resp.Simple("Background saving started"), "BGSAVE")
			waitBgsave(t, c)
			expectOK(t, c, storeArgs("after-save", "TORCH", "CPU", ms[1].blob)...)
			c = restart(t, s)
			expect(t, c, resp.Int(0), "EXISTS", "after-save")
			expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", defaultChunkSize)
			checkTorchModels(t, c, ms, "r1:", "after BGSAVE + restart")
			// outputs of the runs before the save are in the RDB
			for _, m := range ms {
				_, outs := m.keys("")
				for i, o := range outs {
					checkTorchTensor(t, c, o, m.outputs[i], m.tol, "output saved in the RDB")
				}
			}
			expectOK(t, c, "SAVE")
			c = restart(t, s)
			checkTorchModels(t, c, ms, "r2:", "after SAVE of the reloaded data + restart")
		})
	}
}

// TestTorchPersistenceAOF: BGREWRITEAOF writes AI.MODELSTORE <key> TORCH
// <device> TAG .. BATCHSIZE .. MINBATCHSIZE .. MINBATCHTIMEOUT .. BLOB <the
// stored bytes> (no INPUTS/OUTPUTS); a restart replays it.
func TestTorchPersistenceAOF(t *testing.T) {
	t.Parallel()
	ms := torchPersistenceModels(t)
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble="+preamble, func(t *testing.T) {
			s := startServer(t, "appendonly yes", "appendfsync everysec", "aof-use-rdb-preamble "+preamble)
			c := s.Conn(t)
			for _, m := range ms {
				m.store(t, c)
				m.run(t, c, "", "before")
			}
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			if preamble == "no" {
				byKey := map[string][]string{}
				for _, cmd := range baseAOF(t, s) {
					if len(cmd) > 1 && strings.EqualFold(cmd[0], "AI.MODELSTORE") {
						byKey[cmd[1]] = cmd
					}
				}
				for _, m := range ms {
					want := []string{"AI.MODELSTORE", m.key, "TORCH", m.device, "TAG", m.tag,
						"BATCHSIZE", strconv.FormatInt(m.batch, 10), "MINBATCHSIZE", strconv.FormatInt(m.minBatch, 10),
						"MINBATCHTIMEOUT", strconv.FormatInt(m.minBatchTO, 10), "BLOB", string(m.blob)}
					got := byKey[m.key]
					if got == nil {
						t.Errorf("base AOF has no AI.MODELSTORE for %q", m.key)
						continue
					}
					got = append([]string{strings.ToUpper(got[0])}, got[1:]...)
					if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
						t.Errorf("base AOF command for %q:\n   got: %s\n  want: %s", m.key, fmtStrings(got), fmtStrings(want))
					}
				}
			}
			// after the rewrite, in the incremental AOF: a new model and an overwrite
			extra := ms[1]
			extra.key, extra.tag = "p:extra", "x"
			extra.store(t, c)
			over := ms[0]
			over.tag = "overwritten"
			over.batch, over.minBatch, over.minBatchTO = 0, 0, 0
			over.store(t, c)
			want := []torchModel{over, ms[1], ms[2], extra}
			c = restart(t, s)
			checkTorchModels(t, c, want, "r1:", "after AOF rewrite + restart")

			// and a second rewrite of the reloaded data
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			c = restart(t, s)
			checkTorchModels(t, c, want, "r2:", "after a second AOF rewrite + restart")
		})
	}
}

// TestTorchReplication: a replica gets TORCH models (stored before and after
// it connected), byte for byte, and runs them itself (replica-read-only no).
func TestTorchReplication(t *testing.T) {
	t.Parallel()
	ms := torchPersistenceModels(t)
	m := startServer(t)
	mc := m.Conn(t)
	ms[0].store(t, mc)
	ms[0].run(t, mc, "", "on the master")

	r := startServer(t, "replicaof 127.0.0.1 "+strconv.Itoa(m.Port()), "replica-read-only no")
	rc := r.Conn(t)
	waitFor(t, 60*time.Second, "replica link up", func() (bool, string) {
		ri := info(t, rc, "replication")
		return ri["master_link_status"] == "up" && ri["master_sync_in_progress"] == "0",
			"master_link_status=" + ri["master_link_status"] + " sync_in_progress=" + ri["master_sync_in_progress"]
	})
	for _, mm := range ms[1:] {
		mm.store(t, mc)
		mm.run(t, mc, "", "on the master")
	}
	waitFor(t, 60*time.Second, "replica offset to reach the master's", func() (bool, string) {
		mo := info(t, mc, "replication")["master_repl_offset"]
		ro := info(t, rc, "replication")["slave_repl_offset"]
		return mo != "" && mo == ro, "master_repl_offset=" + mo + " slave_repl_offset=" + ro
	})
	expect(t, rc, do(t, mc, "DBSIZE"), "DBSIZE")
	for _, mm := range ms {
		mm.check(t, rc, "on the replica")
		// the master's outputs arrived as tensors; the replica did not run them
		_, outs := mm.keys("")
		for i, o := range outs {
			checkTorchTensor(t, rc, o, mm.outputs[i], mm.tol, "replicated output")
		}
		expectRunInfo(t, rc, runInfo(mm.key, "TORCH", mm.device, mm.tag, 0, 0, 0, 0), mm.key)
		mm.run(t, rc, "local:", "on the replica")
		samples := int64(0)
		if len(mm.outputs[0].Shape) > 0 {
			samples = mm.outputs[0].Shape[0]
		}
		expectRunInfo(t, rc, runInfo(mm.key, "TORCH", mm.device, mm.tag, -1, samples, 1, 0), mm.key)
	}
}

// TestTorchShimMissing: with BACKENDSPATH an empty directory (no
// torch/libgorai_torch.so) and ONNX Runtime named at load, the module loads
// and serves tensors and ONNX models; a TORCH model gets "ERR Could not load
// backend" and the log says why. AI.CONFIG LOADBACKEND with the real shim
// then makes TORCH work.
func TestTorchShimMissing(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	cnn := cnnModel(t, "cnn")
	empty := t.TempDir()
	ort := filepath.Join(redistest.RepoRoot(), "build", "backends", "onnx", "libonnxruntime.so.1")
	if _, err := os.Stat(ort); err != nil {
		t.Fatalf("ONNX Runtime not built (make build): %v", err)
	}
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKENDSPATH", empty, "ONNX", ort}})
	c := s.Conn(t)
	expect(t, c, resp.BulkString(empty), "AI.CONFIG", "GET", "BACKENDSPATH")

	// tensors
	expectOK(t, c, "AI.TENSORSET", "t", "FLOAT", "2", "VALUES", "1.5", "-2")
	expect(t, c, resp.BulkStrings("1.5", "-2"), "AI.TENSORGET", "t", "VALUES")
	// ONNX
	expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("mnist", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")

	// TORCH: the fixed reply, twice (the failure is remembered), nothing stored
	shim := filepath.Join(empty, "torch", "libgorai_torch.so")
	for i := 0; i < 2; i++ {
		expectErr(t, c, errLoadBackend, storeArgs("m", "TORCH", "CPU", cnn.blob)...)
		expectErr(t, c, errLoadBackend, "AI.MODELSET", "m", "TORCH", "CPU", "BLOB", cnn.blob)
	}
	expect(t, c, resp.Int(0), "EXISTS", "m")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "m")
	waitFor(t, 5*time.Second, "the log to say why TORCH could not be loaded", func() (bool, string) {
		l := s.Log()
		for _, line := range strings.Split(l, "\n") {
			if strings.Contains(line, shim) && strings.Contains(line, "TORCH") &&
				(strings.Contains(line, "not exist") || strings.Contains(line, "No such file")) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no log line names %s and says it does not exist; log tail:\n%s", shim, s.LogTail(2000))
	})
	// the rest keeps working
	expectOK(t, c, execArgs("mnist", []string{"in"}, []string{"out2"})...)
	checkMnistOutput(t, c, "out2")
	expectPing(t, c)

	// loading the real shim explicitly makes TORCH work
	real := filepath.Join(redistest.RepoRoot(), "build", "backends", "torch", "libgorai_torch.so")
	if _, err := os.Stat(real); err != nil {
		t.Fatalf("TORCH shim not built (make build): %v", err)
	}
	expectOK(t, c, "AI.CONFIG", "LOADBACKEND", "TORCH", real)
	cnn.store(t, c)
	cnn.check(t, c, "after LOADBACKEND")
	cnn.run(t, c, "", "after LOADBACKEND")
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "TORCH", real)
}

// TestTorchModelCallingRedis: a model whose code calls the Redis extension's op (redis.execute; made by
// backends/torch/testdata/make_redis_model.py) is stored whatever was stored before, and its RDB file
// loads: the op was registered by the first script's compilation only, so on a fresh server the store
// was refused ("Unknown builtin op: redis::execute"), after a script it was taken, and a server then
// failed to load the RDB file. Its runs are refused: a model's code has no script's caller to call
// Redis as.
func TestTorchModelCallingRedis(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	expectOK(t, c, "AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", torchTestdata(t, "torch2/calls_redis.pt"))
	expectOK(t, c, "DEBUG", "RELOAD")
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1)
	expectErrContains(t, c, "calls into Redis are only possible from the script's own thread", execArgs("m", []string{"x"}, []string{"y"})...)
	expect(t, c, resp.Int(0), "EXISTS", "set_by_a_model", "y")
}

// TestTorchModelRunningItselfFromAScript: a model whose forward runs itself with redisAI.model_execute
// (backends/torch/testdata/make_redis_model.py), run by a script's redisAI.model_execute, is a model: its
// call is refused as when it runs alone. It was served as the script's, and recursed until the worker's
// stack overflowed (SIGSEGV).
func TestTorchModelRunningItselfFromAScript(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	expectOK(t, c, "AI.MODELSTORE", "itself", "TORCH", "CPU", "BLOB", torchTestdata(t, "torch2/runs_itself.pt"))
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"f"}, `def f(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute('itself', tensors, 1)
`)...)
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1)
	const refused = "calls into Redis are only possible from the script's own thread"
	expectErrContains(t, c, refused, execArgs("itself", []string{"x"}, []string{"y"})...)
	expectErrContains(t, c, refused, "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
	expectPing(t, c)
	expect(t, c, resp.Int(0), "EXISTS", "y")
}
