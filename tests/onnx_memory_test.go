package tests

// ONNX Runtime's memory inside Redis' accounting, as RedisAI 1.2.7 has it: ORT's CPU allocations come
// from Redis' allocator (used_memory sees them), INFO MODULES counts them (ai_onnxruntime_memory, in
// bytes, and ai_onnxruntime_memory_access_num, allocations and frees), and BACKEND_MEMORY_LIMIT (MB)
// caps them.

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"gorai/backends/onnx/onnxtest"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// RedisAI's texts for an allocation past BACKEND_MEMORY_LIMIT: at AI.MODELSTORE (ORT wraps it), and
// inside a run's error.
const (
	onnxLimitExceeded      = "Onnxruntime memory limit exceeded, memory allocation failed."
	onnxLimitExceededStore = "Exception during initialization: " + onnxLimitExceeded
)

// onnxMemory is INFO's ai_onnxruntime_memory and ai_onnxruntime_memory_access_num.
func onnxMemory(t *testing.T, c *resp.Conn) (mem, accesses int64) {
	t.Helper()
	f := info(t, c, "ai_backends_info")
	mem, err1 := strconv.ParseInt(f["ai_onnxruntime_memory"], 10, 64)
	accesses, err2 := strconv.ParseInt(f["ai_onnxruntime_memory_access_num"], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("ai_backends_info has no ONNX memory fields: %v", f)
	}
	return mem, accesses
}

// TestONNXMemoryInfo: once ONNX is loaded, ai_backends_info has RedisAI's four ONNX fields in its
// order; a stored model's session is counted, a run allocates and frees, and AI.MODELDEL gives the
// session's memory back.
func TestONNXMemoryInfo(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)

	sec, idx := findSection(moduleInfo(t, c), "ai_backends_info")
	if idx < 0 {
		t.Fatal("INFO MODULES has no ai_backends_info section after an ONNX model was stored")
	}
	want := []string{"ai_onnxruntime_version", "ai_onnxruntime_memory", "ai_onnxruntime_memory_access_num",
		"ai_onnxruntime_maximum_run_sessions_number"}
	var got []string
	for _, f := range sec.Fields {
		for _, w := range want {
			if f[0] == w {
				got = append(got, f[0])
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("ai_backends_info ONNX fields %v, want %v in this order", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ai_backends_info ONNX fields %v, want %v in this order", got, want)
		}
	}

	mem, acc := onnxMemory(t, c)
	// mnist's packed weights: about 17 KB under ORT 1.30 (RedisAI reports about 31 KB under ORT 1.11).
	if mem < 8_000 || acc == 0 {
		t.Errorf("after storing mnist: ai_onnxruntime_memory %d (want 8000 or more), access_num %d (want > 0)", mem, acc)
	}
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")
	mem2, acc2 := onnxMemory(t, c)
	if mem2 != mem || acc2 <= acc {
		t.Errorf("after a run: memory %d, access_num %d; want memory %d as before and more accesses than %d", mem2, acc2, mem, acc)
	}
	expectOK(t, c, "AI.MODELDEL", "m")
	if mem3, acc3 := onnxMemory(t, c); mem3 != 0 || acc3 <= acc2 || acc3%2 != 0 {
		t.Errorf("after AI.MODELDEL: memory %d, access_num %d; want 0, and as many frees as allocations", mem3, acc3)
	}
}

// TestONNXMemoryInUsedMemory: a session's memory is Redis' memory. Deleting a model whose weights
// ORT packed into 1 MB at AI.MODELSTORE makes used_memory drop by the blob (kept for AI.MODELGET) and
// the packed weights; with ORT's own allocator only the blob would be seen. (The drop, not the growth
// at the store: the store's growth also counts the client's query buffer.)
func TestONNXMemoryInUsedMemory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const k, m = 256, 1024
	blob := onnxtest.MatMul(k, m)
	expectOK(t, c, storeArgs("big", "ONNX", "CPU", blob)...)
	before := usedMemory(t, c)
	backendsInfo := info(t, c, "ai_backends_info")
	expectOK(t, c, "AI.MODELDEL", "big")
	dropped := before - usedMemory(t, c)
	packed := int64(4 * k * m)
	if want := int64(len(blob)) + packed*9/10; dropped < want {
		t.Errorf("used_memory dropped by %d when a model of %d bytes whose session packs %d bytes of weights was deleted; want %d at least",
			dropped, len(blob), packed, want)
	}
	mem, err := strconv.ParseInt(backendsInfo["ai_onnxruntime_memory"], 10, 64)
	if err != nil {
		t.Fatalf("ai_backends_info has no ai_onnxruntime_memory: %v", backendsInfo)
	}
	if after, _ := onnxMemory(t, c); mem-after < packed {
		t.Errorf("AI.MODELDEL gave back %d bytes of ai_onnxruntime_memory, want the packed weights, %d", mem-after, packed)
	}
}

