package onnx

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/backends"
	"gorai/backends/onnx/onnxtest"
	"gorai/tensor"
)

// The allocator's counters are the process', so these tests do not run in parallel (and the
// package's parallel tests wait for them).

// limitExceeded is RedisAI's text for an allocation past BACKEND_MEMORY_LIMIT.
const limitExceeded = "Onnxruntime memory limit exceeded, memory allocation failed."

func withLimit(t *testing.T, bytes int64) backends.ModelOptions {
	t.Cleanup(func() { setMemoryLimit(0) })
	return backends.ModelOptions{Device: "CPU", MemoryLimit: bytes}
}

// checkBalanced checks that everything allocated since (mem0, acc0) was freed: as many frees
// as allocations, and the bytes in use back where they were.
func checkBalanced(t *testing.T, mem0, acc0 int64) {
	t.Helper()
	if mem := memoryInUse(); mem != mem0 {
		t.Errorf("memory in use %d, want %d as before", mem, mem0)
	}
	if n := memoryAccesses() - acc0; n%2 != 0 {
		t.Errorf("%d accesses since: an allocation was not freed, or freed twice", n)
	}
}

func TestAllocatorCountsSessionAndRun(t *testing.T) {
	be := lib.Need(t)
	mem0, acc0 := memoryInUse(), memoryAccesses()
	m, err := be.NewModel(fixture(t, "mnist.onnx"), backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	// mnist's packed convolution and matrix weights: about 17 KB under ORT 1.30.
	stored := memoryInUse() - mem0
	if stored < 8_000 {
		t.Errorf("mnist's session holds %d bytes of the allocator, want its packed weights (8 KB at least)", stored)
	}
	in := mnistInput(t)
	defer in.Release()
	acc1 := memoryAccesses()
	out, err := m.Run([]tensor.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	release(out)
	if memoryAccesses() == acc1 {
		t.Error("a run took nothing from the allocator: the session does not use it")
	}
	if got := memoryInUse() - mem0; got != stored {
		t.Errorf("after a run the session holds %d bytes, want %d as before it", got, stored)
	}
	m.Close()
	checkBalanced(t, mem0, acc0)
}

func TestAllocatorConcurrentRuns(t *testing.T) {
	be := lib.Need(t)
	mem0, acc0 := memoryInUse(), memoryAccesses()
	m, err := be.NewModel(fixture(t, "mnist.onnx"), backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	in := mnistInput(t)
	defer in.Release()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				out, err := m.Run([]tensor.Tensor{in})
				if err != nil {
					t.Error(err)
					return
				}
				if argmax(out[0]) != 1 {
					t.Errorf("mnist says %d, want 1", argmax(out[0]))
				}
				release(out)
			}
		}()
	}
	wg.Wait()
	m.Close()
	checkBalanced(t, mem0, acc0)
}

