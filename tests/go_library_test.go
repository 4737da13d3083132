package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// goLibraryMapped reports whether the server's process has gorai_go.so, the module's Go library,
// mapped.
func goLibraryMapped(t *testing.T, s *redistest.Server) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/" + strconv.Itoa(s.PID()) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(maps), "/gorai_go.so\n")
}

// moduleFile is the content of the module's file, for tests that load a copy of it.
func moduleFile(t *testing.T) []byte {
	t.Helper()
	module, err := os.ReadFile(redistest.ModulePath())
	if err != nil {
		t.Fatal(err)
	}
	return module
}

// lazyServer starts a server that preloads nothing, and checks that its start has not loaded Go:
// neither the library nor a thread more than a plain redis-server has (the Go runtime starts
// several of its own).
func lazyServer(t *testing.T, opts redistest.Options) *redistest.Server {
	t.Helper()
	plain := redistest.Start(t, redistest.Options{NoModule: true})
	plainThreads := threadCount(t, plain)
	plain.Stop()
	opts.ModuleArgs = append(opts.ModuleArgs, "PRELOAD_BACKENDS", "no")
	s := redistest.Start(t, opts)
	c := s.Conn(t)
	expect(t, c, resp.Simple("PONG"), "PING")
	if goLibraryMapped(t, s) {
		t.Fatal("the Go library is loaded after the start, before anything needed it")
	}
	if n := threadCount(t, s); n > plainThreads {
		t.Fatalf("%d threads after the start, a plain redis-server has %d: a Go runtime was started", n, plainThreads)
	}
	return s
}

// TestGoLoadedAtFirstNeed: the module starts without Go; the data plane (AI.TENSORSET,
// AI.TENSORGET) runs without it; the first command that needs it loads it, and INFO does too.
// Checked to fail on the build that started the Go runtime at load (its threads).
func TestGoLoadedAtFirstNeed(t *testing.T) {
	t.Parallel()
	t.Run("command", func(t *testing.T) {
		t.Parallel()
		s := lazyServer(t, redistest.Options{})
		c := s.Conn(t)
		expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 2, "VALUES", 1, 2)
		expect(t, c, resp.BulkStrings("1", "2"), "AI.TENSORGET", "a", "VALUES")
		expect(t, c, resp.Err("ERR tensor key is empty or in a different shard"), "AI.TENSORGET", "b", "VALUES")
		if goLibraryMapped(t, s) {
			t.Fatal("AI.TENSORSET or AI.TENSORGET loaded the Go library")
		}
		expect(t, c, resp.Int(defaultChunkSize), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
		if !goLibraryMapped(t, s) {
			t.Fatal("AI.CONFIG ran without the Go library loaded")
		}
		expect(t, c, resp.Arr(resp.BulkStrings("1", "2")), "AI.DAGEXECUTE", "LOAD", 1, "a", "|>",
			"AI.TENSORGET", "a", "VALUES")
	})
	t.Run("INFO", func(t *testing.T) {
		t.Parallel()
		s := lazyServer(t, redistest.Options{})
		info, err := s.Info("MODULES")
		if err != nil {
			t.Fatal(err)
		}
		if info["ai_threads_per_queue"] == "" {
			t.Errorf("INFO MODULES without gorai's fields: %v", info)
		}
		if !goLibraryMapped(t, s) {
			t.Fatal("INFO wrote gorai's sections without the Go library loaded")
		}
	})
}

// TestGoLoadedByRDB: an RDB holding a model loads the Go library as it is read (the model's session
// is opened then), and the model runs.
func TestGoLoadedByRDB(t *testing.T) {
	t.Parallel()
	s := lazyServer(t, redistest.Options{})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	expectOK(t, c, "SAVE")
	c.Close()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if !goLibraryMapped(t, s) {
		t.Fatal("the RDB's model was read without the Go library")
	}
	c = s.Conn(t)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
}

// TestGoLoadedByPreload: with PRELOAD_BACKENDS on (the default), the library is loaded after the
// start without any command, on a thread of the module's.
func TestGoLoadedByPreload(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	waitFor(t, 10*time.Second, "the Go library", func() (bool, string) {
		return goLibraryMapped(t, s), "not mapped"
	})
}

// TestGoLibraryMissing: a module file without gorai_go.so beside it refuses to load, saying so,
// instead of failing at the first command.
func TestGoLibraryMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	module := moduleFile(t)
	lone := filepath.Join(dir, "gorai.so")
	if err := os.WriteFile(lone, module, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := redistest.Launch(redistest.Options{ModulePath: lone})
	if err == nil {
		t.Fatal("the module loaded without its Go library")
	}
	if se, ok := err.(*redistest.StartError); !ok || !strings.Contains(se.Log, filepath.Join(dir, "gorai_go.so")+" is missing") {
		t.Errorf("start error %v", err)
	}
}

// TestGoLibraryBesideLink: a link to the module (RAI_PATH pointing at a link to build/gorai.so, say)
// finds the Go library beside the file it links to.
func TestGoLibraryBesideLink(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "redisai.so")
	if err := os.Symlink(redistest.ModulePath(), link); err != nil {
		t.Fatal(err)
	}
	s := redistest.Start(t, redistest.Options{ModulePath: link, ModuleArgs: []string{"PRELOAD_BACKENDS", "no"}})
	c := s.Conn(t)
	if got, want := backendsPath(t, c), filepath.Join(filepath.Dir(link), "backends"); got != want {
		t.Errorf("INFO ai_backends_path %q, want %q", got, want)
	}
}