// TestONNXMemoryLimit: BACKEND_MEMORY_LIMIT 1 (MB) refuses a model whose session needs more, with
// RedisAI's text and no key; a run that needs more fails with an error reply; the server goes on, and
// models within the limit store and run.
func TestONNXMemoryLimit(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"BACKEND_MEMORY_LIMIT", "1"}})
	c := s.Conn(t)

	// 2 MB of packed weights.
	expectErr(t, c, onnxLimitExceededStore, storeArgs("big", "ONNX", "CPU", onnxtest.MatMul(512, 1024))...)
	expect(t, c, resp.Int(0), "EXISTS", "big")
	if mem, _ := onnxMemory(t, c); mem != 0 {
		t.Errorf("ai_onnxruntime_memory %d after a refused model, want 0", mem)
	}

	// RedisAI stores 25 mnist models under a 1 MB limit; a few here, and one runs.
	mnist := redisaiFixture(t, "mnist.onnx")
	for i := 0; i < 5; i++ {
		expectOK(t, c, storeArgs("mnist"+strconv.Itoa(i), "ONNX", "CPU", mnist)...)
	}
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("mnist0", []string{"in"}, []string{"out"})...)
	checkMnistOutput(t, c, "out")

	// No weights, but a run needs 1.2 MB for an intermediate.
	const n = 300_000
	expectOK(t, c, storeArgs("wide", "ONNX", "CPU", onnxtest.AddTwice(n))...)
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, n, "BLOB", make([]byte, 4*n))
	expectErrContains(t, c, onnxLimitExceeded, execArgs("wide", []string{"x"}, []string{"y"})...)
	expect(t, c, resp.Int(0), "EXISTS", "y")
	expectPing(t, c)

	for _, key := range []string{"wide", "mnist0", "mnist1", "mnist2", "mnist3", "mnist4"} {
		expectOK(t, c, "AI.MODELDEL", key)
	}
	if mem, acc := onnxMemory(t, c); mem != 0 || acc%2 != 0 {
		t.Errorf("after every model was deleted: memory %d, access_num %d; want 0, and as many frees as allocations", mem, acc)
	}
}