func TestMemoryLimitRefusesModel(t *testing.T) {
	be := lib.Need(t)
	mem0, acc0 := memoryInUse(), memoryAccesses()
	// 2 MB of packed weights against a limit of 1 MB.
	_, err := be.NewModel(onnxtest.MatMul(512, 1024), withLimit(t, 1_000_000))
	if want := "Exception during initialization: " + limitExceeded; err == nil || err.Error() != want {
		t.Fatalf("NewModel over the limit: %v, want %q", err, want)
	}
	checkBalanced(t, mem0, acc0)
	// Under the limit, the same kind of model is made.
	m, err := be.NewModel(onnxtest.MatMul(100, 100), withLimit(t, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	checkBalanced(t, mem0, acc0)
}

func TestMemoryLimitFailsRun(t *testing.T) {
	be := lib.Need(t)
	mem0, acc0 := memoryInUse(), memoryAccesses()
	// No weights; a run needs 1.2 MB for its intermediate.
	const n = 300_000
	m, err := be.NewModel(onnxtest.AddTwice(n), withLimit(t, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	x := newTensor(t, tensor.Float, []int64{1, n}, make([]byte, 4*n))
	defer x.Release()
	if out, err := m.Run([]tensor.Tensor{x}); err == nil || !strings.Contains(err.Error(), limitExceeded) {
		release(out)
		t.Fatalf("Run over the limit: %v, want an error with %q", err, limitExceeded)
	}
	checkBalanced(t, mem0, acc0)
	// Without a limit (the next model's options set it for all), the same run succeeds.
	m2, err := be.NewModel(onnxtest.AddTwice(10), backends.ModelOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	m2.Close()
	out, err := m.Run([]tensor.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	release(out)
	m.Close()
	checkBalanced(t, mem0, acc0)
}

// TestBoundRetryFailsWithItsOwnError: an output bound to the batch's shape that the model computes
// otherwise is run again unbound; when that run fails too, its error is the one reported (it was the
// bound run's, ORT's complaint about the shape of gorai's tensor, where RedisAI says the real cause).
func TestBoundRetryFailsWithItsOwnError(t *testing.T) {
	be := lib.Need(t)
	m, err := be.NewModel(onnxtest.ConstantOfLength(), withLimit(t, 100_000_000))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	length := newTensor(t, tensor.Int64, []int64{1}, binary.LittleEndian.AppendUint64(nil, 50_000_000)) // 200 MB of FLOAT
	defer length.Release()
	if out, err := m.Run([]tensor.Tensor{length}); err == nil || !strings.Contains(err.Error(), limitExceeded) {
		release(out)
		t.Errorf("a run past the memory limit: %v, want %q", err, limitExceeded)
	}
}

// TestSequenceOutputsSkipped: a run whose sequence output holds tensors no tensor of gorai's can hold
// (FLOAT16) runs, skipping the sequence as RedisAI does, and leaves nothing behind (the binding
// converted every output, failed on that one, and leaked the outputs after it).
func TestSequenceOutputsSkipped(t *testing.T) {
	lib.Need(t)
	const float16 = 10
	m := newModel(t, onnxtest.SequenceThenTensor(float16), backends.ModelOptions{Device: "CPU"})
	in := floats(t, []int64{3}, 1, 2, 3)
	defer in.Release()
	mem0, acc0 := memoryInUse(), memoryAccesses()
	for range 3 {
		out, err := m.Run([]tensor.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		if !out[0].IsZero() || out[1].IsZero() || out[1].Float(2) != -3 {
			t.Errorf("outputs %v, want the sequence skipped and Y = -X", out)
		}
		release(out)
	}
	checkBalanced(t, mem0, acc0)
}

// TestModelsWithoutInputsOrOutputs: a model without inputs runs, as RedisAI's; one without outputs
// fails with ONNX Runtime's refusal, and a sparse output is refused before the run; none leaves
// anything behind (the binding panicked on the first two, losing the run's tensors and timer, and
// dropped the outputs after a sparse one: 393 MB after 300 runs).
func TestModelsWithoutInputsOrOutputs(t *testing.T) {
	lib.Need(t)
	x := floats(t, []int64{3}, 1, 2, 3)
	defer x.Release()
	noInputs := newModel(t, onnxtest.NoInputs(), backends.ModelOptions{Device: "CPU", ExecutionTimeout: time.Second})
	mem0, acc0 := memoryInUse(), memoryAccesses()
	for range 3 {
		out, err := noInputs.Run(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].Float(0) != 1 || out[0].Float(1) != 2 {
			t.Errorf("a model without inputs: %v, want its constant [1 2]", out)
		}
		release(out)
	}
	checkBalanced(t, mem0, acc0)
	for _, c := range []struct {
		name string
		blob []byte
		want string
	}{
		{"no outputs", onnxtest.NoOutputs(), "At least one output should be requested."},
		{"sparse output", onnxtest.SparseThenTensor(), "ERR ONNX output S: sparse tensor outputs are not supported"},
	} {
		m := newModel(t, c.blob, backends.ModelOptions{Device: "CPU", ExecutionTimeout: time.Second})
		mem0, acc0 := memoryInUse(), memoryAccesses()
		for range 3 {
			out, err := m.Run([]tensor.Tensor{x})
			if err == nil || err.Error() != c.want {
				release(out)
				t.Fatalf("%s: a run: %v, want %q", c.name, err, c.want)
			}
		}
		checkBalanced(t, mem0, acc0)
	}
}