// TestGoLibraryOfAnotherBuild: a module beside the Go library of another build (here the module's
// build identity rewritten in a copy of it) loads, and still runs the data plane, but what needs Go
// is refused with an error that points at the log, which says why; nothing crashes.
func TestGoLibraryOfAnotherBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	module := moduleFile(t)
	id, err := os.ReadFile(filepath.Join(filepath.Dir(redistest.ModulePath()), "build-id"))
	if err != nil || len(id) == 0 {
		t.Fatalf("the build's identity (build/build-id, made with gorai.so): %v", err)
	}
	if bytes.Count(module, id) != 1 {
		t.Fatalf("gorai.so holds its build identity %q %d times, want once", id, bytes.Count(module, id))
	}
	other := bytes.Repeat([]byte("0"), len(id))
	if err := os.WriteFile(filepath.Join(dir, "gorai.so"), bytes.Replace(module, id, other, 1), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(redistest.ModulePath()), "gorai_go.so"), filepath.Join(dir, "gorai_go.so")); err != nil {
		t.Fatal(err)
	}
	s := redistest.Start(t, redistest.Options{ModulePath: filepath.Join(dir, "gorai.so"), ModuleArgs: []string{"PRELOAD_BACKENDS", "no"}})
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "a", "INT8", 1, "VALUES", 7)
	expect(t, c, resp.Err("ERR gorai: its Go library (gorai_go.so) could not be loaded: see the server's log"), "AI.CONFIG", "GET", "BACKENDSPATH")
	expect(t, c, resp.Err("ERR gorai: its Go library (gorai_go.so) could not be loaded: see the server's log"), "AI.INFO", "a")
	expect(t, c, resp.Ints(7), "AI.TENSORGET", "a", "VALUES")
	if log := s.Log(); !strings.Contains(log, "is not the Go library of this module's build ("+string(other)+")") {
		t.Errorf("the log does not say why the library was refused:\n%s", log)
	}
}

// TestModuleLoadAfterRefusal: a MODULE LOAD refused by the Go library (a key that names neither a
// setting nor a backend) leaves the library loaded in the process; a MODULE LOAD with good arguments
// then loads the module and initialises the library afresh.
func TestModuleLoadAfterRefusal(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{NoModule: true, Config: []string{"enable-module-command yes"}})
	c := s.Conn(t)
	module := redistest.ModulePath()
	expect(t, c, resp.Err("ERR Error loading the extension. Please check the server logs."), "MODULE", "LOAD", module, "FOO", "1")
	expectOK(t, c, "MODULE", "LOAD", module, "PRELOAD_BACKENDS", "no")
	if got, want := backendsPath(t, c), filepath.Join(filepath.Dir(module), "backends"); got != want {
		t.Errorf("INFO ai_backends_path %q, want %q", got, want)
	}
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Ints(7)), "AI.DAGEXECUTE", "ROUTING", "{a}", "|>",
		"AI.TENSORSET", "a", "INT8", 1, "VALUES", 7, "|>", "AI.TENSORGET", "a", "VALUES")
	if !strings.Contains(s.Log(), "<ai> ERR error processing argument: FOO 1") {
		t.Errorf("the refusal is not in the log:\n%s", s.Log())
	}
}

// TestSecondModuleLoad: a MODULE LOAD of the loaded module's own file, which the dynamic loader hands
// back as the same image, is refused and leaves the loaded module as it was: its log lines still name
// it (the refusal freed its log context, and they named "<module>", or used freed memory).
func TestSecondModuleLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-module-command yes")
	c := s.Conn(t)
	expect(t, c, resp.Err("ERR Error loading the extension. Please check the server logs."), "MODULE", "LOAD", redistest.ModulePath())
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "ONNX", "/nonexistent/lib.so")
	if log := s.Log(); !strings.Contains(log, "<ai> gorai: could not load backend ONNX from /nonexistent/lib.so") {
		t.Errorf("after a second MODULE LOAD, the module's log line is not its own:\n%s", s.LogTail(5))
	}
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Ints(7)), "AI.DAGEXECUTE", "ROUTING", "{a}", "|>",
		"AI.TENSORSET", "a", "INT8", 1, "VALUES", 7, "|>", "AI.TENSORGET", "a", "VALUES")
}

// TestRelativeModulePath: a module loaded by a path relative to the server's directory finds its
// Go library and backends there even after the directory changes (CONFIG SET dir) before Go is
// first needed: both are made absolute at load.
func TestRelativeModulePath(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{NoModule: true, Config: []string{"enable-module-command yes", "enable-protected-configs yes"}})
	build := filepath.Dir(redistest.ModulePath())
	mod := filepath.Join(s.Dir(), "mod")
	if err := os.Mkdir(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"gorai.so", "gorai_go.so", "backends"} {
		if err := os.Symlink(filepath.Join(build, f), filepath.Join(mod, f)); err != nil {
			t.Fatal(err)
		}
	}
	c := s.Conn(t)
	expectOK(t, c, "MODULE", "LOAD", "mod/gorai.so", "PRELOAD_BACKENDS", "no")
	expectOK(t, c, "CONFIG", "SET", "dir", t.TempDir())
	if got, want := backendsPath(t, c), filepath.Join(mod, "backends"); got != want {
		t.Errorf("INFO ai_backends_path %q, want %q", got, want)
	}
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Ints(7)), "AI.DAGEXECUTE", "ROUTING", "{a}", "|>",
		"AI.TENSORSET", "a", "INT8", 1, "VALUES", 7, "|>", "AI.TENSORGET", "a", "VALUES")
}
