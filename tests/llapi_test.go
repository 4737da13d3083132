package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// The low-level API for other modules (module/redisai.h): a module of our own (tests/llapi), built
// here with the C compiler against that header, loads next to gorai and runs each group of
// functions from its commands, each answering +OK or the check that failed.

// The two rules of module/redisai.h for a module of several files: RedisAI's (the file that
// includes the header without REDISAI_EXTERN defines the function pointers) and gorai's
// (REDISAI_MAIN in one file, nothing in the others). Each gives the compiler flags of
// llapi_module.c and of llapi_second_file.c.
var (
	redisAIHeaderRule = [2][]string{nil, {"-DREDISAI_EXTERN"}}
	goraiHeaderRule   = [2][]string{{"-DREDISAI_MAIN"}, nil}
)

// buildLLAPIModule compiles tests/llapi's two files into a shared object in a temporary folder,
// with the flags of rule, and links them with -fno-common (GCC's default since 10): a pointer
// defined in both files would not link.
func buildLLAPIModule(t *testing.T, rule [2][]string) string {
	t.Helper()
	root := redistest.RepoRoot()
	dir := t.TempDir()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	run := func(args ...string) {
		t.Helper()
		if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Fatalf("building the test module: %s %v: %v\n%s", cc, args, err, b)
		}
	}
	var objects []string
	for i, file := range []string{"llapi_module.c", "llapi_second_file.c"} {
		obj := filepath.Join(dir, strconv.Itoa(i)+".o")
		run(append(append([]string{"-c", "-fPIC", "-fno-common", "-O1", "-Wall", "-Wextra", "-Werror", "-std=gnu11",
			"-I", filepath.Join(root, "module")}, rule[i]...), "-o", obj, filepath.Join(root, "tests", "llapi", file))...)
		objects = append(objects, obj)
	}
	out := filepath.Join(dir, "llapi_module.so")
	run(append(append([]string{"-shared", "-o", out}, objects...), "-lpthread")...)
	return out
}

// startLLAPIServer starts gorai with the test module loaded after it, and the keys the module's
// commands use.
func startLLAPIServer(t *testing.T, rule [2][]string) (*redistest.Server, *resp.Conn) {
	t.Helper()
	s := startServer(t, "loadmodule "+buildLLAPIModule(t, rule))
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "a{1}", "FLOAT", 2, 2, "VALUES", 2, 3, 2, 3)
	expectOK(t, c, "AI.TENSORSET", "b{1}", "FLOAT", 2, 2, "VALUES", 2, 3, 2, 3)
	expectOK(t, c, "AI.MODELSTORE", "m{1}", "TF", "CPU", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "mul",
		"BLOB", redisaiFixture(t, "graph.pb"))
	expectOK(t, c, "AI.SCRIPTSET", "myscript{1}", "CPU", "SOURCE", "def bar(a, b):\n    return a + b\n")
	return s, c
}

