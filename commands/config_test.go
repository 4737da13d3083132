package commands

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseLoadArgs(t *testing.T) {
	c, err := ParseLoadArgs("/m", args("threads_per_queue 4 INTRA_OP_PARALLELISM 2 INTER_OP_PARALLELISM 3 MODEL_CHUNK_SIZE 100 MODEL_EXECUTION_TIMEOUT 1000 BACKEND_MEMORY_LIMIT 5 main_thread_run_limit 0 preload_backends No TORCH t.so onnx /o.so BACKENDSPATH /b"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{BackendsPath: "/b", BackendsPathSet: true, ThreadsPerQueue: 4, IntraOpParallelism: 2, InterOpParallelism: 3,
		ModelChunkSize: 100, ModelExecutionTimeout: 1000, BackendMemoryLimit: 5}
	want.BackendPaths = c.BackendPaths
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	if c.BackendPaths["TORCH"] != "t.so" || c.BackendPaths["ONNX"] != "/o.so" || len(c.BackendPaths) != 2 {
		t.Errorf("backend paths %v", c.BackendPaths)
	}
	d, err := ParseLoadArgs("/m", nil)
	if err != nil || d.BackendsPath != "/m/backends" || d.BackendsPathSet || d.ThreadsPerQueue != 1 || d.ModelChunkSize != 511<<20 || d.ModelExecutionTimeout != 5000 || !d.PreloadBackends || d.MainThreadRunLimit != 100 {
		t.Errorf("defaults: %+v %v", d, err)
	}
}

func TestParseLoadArgsErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"THREADS_PER_QUEUE", "ERR even number of arguments"},
		{"FOO 1", "ERR error processing argument: FOO 1"},
		{"THREADS_PER_QUEUE 0", "ERR error processing argument: THREADS_PER_QUEUE 0"},
		{"THREADS_PER_QUEUE x", "ERR error processing argument: THREADS_PER_QUEUE x"},
		{"THREADS_PER_QUEUE 1025", "ERR error processing argument: THREADS_PER_QUEUE 1025"},
		{"INTRA_OP_PARALLELISM 100000", "ERR error processing argument: INTRA_OP_PARALLELISM 100000"},
		{"INTRA_OP_PARALLELISM 0", "ERR error processing argument: INTRA_OP_PARALLELISM 0"},
		{"INTER_OP_PARALLELISM -1", "ERR error processing argument: INTER_OP_PARALLELISM -1"},
		{"MODEL_CHUNK_SIZE 0", "ERR error processing argument: MODEL_CHUNK_SIZE 0"},
		{"MODEL_EXECUTION_TIMEOUT 999", "ERR error processing argument: MODEL_EXECUTION_TIMEOUT 999"},
		{"BACKEND_MEMORY_LIMIT 0", "ERR error processing argument: BACKEND_MEMORY_LIMIT 0"},
		{"PRELOAD_BACKENDS 0", "ERR error processing argument: PRELOAD_BACKENDS 0"},
		{"MAIN_THREAD_RUN_LIMIT -1", "ERR error processing argument: MAIN_THREAD_RUN_LIMIT -1"},
	}
	for _, c := range cases {
		_, err := ParseLoadArgs("/m", args(c.line))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.line, err, c.want)
		}
	}
}

func FuzzParseLoadArgs(f *testing.F) {
	f.Add("THREADS_PER_QUEUE 4 TORCH x")
	f.Add("BACKENDSPATH /x MODEL_CHUNK_SIZE 9")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseLoadArgs("/m", bytes.Split([]byte(line), []byte(" ")))
		if err == nil && (c.ThreadsPerQueue < 1 || c.ModelChunkSize < 1 || c.ModelExecutionTimeout < 1000 || c.IntraOpParallelism < 0) {
			t.Fatalf("%q accepted as %+v", line, c)
		}
	})
}
