package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorai/backends"
	"gorai/backends/backendtest"
	"gorai/backends/torch/torchtest"
	"gorai/tensor"
)

// The shim as build/build-torch-shim.sh places it (GORAI_TORCH_LIB overrides), and the models that
// testdata/make_models.py made, with the outputs PyTorch computed for them.
var (
	lib = &backendtest.Library{Backend: "TORCH", What: "torch shim", Env: "GORAI_TORCH_LIB", Script: "build-torch-shim.sh", Rebuild: true,
		Path: filepath.Join("..", "..", "build", "backends", DefaultLibrary)}
)

func TestMain(m *testing.M) { lib.Main(m) }

type tensorJSON struct {
	DType string    `json:"dtype"`
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

type modelJSON struct {
	File       string       `json:"file"`
	InputNames []string     `json:"input_names"`
	Inputs     []tensorJSON `json:"inputs"`
	Outputs    []tensorJSON `json:"outputs"`
}

// expectedFiles caches each testdata folder's expected.json, by folder.
var (
	expectedMu    sync.Mutex
	expectedFiles = map[string]map[string]modelJSON{}
)

// torch2 is the folder of the models that the torch wheel build/fetch-torch.sh pins made (testdata/ itself
// has those of torch 1.13).
const torch2 = "torch2/"

// testModel returns a model of testdata/expected.json, or of dir/expected.json for a name "dir/model".
func testModel(t testing.TB, name string) (modelJSON, []byte) {
	t.Helper()
	dir := filepath.Join("testdata", filepath.Dir(name))
	expectedMu.Lock()
	models, ok := expectedFiles[dir]
	if !ok {
		var f struct {
			Models map[string]modelJSON `json:"models"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err == nil {
			err = json.Unmarshal(b, &f)
		}
		if err != nil {
			expectedMu.Unlock()
			t.Fatal(err)
		}
		models = f.Models
		expectedFiles[dir] = models
	}
	expectedMu.Unlock()
	m, ok := models[filepath.Base(name)]
	if !ok {
		t.Fatalf("no model %q in %s/expected.json", filepath.Base(name), dir)
	}
	blob, err := os.ReadFile(filepath.Join(dir, m.File))
	if err != nil {
		t.Fatal(err)
	}
	return m, blob
}

func newModel(t testing.TB, blob []byte, opts backends.ModelOptions) backends.Model {
	t.Helper()
	if opts.Device == "" {
		opts.Device = "CPU"
	}
	m, err := lib.Need(t).NewModel(blob, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// makeTensor builds a tensor from its JSON description, in host (little-endian) byte order.
func makeTensor(t testing.TB, d tensorJSON) tensor.Tensor {
	t.Helper()
	dt, ok := tensor.ParseDType([]byte(d.DType))
	if !ok {
		t.Fatalf("dtype %s", d.DType)
	}
	size := dt.ElemSize()
	blob := make([]byte, len(d.Data)*size)
	for i, v := range d.Data {
		b := blob[i*size:]
		switch {
		case dt == tensor.Float:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
		case dt == tensor.Double:
			binary.LittleEndian.PutUint64(b, math.Float64bits(v))
		case size == 1:
			b[0] = byte(int8(v))
		case size == 2:
			binary.LittleEndian.PutUint16(b, uint16(int16(v)))
		case size == 4:
			binary.LittleEndian.PutUint32(b, uint32(int32(v)))
		default:
			binary.LittleEndian.PutUint64(b, uint64(int64(v)))
		}
	}
	tn, err := tensor.FromBlob(dt, d.Shape, blob)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.Release)
	return tn
}

func inputsOf(t testing.TB, m modelJSON) []tensor.Tensor {
	in := make([]tensor.Tensor, len(m.Inputs))
	for i, d := range m.Inputs {
		in[i] = makeTensor(t, d)
	}
	return in
}

// checkOutputs compares outputs with PyTorch's (floats within a relative 1e-6) and releases them.
func checkOutputs(got []tensor.Tensor, want []tensorJSON) error {
	defer func() {
		for _, g := range got {
			if !g.IsZero() {
				g.Release()
			}
		}
	}()
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.IsZero() {
			return fmt.Errorf("output %d: no tensor", i)
		}
		if g.DType().Name() != w.DType {
			return fmt.Errorf("output %d: dtype %s, want %s", i, g.DType().Name(), w.DType)
		}
		if fmt.Sprint(g.Shape()) != fmt.Sprint(w.Shape) {
			return fmt.Errorf("output %d: shape %v, want %v", i, g.Shape(), w.Shape)
		}
		if g.Len() != len(w.Data) {
			return fmt.Errorf("output %d: %d elements, want %d", i, g.Len(), len(w.Data))
		}
		for j, wv := range w.Data {
			var gv float64
			if g.DType().IsFloat() {
				gv = g.Float(j)
			} else {
				gv = float64(g.Int(j))
			}
			if math.Abs(gv-wv) > 1e-6*math.Max(1, math.Abs(wv)) {
				return fmt.Errorf("output %d element %d: %v, want %v", i, j, gv, wv)
			}
		}
	}
	return nil
}

func TestVersion(t *testing.T) {
	b := lib.Need(t)
	// The torch wheel that build/fetch-torch.sh pins.
	if b.Name() != "TORCH" || !strings.HasPrefix(b.Version(), "2.") {
		t.Fatalf("name %q version %q", b.Name(), b.Version())
	}
}

// TestModels runs each model on its inputs and compares with PyTorch: those torch 1.13 made, the same
// made by torch 2.15, attention through scaled_dot_product_attention, traced and scripted (an
// operator that libtorch 1.13 does not know: "Unknown builtin op: aten::scaled_dot_product_attention"),
// and traced LSTM and GRU cells, whose torch.unsafe_chunk and an extra file (a training script under
// extra/source_code/) the checks of a client's code refused.
func TestModels(t *testing.T) {
	names := []string{torch2 + "attention", torch2 + "attention_branch", torch2 + "recurrent_cells"}
	for _, name := range []string{"linear", "pair", "two_inputs", "types", "scalar"} {
		names = append(names, name, torch2+name)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, blob := testModel(t, name)
			m := newModel(t, blob, backends.ModelOptions{})
			if fmt.Sprint(m.InputNames()) != fmt.Sprint(want.InputNames) {
				t.Fatalf("inputs %q, want %q", m.InputNames(), want.InputNames)
			}
			outs := m.OutputNames()
			if len(outs) != len(want.Outputs) {
				t.Fatalf("%d outputs, want %d", len(outs), len(want.Outputs))
			}
			for _, o := range outs {
				if o != "" {
					t.Fatalf("output names %q, want all \"\" (RedisAI's)", outs)
				}
			}
			got, err := m.Run(inputsOf(t, want))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkOutputs(got, want.Outputs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFirstRun checks that a model's first runs give torch's outputs. How long the first run takes (NewModel
// builds the execution plan; the profiling executor, left on, made the first two runs cost tens of ms) is
// BenchmarkFirstRun's to measure: a wall-clock limit here failed under load.
func TestFirstRun(t *testing.T) {
	want, blob := testModel(t, "linear")
	m := newModel(t, blob, backends.ModelOptions{})
	in := inputsOf(t, want)
	var times []time.Duration
	for range 5 {
		start := time.Now()
		got, err := m.Run(in)
		times = append(times, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkOutputs(got, want.Outputs); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("run times: %v", times)
}

// BenchmarkFirstRun reports a fresh model's first run (first-ns/run) against its second (next-ns/run) and
// their ratio (first/next): about 1 with the plan built by NewModel, tens of ms for the first run when the
// profiling executor was left on. Run it with go test -run '^$' -bench FirstRun ./backends/torch.
func BenchmarkFirstRun(b *testing.B) {
	want, blob := testModel(b, "linear")
	in := inputsOf(b, want)
	be := lib.Need(b)
	var first, next time.Duration
	for range b.N {
		b.StopTimer()
		m, err := be.NewModel(blob, backends.ModelOptions{Device: "CPU"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := range 2 {
			start := time.Now()
			got, err := m.Run(in)
			d := time.Since(start)
			if i == 0 {
				first += d
			} else {
				next += d
			}
			if err == nil {
				err = checkOutputs(got, want.Outputs)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		m.Close()
	}
	b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "first-ns/run")
	b.ReportMetric(float64(next.Nanoseconds())/float64(b.N), "next-ns/run")
	b.ReportMetric(float64(first)/float64(next), "first/next")
}

func TestListOutputRefused(t *testing.T) {
	for _, name := range []string{"list_out", torch2 + "list_out"} {
		_, blob := testModel(t, name)
		_, err := lib.Need(t).NewModel(blob, backends.ModelOptions{Device: "CPU"})
		if !errors.Is(err, errUnknownOutputs) {
			t.Fatalf("%s: got %v, want %v", name, err, errUnknownOutputs)
		}
	}
}

func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if strings.ContainsAny(err.Error(), "\r\n") || err.Error() == "" {
		t.Fatalf("error %q is not one non-empty line", err)
	}
	t.Logf("error: %v", err)
}

func TestBadBlob(t *testing.T) {
	b := lib.Need(t)
	_, good := testModel(t, "linear")
	for name, blob := range map[string][]byte{
		"garbage":   []byte("this is not a TorchScript model"),
		"empty":     nil,
		"truncated": good[:len(good)/2],
	} {
		t.Run(name, func(t *testing.T) {
			m, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"})
			if m != nil {
				m.Close()
			}
			checkOneLine(t, err)
		})
	}
}

func TestDevices(t *testing.T) {
	b := lib.Need(t)
	_, blob := testModel(t, "linear")
	for _, dev := range []string{"bad", "GPU:x", "GPU:-1"} {
		if _, err := b.NewModel(blob, backends.ModelOptions{Device: dev}); err == nil || err.Error() != "ERR unsupported device" {
			t.Errorf("device %s: %v", dev, err)
		}
	}
	m := newModel(t, blob, backends.ModelOptions{Device: "cpu:3"})
	if len(m.InputNames()) != 1 {
		t.Fatal(m.InputNames())
	}
	if cudaAvailable() {
		t.Log("CUDA is available: not checking the no-CUDA error")
		return
	}
	for _, dev := range []string{"GPU", "gpu:1"} {
		_, err := b.NewModel(blob, backends.ModelOptions{Device: dev})
		if err == nil || err.Error() != "GPU requested but Torch couldn't find CUDA" {
			t.Errorf("device %s: %v", dev, err)
		}
	}
}

func TestBadInputs(t *testing.T) {
	want, blob := testModel(t, "linear")
	m := newModel(t, blob, backends.ModelOptions{})
	x := makeTensor(t, want.Inputs[0])
	zeros := func(dt tensor.DType, shape ...int64) tensor.Tensor {
		tn, err := tensor.Zeros(dt, shape, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tn.Release)
		return tn
	}
	cases := []struct {
		name   string
		inputs []tensor.Tensor
		want   string // the error starts with it
	}{
		{"none", nil, "ERR Expected 1 inputs but got 0"},
		{"two", []tensor.Tensor{x, x}, "ERR Expected 1 inputs but got 2"},
		{"uint16", []tensor.Tensor{zeros(tensor.UInt16, 2, 3)}, "Unsupported kUInt bits 16"},
		{"string", []tensor.Tensor{zeros(tensor.String, 2, 3)}, "Unsupported code 7"},
		{"int32", []tensor.Tensor{zeros(tensor.Int32, 2, 3)}, "RuntimeError: mat1 and mat2 must have the same dtype"},
		{"shape", []tensor.Tensor{zeros(tensor.Float, 2, 4)}, "RuntimeError: addmm: mat1 and mat2 shapes cannot be multiplied (2x4 and 3x2)"},
		{"scalar", []tensor.Tensor{zeros(tensor.Float)}, "RuntimeError: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := m.Run(c.inputs)
			if out != nil {
				t.Fatalf("outputs %v with error %v", out, err)
			}
			checkOneLine(t, err)
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %q, want %q", err, c.want)
			}
		})
	}
	// The model still works.
	got, err := m.Run([]tensor.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, want.Outputs); err != nil {
		t.Fatal(err)
	}
}

func TestParallel(t *testing.T) {
	var models []backends.Model
	var wants []modelJSON
	var inputs [][]tensor.Tensor
	for _, name := range []string{"linear", "pair", "two_inputs", "types"} {
		w, blob := testModel(t, name)
		models = append(models, newModel(t, blob, backends.ModelOptions{}))
		wants = append(wants, w)
		inputs = append(inputs, inputsOf(t, w))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % len(models)
				got, err := models[k].Run(inputs[k])
				if err == nil {
					err = checkOutputs(got, wants[k].Outputs)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	want, blob := testModel(t, "linear")
	m, err := lib.Need(t).NewModel(blob, backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	in := inputsOf(t, want)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				got, err := m.Run(in)
				if err == nil {
					err = checkOutputs(got, want.Outputs)
				} else if errors.Is(err, errClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	m.Close()
	wg.Wait()
	if _, err := m.Run(in); !errors.Is(err, errClosed) {
		t.Fatalf("run after Close: %v", err)
	}
}

func TestThreads(t *testing.T) {
	want, blob := testModel(t, "linear")
	m := newModel(t, blob, backends.ModelOptions{IntraOpThreads: 1})
	got, err := m.Run(inputsOf(t, want))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, want.Outputs); err != nil {
		t.Fatal(err)
	}
}

// TestMissingLibrary runs its checks in a fresh process, where the shim was never opened.
func TestMissingLibrary(t *testing.T) {
	if lib.InFreshProcess(t) {
		missingLibrary(t)
	}
}

func missingLibrary(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "no-such-dir", "libgorai_torch.so")
	_, err := backends.Load("TORCH", missing)
	var le *backends.LoadError
	if !errors.As(err, &le) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing shim: %v", err)
	}
	t.Logf("missing shim: %v", err)
	// The failure is remembered for the lazy path, and nothing was opened.
	if _, err2 := backends.Load("TORCH", missing); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second load: %v", err2)
	}
	if backends.Loaded("TORCH") != nil {
		t.Fatal("TORCH loaded")
	}

	// A file that is no shared object, and a shared object that is no shim.
	notELF := filepath.Join(tmp, "not-elf.so")
	if err := os.WriteFile(notELF, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := backends.Open("TORCH", notELF); err == nil {
		t.Fatal("not an ELF file: no error")
	} else {
		t.Logf("not ELF: %v", err)
	}
	if libm := "/lib/x86_64-linux-gnu/libm.so.6"; fileExists(libm) {
		if _, err := backends.Open("TORCH", libm); err == nil || !strings.Contains(err.Error(), "no symbol gorai_torch_abi") {
			t.Fatalf("not a shim: %v", err)
		} else {
			t.Logf("not a shim: %v", err)
		}
	}

	// A shim whose libtorch is gone: a stand-in that needs a libtorch_cpu that no longer exists.
	if cc, err := exec.LookPath("gcc"); err == nil {
		stub := filepath.Join(tmp, "libtorch_cpu.so.0.gorai-test")
		fake := filepath.Join(tmp, "libgorai_torch.so")
		src := filepath.Join(tmp, "fake.c")
		if err := os.WriteFile(src, []byte("int gorai_torch_abi(void) { return 0; }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"-shared", "-fPIC", "-o", stub, src},
			{"-shared", "-fPIC", "-o", fake, src, "-L" + tmp, "-Wl,--no-as-needed", "-l:" + filepath.Base(stub)},
		} {
			if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
				t.Fatalf("gcc %v: %v %s", args, err, out)
			}
		}
		os.Remove(stub)
		_, err := backends.Open("TORCH", fake)
		if err == nil || !strings.Contains(err.Error(), "libtorch is missing") {
			t.Fatalf("shim without libtorch: %v", err)
		}
		t.Logf("no libtorch: %v", err)
	}

	// A good path still opens after those failures.
	real := filepath.Join("..", "..", "build", "backends", DefaultLibrary)
	if p := os.Getenv("GORAI_TORCH_LIB"); p != "" {
		real = p
	}
	if !fileExists(real) {
		t.Logf("no built shim at %s: not checking that it opens after the failures", real)
		return
	}
	if _, err := backends.Open("TORCH", real); err != nil {
		t.Fatalf("open %s after failures: %v", real, err)
	}
	if backends.Loaded("TORCH") == nil {
		t.Fatal("not loaded")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestDamagedArchive: an archive whose bytes no longer match their CRC-32s is refused before libtorch
// reads it. The first case is a damaged linear.pt that TestCorruptPayloads found: libtorch 1.13 loops
// forever on it, inside Redis' main thread when it comes from RESTORE.
func TestDamagedArchive(t *testing.T) {
	b := lib.Need(t)
	_, good := testModel(t, "linear")
	damage := func(at map[int]byte) []byte {
		blob := append([]byte(nil), good...)
		for i, v := range at {
			blob[i] = v
		}
		return blob
	}
	for name, blob := range map[string][]byte{
		"endless loop": damage(map[int]byte{1345: 0o215, 1893: 0o153, 2923: 0o026}),
		"one byte":     damage(map[int]byte{1893: good[1893] ^ 1}),
	} {
		t.Run(name, func(t *testing.T) {
			err := loadWithin(t, b, blob)
			if err == nil || !strings.Contains(err.Error(), "TorchScript archive is damaged") {
				t.Fatalf("got %v, want the archive refused as damaged", err)
			}
			checkOneLine(t, err)
		})
	}
}

// loadWithin loads a model and closes it, failing the test if libtorch has not returned in 30 s.
func loadWithin(t *testing.T, b backends.Backend, blob []byte) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		m, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"})
		if m != nil {
			m.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("NewModel did not return in 30 s")
		return nil
	}
}

// TestDebugFilesIgnored: the archive's debug files (.debug_pkl, source ranges of the Python that made the
// model) are not read, so a model whose debug files are unreadable, with consistent checksums, loads, runs,
// and words a failed run with the failure (libtorch reading them replied "Expected PROTO opcode at the
// start of pickle archive, found 110").
func TestDebugFilesIgnored(t *testing.T) {
	b := lib.Need(t)
	for _, name := range []string{"linear", torch2 + "linear"} {
		want, good := testModel(t, name)
		replaced := 0
		damaged := rewriteArchive(t, good, func(name string, data []byte) []byte {
			if !strings.HasSuffix(name, ".debug_pkl") {
				return data
			}
			replaced++
			return []byte("not a pickle")
		})
		if replaced == 0 {
			t.Fatalf("%s has no .debug_pkl", name)
		}
		if err := loadWithin(t, b, damaged); err != nil {
			t.Fatalf("%s with unreadable debug files: %v", name, err)
		}
		got, err := newModel(t, damaged, backends.ModelOptions{}).Run(inputsOf(t, want))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkOutputs(got, want.Outputs); err != nil {
			t.Fatal(err)
		}
		// An error in a run, whose message libtorch would word with the debug files' source ranges.
		m := newModel(t, damaged, backends.ModelOptions{})
		bad, err := tensor.Zeros(tensor.Float, []int64{2, 4}, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bad.Release)
		_, err = m.Run([]tensor.Tensor{bad})
		checkOneLine(t, err)
		if !strings.Contains(err.Error(), "mat1 and mat2 shapes cannot be multiplied (2x4 and 3x2)") {
			t.Fatalf("%s: run error %q", name, err)
		}
	}
}

// rewriteArchive writes a TorchScript archive again, each file's contents passed through change, with the
// CRC-32s of what is written: damage that the archive check lets through to libtorch.
func rewriteArchive(t *testing.T, blob []byte, change func(name string, data []byte) []byte) []byte {
	t.Helper()
	out, err := torchtest.RewriteArchive(blob, func(_, _ int, name string, data []byte) []byte { return change(name, data) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// One byte of linear.pt's data.pkl changed (an opcode, 'c' to 'M', found by changing random bytes of the
// archive's files) makes libtorch allocate without end: in Redis, until the kernel killed it at 24 GB. The
// trial program (make build builds it) refuses it at its memory cap.
func TestTrialRefusesEndlessAllocation(t *testing.T) {
	b := lib.Need(t)
	if trial.Program == "" {
		t.Fatalf("no %s beside the shim (make build builds it): this test would take the machine's memory", TrialProgram)
	}
	_, good := testModel(t, "linear")
	damaged := rewriteArchive(t, good, func(name string, data []byte) []byte {
		if name != "linear/data.pkl" {
			return data
		}
		if len(data) <= 142 || data[142] != 'c' {
			t.Fatalf("linear.pt's data.pkl has no 'c' at 142: made again? find another damage")
		}
		data = append([]byte(nil), data...)
		data[142] = 'M'
		return data
	})
	const want = "ERR TORCH model needs more memory to load than 2 GiB or 16 times its size when tried in a process of its own: std::bad_alloc"
	if err := loadWithin(t, b, damaged); err == nil || err.Error() != want {
		t.Errorf("NewModel: %v, want %q", err, want)
	}
}

// A client's model is tried, a trusted one is not.
func TestTrustedIsNotTried(t *testing.T) {
	_, good := testModel(t, "linear")
	backendtest.TrustedIsNotTried(t, lib.Need(t), &trial, good)
}

// A client's code that calls torch.from_file, which maps a file of the server into a tensor, is refused,
// in a model (testdata/make_from_file.py) and in a script; what Redis loads itself is not checked.
func TestFromFileRefused(t *testing.T) {
	b := lib.Need(t)
	blob, err := os.ReadFile(filepath.Join("testdata", "from_file.pt"))
	if err != nil {
		t.Fatal(err)
	}
	const model = "ERR TORCH model uses torch.from_file, which reaches files outside the model: it cannot be stored"
	if _, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != model {
		t.Errorf("a client's model: %v, want %q", err, model)
	}
	if m, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU", Trusted: true}); err != nil {
		t.Errorf("a trusted model: %v", err)
	} else {
		m.Close()
	}
	src := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.from_file(args[0], True, 2)\n"
	const script = "ERR TORCH script uses torch.from_file, which reaches files outside the model: it cannot be stored"
	if _, err := compile(t, src, backends.ScriptOptions{Device: "CPU"}); err == nil || err.Error() != script {
		t.Errorf("a client's script: %v, want %q", err, script)
	}
	if _, err := compile(t, src, backends.ScriptOptions{Device: "CPU", Trusted: true}); err != nil {
		t.Errorf("a trusted script: %v", err)
	}
}

// The other ways a client's code reached files or memory (testdata/make_escapes.py): a model forking a
// closure that calls from_file (its graph an attribute of prim::fork, which the check did not open:
// the store was accepted and the run read the file), a model whose __setstate__ calls it (run by the
// load, before the check: the file was written, though the store was refused), and scripts calling
// torch.save (wrote any file) or building a sparse tensor whose index the client gives (to_dense wrote
// past its buffer).
func TestCodeReachingFilesRefused(t *testing.T) {
	b := lib.Need(t)
	read := func(name string) []byte {
		blob, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return blob
	}
	const fromFile = "ERR TORCH model uses torch.from_file, which reaches files outside the model: it cannot be stored"
	fork := read("fork_from_file.pt")
	if _, err := b.NewModel(fork, backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != fromFile {
		t.Errorf("a client's model forking a closure that calls from_file: %v, want %q", err, fromFile)
	}
	// The compiled graphs' check too, past the check of the code (a trusted load skips both).
	if m, err := b.NewModel(fork, backends.ModelOptions{Device: "CPU", Trusted: true}); err != nil {
		t.Errorf("the forking model, trusted: %v", err)
	} else {
		if err := m.(*model).checkOps(); err == nil || err.Error() != fromFile {
			t.Errorf("the forking model's graphs: %v, want %q", err, fromFile)
		}
		m.Close()
	}

	// __setstate__ calling from_file, its code file named as torch.jit.save names it, and in capitals,
	// which libtorch finds as well (it was loaded, not searched).
	const written = "/tmp/gorai_torch_setstate_written"
	for _, name := range []string{"setstate_from_file.pt", "setstate_upper.pt"} {
		os.Remove(written)
		if _, err := b.NewModel(read(name), backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != fromFile {
			t.Errorf("%s, a client's model whose __setstate__ calls from_file: %v, want %q", name, err, fromFile)
		}
		if _, err := os.Stat(written); err == nil {
			os.Remove(written)
			t.Errorf("loading the refused %s wrote %s", name, written)
		}
	}
	// A zip Go's reader cannot read, whose code could not be searched.
	const unreadable = "ERR TORCH model is a zip archive whose files cannot be read: it cannot be stored"
	if _, err := b.NewModel([]byte("PK\x03\x04 not a readable archive"), backends.ModelOptions{Device: "CPU"}); err == nil || err.Error() != unreadable {
		t.Errorf("an unreadable zip: %v, want %q", err, unreadable)
	}

	for src, want := range map[string]string{
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    torch.save(args[1], args[0])\n    return tensors[0]\n":                                                              "ERR TORCH script uses torch.save, which reaches files outside the model: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.to_dense(torch._sparse_coo_tensor_unsafe(torch.tensor([[int(args[0])]]), torch.tensor([1.0]), [4]))\n": "ERR TORCH script uses torch._sparse_coo_tensor_unsafe, which writes memory outside its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.sparse_coo_tensor(torch.tensor([[int(args[0])]]), torch.tensor([1.0]), [4]).to_dense()\n":              "ERR TORCH script uses torch.sparse_coo_tensor, which writes memory outside its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    s = torch.zeros([4, 4]).to_sparse()\n    s._indices().add_(int(args[0]))\n    return s.to_dense()\n":                "ERR TORCH script uses torch.to_sparse, which writes memory outside its tensors: it cannot be stored",
		// A [0, K] input wrote K elements past the 3 of its output, and Redis died later.
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._convert_indices_from_coo_to_csr(tensors[0], 2)\n":          "ERR TORCH script uses torch._convert_indices_from_coo_to_csr, which writes memory outside its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._convert_indices_from_csr_to_coo(tensors[0], tensors[1])\n": "ERR TORCH script uses torch._convert_indices_from_csr_to_coo, which writes memory outside its tensors: it cannot be stored",
		// Kernels that check none of their indices and sizes: each ended Redis with SIGSEGV on a client's values.
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.max_pool2d_with_indices_backward(tensors[0], torch.zeros(1, 1, 4, 4), [2, 2], [2, 2], [0, 0], [1, 1], False, tensors[1])\n":                                             "ERR TORCH script uses torch.max_pool2d_with_indices_backward, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._reshape_alias(tensors[0], [int(args[0])], [int(args[1])]).clone()\n":                                                                                                   "ERR TORCH script uses torch._reshape_alias, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.native_batch_norm(tensors[0], None, None, torch.zeros(1), torch.ones(1), True, 0.1, 1e-5)[0]\n":                                                                         "ERR TORCH script uses torch.native_batch_norm, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.ctc_loss(tensors[0], tensors[1], [5], [2])\n":                                                                                                                           "ERR TORCH script uses torch.ctc_loss, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._compute_linear_combination(tensors[0], tensors[1])\n":                                                                                                                  "ERR TORCH script uses torch._compute_linear_combination, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.linalg_eigvals(tensors[0])\n":                                                                                                                                           "ERR TORCH script uses torch.linalg_eigvals, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._scaled_dot_product_flash_attention_for_cpu(tensors[0], tensors[1], tensors[2])[0]\n":                                                                                   "ERR TORCH script uses torch._scaled_dot_product_flash_attention_for_cpu, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch._fused_sgd([tensors[0]], [tensors[0]], [tensors[0]], weight_decay=0., momentum=0.9, lr=0.1, dampening=0., nesterov=False, maximize=False, is_first_step=False)[0][0]\n": "ERR TORCH script uses torch._fused_sgd, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
	} {
		if _, err := compile(t, src, backends.ScriptOptions{Device: "CPU"}); err == nil || err.Error() != want {
			t.Errorf("script %q: %v, want %q", src, err, want)
		}
	}
	// Chunks and splits without view tracking stay within their tensor (traced recurrent cells call them).
	chunks := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    a, b = torch.unsafe_chunk(tensors[0], 2)\n    c, d = tensors[0].unsafe_split(1)\n    return a + b + c + d\n"
	if _, err := compile(t, chunks, backends.ScriptOptions{Device: "CPU"}); err != nil {
		t.Errorf("a script calling unsafe_chunk and unsafe_split: %v", err)
	}
	if err := checkCode([]byte("x = torch.unsafe_chunk(y, 2)\nz = y._unsafe_index_put(i, v)\n")); err == nil {
		t.Error("code calling _unsafe_index_put after unsafe_chunk passed the check")
	}
	for code, want := range map[string]string{
		"x = ops.aten._convert_indices_from_coo_to_csr(y, 2)\n":                                  "ERR TORCH model uses torch._convert_indices_from_coo_to_csr, which writes memory outside its tensors: it cannot be stored",
		"x = torch.adaptive_max_pool2d_backward(g, y, i)\n":                                      "ERR TORCH model uses torch.adaptive_max_pool2d_backward, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"torch._fused_sgd_(p, g, m, lr=0.1)\n":                                                   "ERR TORCH model uses torch._fused_sgd_, which trusts its indices and sizes to stay within its tensors: it cannot be stored",
		"y = torch.batch_norm(x, w, b, m, v, False, 0.1, 1e-05, True)\nz = torch.from_file(p)\n": "ERR TORCH model uses torch.from_file, which reaches files outside the model: it cannot be stored",
		"y = torch.batch_norm(x, w, b, m, v, False, 0.1, 1e-05, True)\n":                         "",
	} {
		if err := checkCode([]byte(code)); fmt.Sprint(err) != want && !(err == nil && want == "") {
			t.Errorf("code %q: %v, want %q", code, err, want)
		}
	}
}

// The trial program ends when its input does, killing a child whose model's load never ends: only Redis
// stopped a trial at its timeout, so once Redis had gone (killed, crashed, or SHUTDOWN during a trial) the
// program waited for the child for ever and the child spun at full CPU (testdata/setstate_endless.pt).
func TestTrialProgramEndsWithItsInput(t *testing.T) {
	lib.Need(t)
	if trial.Program == "" {
		t.Fatalf("no %s beside the shim (make build builds it)", TrialProgram)
	}
	endless, err := os.ReadFile(filepath.Join("testdata", "setstate_endless.pt"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(trial.Program, trial.Library)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := io.ReadFull(stdout, make([]byte, 8)); err != nil { // ready: libtorch is open
		t.Fatal(err)
	}
	blob := append(append([]byte(nil), modelTrial...), endless...)
	stdin.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(blob))))
	stdin.Write(blob)
	child := 0
	for deadline := time.Now().Add(10 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		fmt.Sscan(string(children), &child)
	}
	if child == 0 {
		t.Fatal("the program forked no child for the trial")
	}
	time.Sleep(200 * time.Millisecond) // into the endless __setstate__
	stdin.Close()
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the program still runs 10 s after its input ended, its child in a load that never ends")
	}
	if err := syscall.Kill(child, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the trial's child %d is still there after the program ended: %v", child, err)
	}
}

// TestUnsearchableArchivesRefused: a client's blob that libtorch would load but whose code Go cannot read,
// or whose code would fill Redis' memory to be read, is refused before libtorch sees it. A flatbuffer
// module and an archive behind junk whose directory's comment runs past the end were loaded (and a
// __setstate__ calling from_file wrote a file, found by a hunt); a 1.5 MB archive whose code inflated
// to 1.5 GB had Redis killed in a 2 GiB cgroup. A blob libtorch cannot load is left to its own error.
func TestUnsearchableArchivesRefused(t *testing.T) {
	_, linear := testModel(t, "linear")
	junk := append([]byte("XXXXXXXX"), linear...)
	binary.LittleEndian.PutUint16(junk[len(junk)-2:], 100) // the directory's comment, past the end
	flatbuffer := append([]byte{0x34, 0, 0, 0}, "PTMF and the rest of a mobile module"...)
	var bomb bytes.Buffer
	w := zip.NewWriter(&bomb)
	f, err := w.Create("archive/code/__torch__.py")
	if err == nil {
		_, err = f.Write(bytes.Repeat([]byte(" "), maxCode+1))
	}
	if err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		blob []byte
		want error
	}{
		"junk before an archive": {junk, errUnreadableArchive},
		"a flatbuffer module":    {flatbuffer, errFlatbuffer},
		"a code bomb":            {bomb.Bytes(), errCodeTooLarge},
		"not an archive":         {[]byte("no model at all"), nil},
		"a readable archive":     {linear, nil},
	} {
		if err := checkArchive(c.blob, true); err != c.want {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
		if err := checkArchive(c.blob, false); err != nil {
			t.Errorf("%s, loaded by Redis itself: %v", name, err)
		}
	}
	if len(bomb.Bytes()) > 1<<20 {
		t.Errorf("the bomb is %d bytes", bomb.Len())
	}
}