func TestLLAPI(t *testing.T) {
	t.Parallel()
	s, c := startLLAPIServer(t, redisAIHeaderRule)
	for _, name := range []string{"LLAPI.BASIC", "LLAPI.TENSORS", "LLAPI.MODELRUN", "LLAPI.SCRIPTRUN", "LLAPI.DAG", "LLAPI.DLPACK"} {
		t.Run(name, func(t *testing.T) { expectOK(t, c, name) })
	}
	t.Run("LLAPI.MODELCREATE", func(t *testing.T) { expectOK(t, c, "LLAPI.MODELCREATE", redisaiFixture(t, "graph.pb")) })
	expectPing(t, c)
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestLLAPIHeaderRules: the test module built under gorai's rule of redisai.h (REDISAI_MAIN in
// one file) loads and works as under RedisAI's, which TestLLAPI uses: a module written for either
// header builds against gorai's unchanged.
func TestLLAPIHeaderRules(t *testing.T) {
	t.Parallel()
	_, c := startLLAPIServer(t, goraiHeaderRule)
	expectOK(t, c, "LLAPI.BASIC")
	expectOK(t, c, "LLAPI.TENSORS")
}

// TestLLAPITensorInKey: a tensor another module made and stored in a key is gorai's own, read by
// AI.TENSORGET and kept by the RDB file.
func TestLLAPITensorInKey(t *testing.T) {
	t.Parallel()
	s, c := startLLAPIServer(t, redisAIHeaderRule)
	expectOK(t, c, "LLAPI.STORETENSOR", "made")
	want := resp.Arr(resp.BulkString("dtype"), resp.BulkString("DOUBLE"), resp.BulkString("shape"), resp.Arr(resp.Int(3)),
		resp.BulkString("values"), resp.Arr(resp.BulkString("0.5"), resp.BulkString("1.5"), resp.BulkString("2.5")))
	expect(t, c, want, "AI.TENSORGET", "made", "META", "VALUES")
	expectOK(t, c, "SAVE")
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	expect(t, s.Conn(t), want, "AI.TENSORGET", "made", "META", "VALUES")
}

// TestModuleCallsCommands: another module's RedisModule_Call of gorai's commands that check the
// caller's ACL (AI.CONFIG's choice of libraries, the scans) runs them as Redis runs a module's calls,
// for no user (its client has none: reading it crashed Redis), also when a user who may not load
// modules ran the module's command.
func TestModuleCallsCommands(t *testing.T) {
	t.Parallel()
	s, c := startLLAPIServer(t, redisAIHeaderRule)
	path := resp.BulkString(backendsPath(t, c))
	expectOK(t, c, "ACL", "SETUSER", "noadmin", "on", "nopass", "~*", "+@all", "-@admin")
	limited := s.Conn(t)
	expectOK(t, limited, "AUTH", "noadmin", "any")
	for _, conn := range []*resp.Conn{c, limited} {
		expectOK(t, conn, "LLAPI.CALL", "AI.CONFIG", "BACKENDSPATH", path.Text())
		expectOK(t, conn, "LLAPI.CALL", "AI._MODELSCAN")
		expectOK(t, conn, "LLAPI.CALL", "AI._SCRIPTSCAN")
		expectOK(t, conn, "LLAPI.CALL", "AI.CONFIG", "MODEL_CHUNK_SIZE", "1048576")
	}
	expect(t, c, path, "AI.CONFIG", "GET", "BACKENDSPATH") // set by the calls
	expectPing(t, c)
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestLLAPIRunsCounted: the runs another module makes of a stored model go through gorai's queues
// and show in AI.INFO of its key, as the commands' do.
func TestLLAPIRunsCounted(t *testing.T) {
	t.Parallel()
	_, c := startLLAPIServer(t, redisAIHeaderRule)
	expectOK(t, c, "LLAPI.MODELRUN") // two runs queued (one fails), two run in place
	info := do(t, c, "AI.INFO", "m{1}")
	fields := map[string]resp.Value{}
	for i := 0; i+1 < len(info.Elems); i += 2 {
		fields[info.Elems[i].Text()] = info.Elems[i+1]
	}
	for field, want := range map[string]int64{"calls": 4, "errors": 1} {
		if got := fields[field]; got.Kind != resp.Integer || got.Int != want {
			t.Errorf("AI.INFO m{1} %s = %v, want %s", field, got, strconv.FormatInt(want, 10))
		}
	}
}

// TestLLAPILockHolders: the low-level API called where Redis' lock is already held. Another module's
// thread that holds the lock (as RedisAI required) builds a DAG from a string, and a synchronous
// ScriptRun on Redis' main thread runs a script that calls into Redis: gorai took the lock again in
// both, and Redis hung for good.
func TestLLAPILockHolders(t *testing.T) {
	t.Parallel()
	s, c := startLLAPIServer(t, redisAIHeaderRule)
	c.SetTimeout(20 * time.Second)
	expectOK(t, c, "LLAPI.DAGFROMTHREAD")
	expectOK(t, c, "LLAPI.SCRIPTCALLSREDIS")
	expect(t, c, resp.BulkString("1"), "GET", "set-by-script")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}
