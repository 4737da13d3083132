package commands

import (
	"errors"
	"reflect"
	"testing"
)

// Every error of AI.CONFIG (§1.3): the configuration is unchanged and nothing is replicated.
func TestConfigCommandErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.CONFIG", "-ARITY"},
		{"AI.CONFIG FOO", "-ERR unsupported subcommand"},
		{"AI.CONFIG FOO bar", "-ERR unsupported subcommand"},
		{"AI.CONFIG THREADS_PER_QUEUE 4", "-ERR unsupported subcommand"},
		{"AI.CONFIG SET MODEL_CHUNK_SIZE 4", "-ERR unsupported subcommand"},
		{"AI.CONFIG LOADBACKEND", "-ARITY"},
		{"AI.CONFIG LOADBACKEND TORCH", "-ARITY"},
		{"AI.CONFIG LOADBACKEND PYTORCH x.so", "-ERR unsupported backend"},
		{"AI.CONFIG loadbackend tensorflow x.so", "-ERR unsupported backend"},
		{"AI.CONFIG BACKENDSPATH", "-ERR BACKENDSPATH: missing path argument"},
		{"AI.CONFIG MODEL_CHUNK_SIZE", "-ERR MODEL_CHUNK_SIZE: missing chunk size"},
		{"AI.CONFIG MODEL_CHUNK_SIZE 0", "-ERR MODEL_CHUNK_SIZE: invalid chunk size"},
		{"AI.CONFIG MODEL_CHUNK_SIZE -1", "-ERR MODEL_CHUNK_SIZE: invalid chunk size"},
		{"AI.CONFIG MODEL_CHUNK_SIZE x", "-ERR MODEL_CHUNK_SIZE: invalid chunk size"},
		{"AI.CONFIG MODEL_CHUNK_SIZE 1.5", "-ERR MODEL_CHUNK_SIZE: invalid chunk size"},
		{"AI.CONFIG MODEL_CHUNK_SIZE 99999999999999999999", "-ERR MODEL_CHUNK_SIZE: invalid chunk size"},
		{"AI.CONFIG GET", "-ARITY"},
	}
	for _, c := range cases {
		ks, rt := newFakeKeyspace(), newFakeRuntime()
		before := rt.config
		if got := runAI(ks, rt, ConfigCommand, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if !reflect.DeepEqual(rt.config, before) || len(rt.loaded) != 0 || ks.replicated != 0 {
			t.Errorf("%s: config %+v, loaded %v, replicated %d", c.line, rt.config, rt.loaded, ks.replicated)
		}
	}
}

// A failing backend load (dlopen, a missing symbol, a backend already loaded) is one fixed text.
func TestConfigLoadBackendFailure(t *testing.T) {
	ks, rt := newFakeKeyspace(), newFakeRuntime()
	rt.loadErr = errors.New("dlopen: no such file")
	before := rt.config
	if got := runAI(ks, rt, ConfigCommand, "AI.CONFIG LOADBACKEND TORCH /x/libtorch.so"); got != "-ERR error loading backend" {
		t.Errorf("got %s", got)
	}
	if !reflect.DeepEqual(rt.loaded, []loadCall{{"TORCH", "/x/libtorch.so"}}) || !reflect.DeepEqual(rt.config, before) || ks.replicated != 0 {
		t.Errorf("loaded %v, config %+v, replicated %d", rt.loaded, rt.config, ks.replicated)
	}
}