// TestONNXRunBeyondMemory: a run that asks ONNX Runtime for more memory than the machine has left, or
// whose output gorai would make that large, fails with that reason, and Redis lives on. Redis'
// allocator maps such a block without reserving it, so before the check it was handed out, and the
// kernel killed Redis as it was filled (measured on a 24 GB machine: a ConstantOfShape of 40 TB, and an
// Expand to 40 GB whose output gorai made; not run here on code without the check). The same model runs
// at a shape that fits, and its memory is given back.
func TestONNXRunBeyondMemory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("zeros", "ONNX", "CPU", onnxtest.ConstantOfShape())...)
	expectOK(t, c, "AI.TENSORSET", "huge", "INT64", 3, "VALUES", 100_000, 100_000, 1_000)
	expectErrContains(t, c, "ONNX Runtime asked for 40000000000000 bytes, refused with",
		execArgs("zeros", []string{"huge"}, []string{"y"})...)
	expect(t, c, resp.Int(0), "EXISTS", "y")
	expectPing(t, c)

	expectOK(t, c, storeArgs("expand", "ONNX", "CPU", onnxtest.Expand([]int64{1, 100_000, 100_000}))...)
	expectOK(t, c, "AI.TENSORSET", "one", "FLOAT", 1, "VALUES", 1)
	// gorai refuses to make the bound output of the declared shape; the run without it that follows
	// (the model may compute another shape) fails in ONNX Runtime, and its failure is the one reported.
	expectErrContains(t, c, "ONNX Runtime asked for 40000000000 bytes, refused with",
		execArgs("expand", []string{"one"}, []string{"y"})...)
	expect(t, c, resp.Int(0), "EXISTS", "y")

	expectOK(t, c, "AI.TENSORSET", "small", "INT64", 3, "VALUES", 2, 3, 4)
	expectOK(t, c, execArgs("zeros", []string{"small"}, []string{"y"})...)
	expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("FLOAT"), resp.BulkString("shape"), resp.Ints(2, 3, 4)),
		"AI.TENSORGET", "y", "META")
	if mem, _ := onnxMemory(t, c); mem > 1<<20 {
		t.Errorf("ai_onnxruntime_memory %d after the runs, want the session's alone", mem)
	}
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestONNXOutputCopyBeyondMemory: an output ONNX Runtime allocates that fits in the memory left once
// but not twice fails the run when gorai cannot copy it, in a 1 GiB memory cgroup: 600 MB of zeros
// (the binding copied it into Go's heap first, which no check saw, and the kernel killed Redis).
func TestONNXOutputCopyBeyondMemory(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Cgroup: redistest.MemoryCgroup(t, 1<<30)})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("zeros", "ONNX", "CPU", onnxtest.ConstantOfShape())...)
	expectOK(t, c, "AI.TENSORSET", "big", "INT64", 3, "VALUES", 1000, 1000, 150)
	expectErrContains(t, c, "ERR ONNX output Y: could not allocate tensor", execArgs("zeros", []string{"big"}, []string{"y"})...)
	expect(t, c, resp.Int(0), "EXISTS", "y")
	expectPing(t, c)
	expectOK(t, c, "AI.TENSORSET", "fits", "INT64", 3, "VALUES", 1000, 1000, 25)
	expectOK(t, c, execArgs("zeros", []string{"fits"}, []string{"y"})...)
	expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("FLOAT"), resp.BulkString("shape"), resp.Ints(1000, 1000, 25)),
		"AI.TENSORGET", "y", "META")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestRunBeyondAddressLimit: under an address-space limit (RLIMIT_AS: `ulimit -v`, a batch system's
// virtual memory limit), an ONNX run asking for more than the limit leaves fails instead of Redis
// aborting when its allocator fails (`Out Of Memory allocating ...`), as the memory guard now counts
// that limit; a run within it answers.
func TestRunBeyondAddressLimit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed: no way to limit the server's address space")
	}
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"PRELOAD_BACKENDS", "no"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("zeros", "ONNX", "CPU", onnxtest.ConstantOfShape())...)
	expectOK(t, c, "AI.TENSORSET", "small", "INT64", 3, "VALUES", 2, 3, 4)
	expectOK(t, c, execArgs("zeros", []string{"small"}, []string{"y"})...)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		t.Fatal(err)
	}
	var vmKB int64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmSize:"); ok {
			vmKB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	limit := vmKB<<10 + 1536<<20 // 1.5 GiB beyond what it has mapped
	if out, err := exec.Command("prlimit", "--pid", strconv.Itoa(s.PID()), fmt.Sprintf("--as=%d", limit)).CombinedOutput(); err != nil {
		t.Skipf("prlimit could not limit the server's address space: %v %s", err, out)
	}
	expectOK(t, c, "AI.TENSORSET", "big", "INT64", 3, "VALUES", 1000, 1000, 750) // 3 GB of FLOAT
	expectErrContains(t, c, "ONNX Runtime asked for 3000000000 bytes, refused with", execArgs("zeros", []string{"big"}, []string{"y"})...)
	expectPing(t, c)
	expectOK(t, c, "AI.TENSORSET", "fits", "INT64", 3, "VALUES", 1000, 1000, 50) // 200 MB
	expectOK(t, c, execArgs("zeros", []string{"fits"}, []string{"y"})...)
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}