// A user whom ACL does not let run MODULE LOAD may not choose the libraries Redis loads: LOADBACKEND
// and BACKENDSPATH are refused with Redis' NOPERM after their arity, and change nothing; the other
// subcommands are not checked.
func TestConfigLibrariesNeedModuleLoad(t *testing.T) {
	noperm := errors.New("NOPERM this user has no permissions to run the 'module|load' command")
	cases := []struct{ line, want string }{
		{"AI.CONFIG LOADBACKEND TORCH /tmp/evil.so", "-NOPERM this user has no permissions to run the 'module|load' command"},
		{"AI.CONFIG LOADBACKEND PYTORCH x.so", "-NOPERM this user has no permissions to run the 'module|load' command"},
		{"AI.CONFIG LOADBACKEND TORCH", "-ARITY"},
		{"AI.CONFIG BACKENDSPATH /tmp", "-NOPERM this user has no permissions to run the 'module|load' command"},
		{"AI.CONFIG BACKENDSPATH", "-ERR BACKENDSPATH: missing path argument"},
		{"AI.CONFIG MODEL_CHUNK_SIZE 1024", "+OK"},
		{"AI.CONFIG GET BACKENDSPATH", "_"},
	}
	for _, c := range cases {
		ks, rt := newFakeKeyspace(), newFakeRuntime()
		rt.noLoadingErr = noperm
		if got := runAI(ks, rt, ConfigCommand, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if rt.config.BackendsPath != "/m/backends" || len(rt.loaded) != 0 {
			t.Errorf("%s: BACKENDSPATH %q, loaded %v", c.line, rt.config.BackendsPath, rt.loaded)
		}
	}
}

// The subcommands in sequence: each takes effect at once, GET reads it back, nothing is replicated.
func TestConfigCommand(t *testing.T) {
	ks, rt := newFakeKeyspace(), newFakeRuntime()
	steps := []struct {
		line, want string
		load       *loadCall
	}{
		{"AI.CONFIG GET BACKENDSPATH", "_", nil}, // not set: <module dir>/backends is used
		{"AI.CONFIG GET MODEL_CHUNK_SIZE", ":535822336", nil},
		{"AI.CONFIG GET FOO", "_", nil},
		{"AI.CONFIG GET THREADS_PER_QUEUE", "_", nil},
		{"AI.CONFIG GET BACKENDSPATH extra", "_", nil},
		{"AI.CONFIG LOADBACKEND torch redisai_torch/redisai_torch.so", "+OK", &loadCall{"TORCH", "/m/backends/redisai_torch/redisai_torch.so"}},
		{"AI.CONFIG LOADBACKEND ONNX /abs/onnx.so", "+OK", &loadCall{"ONNX", "/abs/onnx.so"}},
		{"AI.CONFIG BACKENDSPATH /new/path", "+OK", nil},
		{"AI.CONFIG GET BACKENDSPATH extra", `$"/new/path"`, nil},
		{"AI.CONFIG get backendspath", `$"/new/path"`, nil},
		{"AI.CONFIG LOADBACKEND TfLite lite.so", "+OK", &loadCall{"TFLITE", "/new/path/lite.so"}},
		{"AI.CONFIG LOADBACKEND TF tf.so extra", "+OK", &loadCall{"TF", "/new/path/tf.so"}},
		{"AI.CONFIG model_chunk_size 100", "+OK", nil},
		{"AI.CONFIG GET model_chunk_size", ":100", nil},
		{"AI.CONFIG MODEL_CHUNK_SIZE 1", "+OK", nil},
		{"AI.CONFIG GET MODEL_CHUNK_SIZE", ":1", nil},
		{"AI.CONFIG BACKENDSPATH relative", "+OK", nil},
		{"AI.CONFIG GET BACKENDSPATH", `$"relative"`, nil},
	}
	for _, s := range steps {
		n := len(rt.loaded)
		if got := runAI(ks, rt, ConfigCommand, s.line); got != s.want {
			t.Errorf("%s:\n got %s\nwant %s", s.line, got, s.want)
		}
		switch {
		case s.load == nil && len(rt.loaded) != n:
			t.Errorf("%s: loaded %v", s.line, rt.loaded[n:])
		case s.load != nil && (len(rt.loaded) != n+1 || rt.loaded[n] != *s.load):
			t.Errorf("%s: loaded %v, want %v", s.line, rt.loaded[n:], *s.load)
		}
	}
	if ks.replicated != 0 {
		t.Errorf("AI.CONFIG replicated %d times", ks.replicated)
	}
	if rt.config.ModelChunkSize != 1 || rt.config.BackendsPath != "relative" {
		t.Errorf("config %+v", rt.config)
	}
}

// The chunk size set by AI.CONFIG is the one AI.MODELGET uses.
func TestConfigChunkSizeUsedByModelGet(t *testing.T) {
	ks, rt := modelFixture(t)
	if got := runAI(ks, rt, ConfigCommand, "AI.CONFIG MODEL_CHUNK_SIZE 4"); got != "+OK" {
		t.Fatal(got)
	}
	if got := runAI(ks, rt, ModelGet, "AI.MODELGET g BLOB"); got != `*3 $"0123" $"4567" $"89"` {
		t.Errorf("got %s", got)
	}
}
