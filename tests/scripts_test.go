package tests

// TorchScript scripts against a real server: AI.SCRIPTSTORE (entry points and
// their validation), AI.SCRIPTSET (deprecated; functions called positionally),
// AI.SCRIPTGET / SCRIPTDEL / SCRIPTEXECUTE / SCRIPTRUN / _SCRIPTSCAN, AI.INFO,
// COMMAND GETKEYS, MULTI/Lua refusal, BGSAVE / AOF rewrite / DEBUG RELOAD /
// DUMP+RESTORE / replication, and the Redis torch extension: redis.execute,
// redis.asList and redisAI.model_execute called from inside a script.

import (
	"bytes"
	"crypto/rand"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/backends/onnx/onnxtest"
	"gorai/tests/redistest"
	"gorai/tests/resp"
)

const (
	errScriptEmpty        = "ERR script key is empty"
	errScriptMissingEPs   = "ERR Insufficient arguments, missing script entry points"
	errScriptMissingSrc   = "ERR Insufficient arguments, missing script SOURCE"
	errScriptNonNumericEP = "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"
	errScriptExecArity    = "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"
	errScriptRunArity     = "ERR wrong number of arguments for 'AI.SCRIPTRUN' command"
	errScriptFirstScope   = "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"
	errRedisCommand       = "Redis command returned an error"
)

// scEntrySource is an AI.SCRIPTSTORE script: entry points and a helper that is not one.
const scEntrySource = `def helper(x: Tensor) -> Tensor:
    return x * 2

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])

def add(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def count(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.tensor([len(tensors), len(keys), len(args), len(keys[0])])

def twice(tensors: List[Tensor], keys: List[str], args: List[str]):
    return helper(tensors[0])

def svd(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.svd(tensors[0])

def pair(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0] + 1, tensors[0] - 1]

def nothing(tensors: List[Tensor], keys: List[str], args: List[str]):
    x = tensors[0] + 1

def boom(tensors: List[Tensor], keys: List[str], args: List[str]):
    assert bool(tensors[0].sum() < 0), "the sum is not negative"
    return tensors[0]

def not_tensor(tensors: List[Tensor], keys: List[str], args: List[str]):
    return 3
`

var scEntryPoints = []string{"scale", "add", "count", "twice", "svd", "pair", "nothing", "boom", "not_tensor"}

// scLegacySource is an AI.SCRIPTSET script, its functions called positionally (AI.SCRIPTRUN, as
// SmartRedis's run_script does).
const scLegacySource = `def one_to_one(data):
    return data * 2

def two_to_one(a, b):
    return a + b

def first_plus_rest(first: Tensor, rest: List[Tensor]):
    s = first
    for t in rest:
        s = s + t
    return s

def three(a: Tensor):
    return a, a + 1, a + 2
`

// scNestedSource is what SmartRedis's set_function sends for a function defined inside a test
// function: inspect.getsource's indented text.
const scNestedSource = "    def one_to_one(data):\n        # doubled\n\n        return data * 2\n"

// scExtSource calls into Redis from TorchScript.
const scExtSource = `def set_key(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])

def set_key_list(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", [keys[0], args[0]])

def set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    res = redis.execute("GET", keys[0])
    return torch.tensor(float(str(res)))

def incr(tensors: List[Tensor], keys: List[str], args: List[str]):
    res = redis.execute("INCR", keys[0])
    return torch.tensor(int(str(res)))

def get_none(tensors: List[Tensor], keys: List[str], args: List[str]):
    res = redis.execute("GET", keys[0])
    if str(res) == "None":
        return torch.tensor(1)
    return torch.tensor(0)

def lrange(tensors: List[Tensor], keys: List[str], args: List[str]):
    for a in args:
        redis.execute("RPUSH", keys[0], a)
    values = redis.asList(redis.execute("LRANGE", keys[0], "0", "-1"))
    l = [torch.tensor(int(str(v))).reshape(1, 1) for v in values]
    return torch.cat(l, dim=0)

def wrong_type(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("LPUSH", keys[0], "x")

def bad_arity(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0])

def scaled_by_key(tensors: List[Tensor], keys: List[str], args: List[str]):
    k = redis.execute("GET", keys[0])
    return tensors[0] * float(str(k))

def model_one(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0]], 1)

def model_two(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0], tensors[1]], 1)

def model_empty(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0][0:0]], 1)

def model_const(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = torch.tensor([[5.1, 3.5, 1.4, 0.2]])
    outs = redisAI.model_execute(keys[0], [a], 1)
    return outs[0] * 2
`

var scExtEntryPoints = []string{"set_key", "set_key_list", "set_get", "incr", "get_none", "lrange", "wrong_type",
	"bad_arity", "scaled_by_key", "model_one", "model_two", "model_const", "model_empty"}

// scriptStoreArgs builds AI.SCRIPTSTORE key device [TAG tag] ENTRY_POINTS n eps... SOURCE src.
func scriptStoreArgs(key, device string, tag any, eps []string, src string) []any {
	args := []any{"AI.SCRIPTSTORE", key, device}
	if tag != nil {
		args = append(args, "TAG", tag)
	}
	args = append(args, "ENTRY_POINTS", len(eps))
	for _, e := range eps {
		args = append(args, e)
	}
	return append(args, "SOURCE", src)
}

// scriptMeta is AI.SCRIPTGET key META.
func scriptMeta(device, tag string, eps []string) resp.Value {
	b := resp.BulkString
	return resp.Arr(b("device"), b(device), b("tag"), b(tag), b("Entry Points"), resp.BulkStrings(eps...))
}

// scriptFull is AI.SCRIPTGET key (or META SOURCE).
func scriptFull(device, tag string, eps []string, src string) resp.Value {
	m := scriptMeta(device, tag, eps)
	m.Elems = append(m.Elems, resp.BulkString("source"), resp.BulkString(src))
	return m
}

// scriptRunInfo is AI.INFO of a script (samples always -1); duration < 0: any positive (expectRunInfo).
func scriptRunInfo(key, device, tag string, duration, calls, errors int64) resp.Value {
	v := runInfo(key, "TORCH", device, tag, duration, -1, calls, errors)
	v.Elems[3] = resp.BulkString("SCRIPT")
	return v
}

// floatValues is TENSORGET META VALUES of a FLOAT tensor.
func floatValues(dims []int64, vals ...float32) resp.Value {
	b := resp.BulkString
	ss := make([]string, len(vals))
	for i, v := range vals {
		ss[i] = formatG17(float64(v))
	}
	return resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(dims...), b("values"), resp.BulkStrings(ss...))
}

// intValues is TENSORGET META VALUES of an INT64 tensor.
func intValues(dims []int64, vals ...int64) resp.Value {
	b := resp.BulkString
	return resp.Arr(b("dtype"), b("INT64"), b("shape"), resp.Ints(dims...), b("values"), resp.Ints(vals...))
}

// expectErrContains expects an error reply on one line that contains sub.
func expectErrContains(t *testing.T, c *resp.Conn, sub string, args ...any) bool {
	t.Helper()
	got := do(t, c, args...)
	if got.Kind != resp.Error || !strings.Contains(got.Text(), sub) || strings.ContainsAny(got.Text(), "\r\n") {
		t.Errorf("%s\n   got: %v\n  want: a one-line error containing %q", fmtArgs(args), got, sub)
		return false
	}
	return true
}

func setScriptInputs(t *testing.T, c *resp.Conn) {
	t.Helper()
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", "2", "2", "VALUES", "1", "2", "3", "4")
	expectOK(t, c, "AI.TENSORSET", "b", "FLOAT", "2", "2", "VALUES", "10", "20", "30", "40")
}

// ---------------------------------------------------------------------------
// commands

// TestScriptStoreExecute: SCRIPTSTORE with entry points and SCRIPTEXECUTE with
// INPUTS, KEYS, ARGS and OUTPUTS in the shapes RedisAI's tests use.
func TestScriptStoreExecute(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", "v1", scEntryPoints, scEntrySource)...)
	expect(t, c, resp.Simple("AI_SCRIPT"), "TYPE", "s")
	expect(t, c, scriptMeta("CPU", "v1", scEntryPoints), "AI.SCRIPTGET", "s", "META")

	// INPUTS + ARGS: the script casts the string argument
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "3", "OUTPUTS", "1", "o")
	expect(t, c, floatValues([]int64{2, 2}, 3, 6, 9, 12), "AI.TENSORGET", "o", "META", "VALUES")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "-2", "OUTPUTS", "1", "o", "TIMEOUT", "60000")
	expect(t, c, floatValues([]int64{2, 2}, -2, -4, -6, -8), "AI.TENSORGET", "o", "META", "VALUES")
	// the sections after the first in any order; keywords in any case
	expectOK(t, c, "ai.scriptexecute", "s", "scale", "inputs", "1", "b", "outputs", "1", "o2", "args", "1", "2")
	expect(t, c, floatValues([]int64{2, 2}, 20, 40, 60, 80), "AI.TENSORGET", "o2", "META", "VALUES")
	// two inputs; the same key as input and output
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "add", "INPUTS", "2", "a", "b", "OUTPUTS", "1", "sum")
	expect(t, c, floatValues([]int64{2, 2}, 11, 22, 33, 44), "AI.TENSORGET", "sum", "META", "VALUES")
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", "2", "VALUES", "1", "5")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "add", "INPUTS", "2", "x", "x", "OUTPUTS", "1", "x")
	expect(t, c, floatValues([]int64{2}, 2, 10), "AI.TENSORGET", "x", "META", "VALUES")

	// KEYS (binary keys allowed) reach the script as strings, ARGS too
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "count", "KEYS", "2", "k\x00ey", "k2", "INPUTS", "2", "a", "b", "ARGS", "3", "x", "", "z", "OUTPUTS", "1", "n")
	expect(t, c, intValues([]int64{4}, 2, 2, 3, 4), "AI.TENSORGET", "n", "META", "VALUES")
	// KEYS only, no tensors
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "count", "KEYS", "1", "abc", "OUTPUTS", "1", "n")
	expect(t, c, intValues([]int64{4}, 0, 1, 0, 3), "AI.TENSORGET", "n", "META", "VALUES")
	// INPUTS first, KEYS after
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "count", "INPUTS", "1", "a", "KEYS", "1", "ab", "OUTPUTS", "1", "n")
	expect(t, c, intValues([]int64{4}, 1, 1, 0, 2), "AI.TENSORGET", "n", "META", "VALUES")

	// an entry point calling a helper
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "twice", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expect(t, c, floatValues([]int64{2, 2}, 2, 4, 6, 8), "AI.TENSORGET", "o", "META", "VALUES")
	// a List[Tensor] result fills two outputs
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "pair", "INPUTS", "1", "a", "OUTPUTS", "2", "p1", "p2")
	expect(t, c, floatValues([]int64{2, 2}, 2, 3, 4, 5), "AI.TENSORGET", "p1", "META", "VALUES")
	expect(t, c, floatValues([]int64{2, 2}, 0, 1, 2, 3), "AI.TENSORGET", "p2", "META", "VALUES")
	// with no OUTPUTS the result is dropped; a function returning nothing
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "pair", "INPUTS", "1", "a")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "nothing", "INPUTS", "1", "a")
	// the inputs are untouched
	expect(t, c, floatValues([]int64{2, 2}, 1, 2, 3, 4), "AI.TENSORGET", "a", "META", "VALUES")

	// torch.svd: a tuple of three tensors into three outputs
	A := []float32{2, -1, 0.5, 3, 1, 4}
	expectOK(t, c, "AI.TENSORSET", "A", "FLOAT", "3", "2", "BLOB", f32s(A...))
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "svd", "INPUTS", "1", "A", "OUTPUTS", "3", "U", "S", "V")
	checkSVD(t, c, A, 3, 2)
}

// checkSVD checks U, S and V (torch.svd: A = U diag(S) V^T, reduced) of the m x n matrix A.
func checkSVD(t *testing.T, c *resp.Conn, A []float32, m, n int) {
	t.Helper()
	get := func(key string, dims ...int64) []float32 {
		got := do(t, c, "AI.TENSORGET", key, "META", "BLOB")
		b := resp.BulkString
		if got.Kind != resp.Array || len(got.Elems) != 6 || !resp.Equal(resp.Arr(got.Elems[:4]...), resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(dims...))) {
			t.Fatalf("svd output %s: got %v, want FLOAT %v", key, got, dims)
		}
		return decodeF32(got.Elems[5].Str)
	}
	k := n
	U, S, V := get("U", int64(m), int64(k)), get("S", int64(k)), get("V", int64(n), int64(k))
	const tol = 1e-4
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var r float64
			for l := 0; l < k; l++ {
				r += float64(U[i*k+l]) * float64(S[l]) * float64(V[j*k+l])
			}
			if math.Abs(r-float64(A[i*n+j])) > tol {
				t.Errorf("U diag(S) V^T [%d,%d] = %v, A has %v", i, j, r, A[i*n+j])
			}
		}
	}
	// S: descending, and S^2 are the eigenvalues of A^T A (2x2 here)
	var ata [2][2]float64
	for i := 0; i < m; i++ {
		for p := 0; p < 2; p++ {
			for q := 0; q < 2; q++ {
				ata[p][q] += float64(A[i*n+p]) * float64(A[i*n+q])
			}
		}
	}
	tr, det := ata[0][0]+ata[1][1], ata[0][0]*ata[1][1]-ata[0][1]*ata[1][0]
	disc := math.Sqrt(tr*tr/4 - det)
	want := []float64{math.Sqrt(tr/2 + disc), math.Sqrt(tr/2 - disc)}
	for i, w := range want {
		if math.Abs(float64(S[i])-w) > tol {
			t.Errorf("S[%d] = %v, want %v", i, S[i], w)
		}
	}
}

// TestScriptSetRun: the deprecated AI.SCRIPTSET (what SmartRedis sends) and
// AI.SCRIPTRUN with positional arguments, a trailing List[Tensor], tuple
// results, and the indented source of a nested def.
func TestScriptSetRun(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, "AI.SCRIPTSET", "l", "CPU", "SOURCE", scLegacySource)
	expect(t, c, scriptFull("CPU", "", nil, scLegacySource), "AI.SCRIPTGET", "l")
	expectOK(t, c, "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 2, 4, 6, 8), "AI.TENSORGET", "o", "META", "VALUES")
	expectOK(t, c, "AI.SCRIPTRUN", "l", "two_to_one", "INPUTS", "a", "b", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 11, 22, 33, 44), "AI.TENSORGET", "o", "META", "VALUES")
	// a trailing List[Tensor] takes the remaining inputs, with or without $
	expectOK(t, c, "AI.SCRIPTRUN", "l", "first_plus_rest", "INPUTS", "a", "b", "b", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 21, 42, 63, 84), "AI.TENSORGET", "o", "META", "VALUES")
	expectOK(t, c, "AI.SCRIPTRUN", "l", "first_plus_rest", "INPUTS", "a", "$", "b", "b", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 21, 42, 63, 84), "AI.TENSORGET", "o", "META", "VALUES")
	expectOK(t, c, "AI.SCRIPTRUN", "l", "three", "TIMEOUT", "1000", "INPUTS", "a", "OUTPUTS", "t1", "t2", "t3")
	expect(t, c, floatValues([]int64{2, 2}, 1, 2, 3, 4), "AI.TENSORGET", "t1", "META", "VALUES")
	expect(t, c, floatValues([]int64{2, 2}, 2, 3, 4, 5), "AI.TENSORGET", "t2", "META", "VALUES")
	expect(t, c, floatValues([]int64{2, 2}, 3, 4, 5, 6), "AI.TENSORGET", "t3", "META", "VALUES")
	// SCRIPTEXECUTE on a SCRIPTSET script: positional too
	expectOK(t, c, "AI.SCRIPTEXECUTE", "l", "two_to_one", "INPUTS", "2", "a", "b", "OUTPUTS", "1", "o")
	expect(t, c, floatValues([]int64{2, 2}, 11, 22, 33, 44), "AI.TENSORGET", "o", "META", "VALUES")

	// positional errors (RedisAI's texts)
	expectErr(t, c, "Wrong number of inputs provided to function: two_to_one", "AI.SCRIPTRUN", "l", "two_to_one", "INPUTS", "a", "OUTPUTS", "o")
	expectErr(t, c, "Function returned unexpected number of outputs - three", "AI.SCRIPTRUN", "l", "three", "INPUTS", "a", "OUTPUTS", "o")
	expectErr(t, c, "Function does not exist: nope", "AI.SCRIPTRUN", "l", "nope", "INPUTS", "a", "OUTPUTS", "o")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTRUN", "missing", "one_to_one", "INPUTS", "a", "OUTPUTS", "o")
	expectErr(t, c, errEmptyKey, "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "nokey", "OUTPUTS", "o")
	expectErr(t, c, errScriptRunArity, "AI.SCRIPTRUN", "l")
	expectErr(t, c, "ERR Already encountered an INPUTS keyword in SCRIPTRUN", "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "INPUTS", "b", "OUTPUTS", "o")
	expectErr(t, c, "ERR Already encountered an INPUTS section in SCRIPTRUN", "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "OUTPUTS", "o", "INPUTS", "b")
	expectErr(t, c, "ERR Encountered a variable size list of tensors outside of input section", "AI.SCRIPTRUN", "l", "first_plus_rest", "$", "INPUTS", "a", "OUTPUTS", "o")

	// the indented text of a nested def, stored as sent (TAG too: argc 7)
	expectOK(t, c, "AI.SCRIPTSET", "nested", "CPU", "TAG", "fn", "SOURCE", scNestedSource)
	expect(t, c, resp.BulkString(scNestedSource), "AI.SCRIPTGET", "nested", "SOURCE")
	expect(t, c, scriptMeta("CPU", "fn", nil), "AI.SCRIPTGET", "nested", "META")
	expectOK(t, c, "AI.SCRIPTRUN", "nested", "one_to_one", "INPUTS", "b", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 20, 40, 60, 80), "AI.TENSORGET", "o", "META", "VALUES")

	// SCRIPTSET grammar: argc 5 or 7; anything after the source ignored
	expectErr(t, c, arityErr("ai.scriptset"), "AI.SCRIPTSET", "l2", "CPU", "SOURCE")
	expectErr(t, c, arityErr("ai.scriptset"), "AI.SCRIPTSET", "l2", "CPU", "TAG", "SOURCE", scLegacySource)
	expectErr(t, c, errScriptMissingSrc, "AI.SCRIPTSET", "l2", "CPU", "FOO", "bar")
	expectErr(t, c, errScriptMissingSrc, "AI.SCRIPTSET", "l2", "CPU", "TAG", "x", "y", "z")
	expect(t, c, resp.Int(0), "EXISTS", "l2")
}

// TestScriptStoreErrors: AI.SCRIPTSTORE's grammar errors, the entry-point
// validation texts (no ERR), a compile error, devices, WRONGTYPE; none of them
// creates a key or replaces an existing script.
func TestScriptStoreErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	src := scEntrySource
	expectOK(t, c, scriptStoreArgs("keep", "CPU", "orig", []string{"scale"}, src)...)

	for _, key := range []string{"new", "keep"} {
		// grammar
		expectErr(t, c, arityErr("ai.scriptstore"), "AI.SCRIPTSTORE", key, "CPU", "ENTRY_POINTS", "1", "scale", "SOURCE")
		expectErr(t, c, arityErr("ai.scriptstore"), "AI.SCRIPTSTORE", key)
		expectErr(t, c, errScriptMissingEPs, "AI.SCRIPTSTORE", key, "CPU", "TAG", "t", "SOURCE", src, "x")
		expectErr(t, c, errScriptMissingEPs, "AI.SCRIPTSTORE", key, "CPU", "SOURCE", src, "ENTRY_POINTS", "1", "scale")
		expectErr(t, c, errScriptNonNumericEP, "AI.SCRIPTSTORE", key, "CPU", "ENTRY_POINTS", "x", "scale", "SOURCE", src)
		expectErr(t, c, errScriptMissingEPs, "AI.SCRIPTSTORE", key, "CPU", "TAG", "t", "ENTRY_POINTS", "9", "scale", "SOURCE", src)
		expectErr(t, c, errScriptMissingSrc, "AI.SCRIPTSTORE", key, "CPU", "TAG", "t", "ENTRY_POINTS", "1", "scale", "FOO", src)
		expectErr(t, c, errScriptMissingSrc, "AI.SCRIPTSTORE", key, "CPU", "ENTRY_POINTS", "2", "scale", "add", "SOURCE")
		// entry-point validation
		expectErr(t, c, "Function nope does not exist in the given script.", scriptStoreArgs(key, "CPU", nil, []string{"scale", "nope"}, src)...)
		expectErr(t, c, "Function helper does not exist in the given script.", scriptStoreArgs(key, "CPU", nil, []string{"helper"}, "def other(x):\n    return x\n")...)
		expectErr(t, c, "Wrong number of inputs in function two. Expected 3 but was 2",
			scriptStoreArgs(key, "CPU", nil, []string{"two"}, "def two(tensors: List[Tensor], keys: List[str]):\n    return tensors[0]\n")...)
		expectErr(t, c, "Wrong number of inputs in function helper. Expected 3 but was 1", scriptStoreArgs(key, "CPU", nil, []string{"helper"}, src)...)
		expectErr(t, c, "Wrong number of inputs in function four. Expected 3 but was 4",
			scriptStoreArgs(key, "CPU", nil, []string{"four"}, "def four(a: List[Tensor], b: List[str], c: List[str], d: List[str]):\n    return a[0]\n")...)
		for _, sig := range []string{
			"a: Tensor, b: List[str], c: List[str]",
			"a: List[Tensor], b: List[Tensor], c: List[str]",
			"a: List[Tensor], b: List[str], c: List[Tensor]",
			"a: List[Tensor], b: List[str], c: str",
			"a, b, c",
		} {
			expectErr(t, c, "Wrong inputs type in function g. Expected signature similar to: def g(tensors: List[Tensor], keys: List[str], args: List[str])",
				scriptStoreArgs(key, "CPU", nil, []string{"g"}, "def g("+sig+"):\n    return torch.zeros(1)\n")...)
		}
		// compile errors: TorchScript's message, on one line
		got := do(t, c, scriptStoreArgs(key, "CPU", nil, []string{"f"}, "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] +\n")...)
		if got.Kind != resp.Error || strings.HasPrefix(got.Text(), "ERR") || strings.ContainsAny(got.Text(), "\r\n") || !strings.Contains(got.Text(), "<string>") {
			t.Errorf("SCRIPTSTORE of a syntax error: got %v, want TorchScript's message on one line", got)
		} else {
			t.Logf("syntax error: %s", got.Text())
		}
		expectErrContains(t, c, "undefined value", scriptStoreArgs(key, "CPU", nil, []string{"f"}, "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return undefined_name\n")...)
		expectErrContains(t, c, "", "AI.SCRIPTSTORE", key, "CPU", "ENTRY_POINTS", "1", "f", "SOURCE", "")
		// devices: the backend's errors
		expectErr(t, c, "GPU requested but Torch couldn't find CUDA", scriptStoreArgs(key, "GPU", nil, []string{"scale"}, src)...)
		expectErrPrefix(t, c, "ERR ", scriptStoreArgs(key, "TPU", nil, []string{"scale"}, src)...)
		expectPing(t, c)
	}
	expect(t, c, resp.Int(0), "EXISTS", "new")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "new")
	expect(t, c, scriptFull("CPU", "orig", []string{"scale"}, src), "AI.SCRIPTGET", "keep")

	// another type at the key: WRONGTYPE, the value kept
	expectOK(t, c, "SET", "str", "v")
	expectOK(t, c, "AI.TENSORSET", "tn", "FLOAT", "1")
	expectErr(t, c, errWrongType, scriptStoreArgs("str", "CPU", nil, []string{"scale"}, src)...)
	expectErr(t, c, errWrongType, "AI.SCRIPTSET", "tn", "CPU", "SOURCE", scLegacySource)
	expect(t, c, resp.BulkString("v"), "GET", "str")
	expectErr(t, c, errWrongType, "GET", "keep")
	expectErr(t, c, errWrongType, "AI.TENSORGET", "keep")

	// the script still runs; an overwrite replaces source, tag, entry points and statistics
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", "2", "VALUES", "1", "2")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "keep", "scale", "INPUTS", "1", "a", "ARGS", "1", "5", "OUTPUTS", "1", "o")
	expect(t, c, floatValues([]int64{2}, 5, 10), "AI.TENSORGET", "o", "META", "VALUES")
	expectRunInfo(t, c, scriptRunInfo("keep", "CPU", "orig", -1, 1, 0), "keep")
	expectOK(t, c, scriptStoreArgs("keep", "cpu", "new", []string{"add", "twice"}, src)...)
	expect(t, c, scriptMeta("cpu", "new", []string{"add", "twice"}), "AI.SCRIPTGET", "keep", "META")
	expectRunInfo(t, c, scriptRunInfo("keep", "cpu", "new", 0, 0, 0), "keep")
	expectOK(t, c, "AI.SCRIPTSET", "keep", "CPU", "SOURCE", scLegacySource)
	expect(t, c, scriptFull("CPU", "", nil, scLegacySource), "AI.SCRIPTGET", "keep")
	// TorchScript itself refuses a source without its last newline ("expected newline but found
	// 'eof'"); gorai compiles it, and keeps the source as sent
	expectOK(t, c, "AI.SCRIPTSET", "nonl", "CPU", "SOURCE", "def f(a):\n    return a * 3")
	expect(t, c, resp.BulkString("def f(a):\n    return a * 3"), "AI.SCRIPTGET", "nonl", "SOURCE")
	expectOK(t, c, "AI.SCRIPTRUN", "nonl", "f", "INPUTS", "a", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2}, 3, 6), "AI.TENSORGET", "o", "META", "VALUES")
	// ENTRY_POINTS 0 is accepted
	expectOK(t, c, scriptStoreArgs("zero", "CPU", "", nil, scLegacySource)...)
	expect(t, c, scriptMeta("CPU", "", nil), "AI.SCRIPTGET", "zero", "META")
}

// TestScriptExecuteErrors: SCRIPTEXECUTE's parse errors, and run-time errors
// (unknown function, a failing assert, output count, non-tensor result), which
// are counted by AI.INFO; the server keeps serving.
func TestScriptExecuteErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, scEntryPoints, scEntrySource)...)
	expectOK(t, c, "SET", "str", "v")

	// lookup first, then the grammar
	expectErr(t, c, errScriptExecArity, "AI.SCRIPTEXECUTE", "s")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTEXECUTE", "nokey", "scale", "INPUTS", "1", "a")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTEXECUTE", "nokey", "scale", "FOO")
	expectErr(t, c, errWrongType, "AI.SCRIPTEXECUTE", "str", "scale", "INPUTS", "1", "a")
	expectErr(t, c, errWrongType, "AI.SCRIPTEXECUTE", "a", "scale", "INPUTS", "1", "a")
	for _, tc := range []struct {
		err  string
		args []any
	}{
		{errScriptFirstScope, []any{"scale"}},
		{errScriptFirstScope, []any{"scale", "ARGS", "1", "3", "INPUTS", "1", "a"}},
		{errScriptFirstScope, []any{"scale", "OUTPUTS", "1", "o"}},
		{"ERR Missing arguments after KEYS keyword", []any{"count", "KEYS", "1"}},
		{"ERR Invalid or negative value found in number of KEYS", []any{"count", "KEYS", "0", "k"}},
		{"ERR Invalid or negative value found in number of KEYS", []any{"count", "KEYS", "x", "k"}},
		{"ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments", []any{"count", "KEYS", "3", "k1", "k2"}},
		{"ERR Invalid arguments provided to AI.SCRIPTEXECUTE", []any{"scale", "INPUTS"}},
		{"ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE", []any{"scale", "INPUTS", "x", "a"}},
		{"ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments", []any{"scale", "INPUTS", "2", "a"}},
		{"ERR Invalid argument for keys count in AI.SCRIPTEXECUTE", []any{"scale", "INPUTS", "1", "a", "ARGS", "x", "3"}},
		{"ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments", []any{"scale", "INPUTS", "1", "a", "ARGS", "2", "3"}},
		{"ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE", []any{"scale", "INPUTS", "1", "a", "OUTPUTS", "y", "o"}},
		{"ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments", []any{"scale", "INPUTS", "1", "a", "OUTPUTS", "2", "o"}},
		{"ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command", []any{"scale", "INPUTS", "1", "a", "INPUTS", "1", "a"}},
		{"ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command", []any{"count", "KEYS", "1", "k", "KEYS", "1", "k"}},
		{"ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command", []any{"scale", "INPUTS", "1", "a", "ARGS", "1", "3", "ARGS", "1", "3"}},
		{"ERR Already Encountered OUTPUTS scope in AI.SCRIPTEXECUTE command", []any{"scale", "INPUTS", "1", "a", "OUTPUTS", "1", "o", "OUTPUTS", "1", "o"}},
		{"ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: FOO", []any{"scale", "INPUTS", "1", "a", "FOO"}},
		{"ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE", []any{"scale", "INPUTS", "1", "a", "TIMEOUT"}},
		{"ERR Invalid value for TIMEOUT", []any{"scale", "INPUTS", "1", "a", "TIMEOUT", "x"}},
		{"ERR Encountered problem parsing AI.SCRIPTEXECUTE", []any{"scale", "INPUTS", "1", "a", "TIMEOUT", "10", "OUTPUTS", "1", "o"}},
		{errEmptyKey, []any{"scale", "INPUTS", "1", "nokey", "ARGS", "1", "3", "OUTPUTS", "1", "o"}},
		{errWrongType, []any{"scale", "INPUTS", "1", "str", "ARGS", "1", "3", "OUTPUTS", "1", "o"}},
	} {
		expectErr(t, c, tc.err, append([]any{"AI.SCRIPTEXECUTE", "s"}, tc.args...)...)
	}
	expect(t, c, resp.Int(0), "EXISTS", "o")
	// parse errors are not counted
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 0, 0), "s")

	// run-time errors: an error reply, nothing written, counted
	expectErr(t, c, "Function does not exist: nope", "AI.SCRIPTEXECUTE", "s", "nope", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectErr(t, c, "Function returned unexpected number of outputs - pair", "AI.SCRIPTEXECUTE", "s", "pair", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectErr(t, c, "Function returned unexpected number of outputs - scale", "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "2", "OUTPUTS", "2", "o", "o2")
	expectErrPrefix(t, c, "Function returned non-tensor values", "AI.SCRIPTEXECUTE", "s", "not_tensor", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	// the script raises: assert, a failing int(), an index out of range, a shape mismatch
	expectErrContains(t, c, "the sum is not negative", "AI.SCRIPTEXECUTE", "s", "boom", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "three", "OUTPUTS", "1", "o")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectOK(t, c, "AI.TENSORSET", "three", "FLOAT", "3", "VALUES", "1", "2", "3")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "s", "add", "INPUTS", "2", "a", "three", "OUTPUTS", "1", "o")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "s", "add", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectPing(t, c)
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 9, 9), "s")
	// and it still works; a negative sum passes the assert
	expectOK(t, c, "AI.TENSORSET", "neg", "FLOAT", "2", "VALUES", "-1", "-2")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "boom", "INPUTS", "1", "neg", "OUTPUTS", "1", "o")
	expect(t, c, floatValues([]int64{2}, -1, -2), "AI.TENSORGET", "o", "META", "VALUES")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", -1, 10, 9), "s")
}

// TestScriptGetDel: SCRIPTGET's three layouts and SCRIPTDEL.
func TestScriptGetDel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	eps := []string{"scale", "add"}
	expectOK(t, c, scriptStoreArgs("s", "CPU", "my tag", eps, scEntrySource)...)
	meta := scriptMeta("CPU", "my tag", eps)
	full := scriptFull("CPU", "my tag", eps, scEntrySource)
	expect(t, c, meta, "AI.SCRIPTGET", "s", "META")
	expect(t, c, meta, "AI.SCRIPTGET", "s", "meta")
	expect(t, c, resp.BulkString(scEntrySource), "AI.SCRIPTGET", "s", "SOURCE")
	expect(t, c, resp.BulkString(scEntrySource), "AI.SCRIPTGET", "s", "source")
	expect(t, c, full, "AI.SCRIPTGET", "s")
	expect(t, c, full, "AI.SCRIPTGET", "s", "META", "SOURCE")
	expect(t, c, full, "AI.SCRIPTGET", "s", "SOURCE", "META")
	expect(t, c, full, "AI.SCRIPTGET", "s", "FOO")
	// a SCRIPTSET script: no tag, no entry points
	expectOK(t, c, "AI.SCRIPTSET", "l", "cpu", "SOURCE", scLegacySource)
	expect(t, c, scriptFull("cpu", "", nil, scLegacySource), "AI.SCRIPTGET", "l")
	// binary key, tag and source
	binSrc := "# \xff\xfe comment\ndef f(a):\n    return a\n"
	expectOK(t, c, "AI.SCRIPTSET", "b\x00in", "CPU", "TAG", "t\x00g", "SOURCE", binSrc)
	expect(t, c, scriptFull("CPU", "t\x00g", nil, binSrc), "AI.SCRIPTGET", "b\x00in")

	expectErr(t, c, arityErr("ai.scriptget"), "AI.SCRIPTGET")
	expectErr(t, c, arityErr("ai.scriptget"), "AI.SCRIPTGET", "s", "META", "SOURCE", "X")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTGET", "nokey")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTGET", "nokey", "SOURCE")
	expectOK(t, c, "AI.TENSORSET", "tn", "FLOAT", "1")
	expectErr(t, c, errWrongType, "AI.SCRIPTGET", "tn", "META")

	// SCRIPTDEL
	expectOK(t, c, "AI.SCRIPTDEL", "s")
	expect(t, c, resp.Int(0), "EXISTS", "s")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTGET", "s")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "s")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTDEL", "s")
	expectErr(t, c, errScriptEmpty, "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "tn")
	expectErr(t, c, errWrongType, "AI.SCRIPTDEL", "tn")
	expectErr(t, c, arityErr("ai.scriptdel"), "AI.SCRIPTDEL")
	expectErr(t, c, arityErr("ai.scriptdel"), "AI.SCRIPTDEL", "l", "x")
	expectOK(t, c, "AI.SCRIPTDEL", "b\x00in")
	// DEL and UNLINK work on scripts; FLUSHALL too
	expect(t, c, resp.Int(1), "DEL", "l")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "l")
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, eps, scEntrySource)...)
	expect(t, c, resp.Int(1), "UNLINK", "s")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "s")
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, eps, scEntrySource)...)
	expectOK(t, c, "FLUSHALL")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "s")
	expect(t, c, resp.Arr(), "AI._SCRIPTSCAN")
}

// TestScriptInfo: AI.INFO for a script: type SCRIPT, backend TORCH, samples -1,
// calls and errors counted, RESETSTAT, reset by an overwrite.
func TestScriptInfo(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", "t1", scEntryPoints, scEntrySource)...)
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "t1", 0, 0, 0), "s")
	for i := 0; i < 3; i++ {
		expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "2", "OUTPUTS", "1", "o")
	}
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "t1", -1, 3, 0), "s")
	expectErrContains(t, c, "the sum is not negative", "AI.SCRIPTEXECUTE", "s", "boom", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "t1", -1, 4, 1), "s")
	expectOK(t, c, "AI.INFO", "s", "RESETSTAT")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "t1", 0, 0, 0), "s")
	// SCRIPTRUN counts too
	expectOK(t, c, "AI.SCRIPTSET", "l", "CPU", "TAG", "legacy", "SOURCE", scLegacySource)
	expectRunInfo(t, c, scriptRunInfo("l", "CPU", "legacy", 0, 0, 0), "l")
	expectOK(t, c, "AI.SCRIPTRUN", "l", "two_to_one", "INPUTS", "a", "b", "OUTPUTS", "o")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "l", "one_to_one", "INPUTS", "1", "a", "OUTPUTS", "1", "o")
	expectRunInfo(t, c, scriptRunInfo("l", "CPU", "legacy", -1, 2, 0), "l")
	// an overwrite starts afresh
	expectOK(t, c, "AI.SCRIPTSET", "l", "cpu", "SOURCE", scLegacySource)
	expectRunInfo(t, c, scriptRunInfo("l", "cpu", "", 0, 0, 0), "l")
	// AI.INFO of the tensor and of nothing
	expectErr(t, c, errNoRunInfo, "AI.INFO", "a")
	expectErr(t, c, errNoRunInfo, "AI.INFO", "nokey")
}

// TestScriptScan: AI._SCRIPTSCAN lists [key, tag] of every script (not models).
func TestScriptScan(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expect(t, c, resp.Arr(), "AI._SCRIPTSCAN")
	expectOK(t, c, scriptStoreArgs("s1", "CPU", "a", []string{"scale"}, scEntrySource)...)
	expectOK(t, c, "AI.SCRIPTSET", "s2", "CPU", "SOURCE", scLegacySource)
	expectOK(t, c, "AI.SCRIPTSET", "s\x00bin", "CPU", "TAG", "x\x00y", "SOURCE", scLegacySource)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", iris, "TAG", "model")...)
	scan := func(cmd string) []string {
		v := do(t, c, cmd)
		if v.Kind != resp.Array {
			t.Fatalf("%s: %v", cmd, v)
		}
		var out []string
		for _, e := range v.Elems {
			if e.Kind != resp.Array || len(e.Elems) != 2 || e.Elems[0].Kind != resp.Bulk || e.Elems[1].Kind != resp.Bulk {
				t.Errorf("%s element %v, want [bulk key, bulk tag]", cmd, e)
				continue
			}
			out = append(out, e.Elems[0].Text()+"|"+e.Elems[1].Text())
		}
		sort.Strings(out)
		return out
	}
	check := func(cmd string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := scan(cmd); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
	check("AI._SCRIPTSCAN", "s1|a", "s2|", "s\x00bin|x\x00y")
	check("AI._MODELSCAN", "m|model")
	expectOK(t, c, "AI.SCRIPTDEL", "s1")
	expectOK(t, c, "AI.SCRIPTSET", "s2", "CPU", "TAG", "new", "SOURCE", scLegacySource)
	check("AI._SCRIPTSCAN", "s2|new", "s\x00bin|x\x00y")
	expectErr(t, c, arityErr("ai._scriptscan"), "AI._SCRIPTSCAN", "x")
}

// TestScriptCommandKeys: COMMAND GETKEYS (script, KEYS, INPUTS and OUTPUTS;
// not ARGS) and COMMAND INFO flags.
func TestScriptCommandKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	keys := resp.BulkStrings
	expect(t, c, keys("s", "k1", "k2", "a", "o"), "COMMAND", "GETKEYS", "AI.SCRIPTEXECUTE", "s", "f", "KEYS", "2", "k1", "k2", "INPUTS", "1", "a", "ARGS", "2", "x", "y", "OUTPUTS", "1", "o", "TIMEOUT", "5")
	expect(t, c, keys("s", "a", "b", "o", "k"), "COMMAND", "GETKEYS", "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", "2", "a", "b", "ARGS", "1", "x", "OUTPUTS", "1", "o", "KEYS", "1", "k")
	expect(t, c, keys("s", "k"), "COMMAND", "GETKEYS", "AI.SCRIPTEXECUTE", "s", "f", "KEYS", "1", "k")
	expect(t, c, keys("s", "a", "b", "o"), "COMMAND", "GETKEYS", "AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "b", "OUTPUTS", "o")
	expect(t, c, keys("s", "a", "b", "c", "o"), "COMMAND", "GETKEYS", "AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "$", "b", "c", "OUTPUTS", "o")
	for _, cmd := range [][]any{
		scriptStoreArgs("s", "CPU", nil, []string{"f"}, "x"),
		{"AI.SCRIPTSET", "s", "CPU", "SOURCE", "x"},
		{"AI.SCRIPTGET", "s", "META"},
		{"AI.SCRIPTDEL", "s"},
	} {
		expect(t, c, keys("s"), append([]any{"COMMAND", "GETKEYS"}, cmd...)...)
	}
	names := []string{"ai.scriptexecute", "ai.scriptrun", "ai.scriptstore", "ai.scriptset", "ai.scriptget", "ai.scriptdel", "ai._scriptscan"}
	args := []any{"COMMAND", "INFO"}
	for _, n := range names {
		args = append(args, n)
	}
	got := do(t, c, args...)
	want := map[string][2][]string{
		"ai.scriptexecute": {{"write", "denyoom", "movablekeys"}, {"readonly"}},
		"ai.scriptrun":     {{"write", "denyoom", "movablekeys"}, {"readonly"}},
		"ai.scriptstore":   {{"write", "denyoom"}, {"readonly"}},
		"ai.scriptset":     {{"write", "denyoom"}, {"readonly"}},
		"ai.scriptget":     {{"readonly"}, {"write"}},
		"ai.scriptdel":     {{"write"}, {"readonly"}},
		"ai._scriptscan":   {{"readonly"}, {"write"}},
	}
	if got.Kind != resp.Array || len(got.Elems) != len(names) {
		t.Fatalf("COMMAND INFO: %v", got)
	}
	for i, n := range names {
		e := got.Elems[i]
		if e.Kind != resp.Array || len(e.Elems) < 3 || e.Elems[0].Text() != n {
			t.Errorf("COMMAND INFO %s: %v", n, e)
			continue
		}
		flags := map[string]bool{}
		for _, f := range e.Elems[2].Elems {
			flags[f.Text()] = true
		}
		for _, f := range want[n][0] {
			if !flags[f] {
				t.Errorf("%s flags %v lack %q", n, e.Elems[2], f)
			}
		}
		for _, f := range want[n][1] {
			if flags[f] {
				t.Errorf("%s flags %v must not have %q", n, e.Elems[2], f)
			}
		}
	}
}

// TestScriptTransactionsAndLua: SCRIPTEXECUTE and SCRIPTRUN are refused in
// MULTI and Lua; the other script commands work there.
func TestScriptTransactionsAndLua(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, scEntryPoints, scEntrySource)...)
	expectOK(t, c, "AI.SCRIPTSET", "l", "CPU", "SOURCE", scLegacySource)

	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "2", "OUTPUTS", "1", "o")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "OUTPUTS", "o")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTGET", "l", "META")
	expect(t, c, resp.Arr(resp.Err(errInTransaction), resp.Err(errInTransaction), scriptMeta("CPU", "", nil)), "EXEC")
	expect(t, c, resp.Int(0), "EXISTS", "o")

	expectErr(t, c, errInTransaction, "EVAL", "return redis.pcall('AI.SCRIPTEXECUTE', KEYS[1], 'scale', 'INPUTS', '1', KEYS[2], 'ARGS', '1', '2', 'OUTPUTS', '1', KEYS[3])", "3", "s", "a", "o")
	expectErr(t, c, errInTransaction, "EVAL", "return redis.pcall('AI.SCRIPTRUN', KEYS[1], 'one_to_one', 'INPUTS', KEYS[2], 'OUTPUTS', KEYS[3])", "3", "l", "a", "o")
	expectErrPrefix(t, c, errInTransaction, "EVAL", "return redis.call('AI.SCRIPTRUN', KEYS[1], 'one_to_one', 'INPUTS', KEYS[2], 'OUTPUTS', KEYS[3])", "3", "l", "a", "o")
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 0, 0), "s")

	// store, get and delete work in both
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTSET", "m", "CPU", "SOURCE", scLegacySource)
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTGET", "m", "SOURCE")
	expect(t, c, resp.Simple("QUEUED"), "AI.SCRIPTDEL", "l")
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.BulkString(scLegacySource), resp.Simple("OK")), "EXEC")
	expectOK(t, c, "EVAL", "return redis.call('AI.SCRIPTSET', KEYS[1], 'CPU', 'SOURCE', ARGV[1])", "1", "l", scLegacySource)
	expect(t, c, resp.BulkString(scLegacySource), "EVAL", "return redis.call('AI.SCRIPTGET', KEYS[1], 'SOURCE')", "1", "l")
	// and the scripts run normally afterwards
	expectOK(t, c, "AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "OUTPUTS", "o")
	expect(t, c, floatValues([]int64{2, 2}, 2, 4, 6, 8), "AI.TENSORGET", "o", "META", "VALUES")
}

// ---------------------------------------------------------------------------
// persistence and replication

// storedScript is a script with what is needed to check it and run it.
type storedScript struct {
	key, device, tag string
	entryPoints      []string // nil: stored with AI.SCRIPTSET
	source           string
}

func (s storedScript) store(t *testing.T, c *resp.Conn) {
	t.Helper()
	var args []any
	if s.entryPoints == nil {
		args = []any{"AI.SCRIPTSET", s.key, s.device, "TAG", s.tag, "SOURCE", s.source}
	} else {
		args = scriptStoreArgs(s.key, s.device, s.tag, s.entryPoints, s.source)
	}
	if !expectOK(t, c, args...) {
		t.FailNow()
	}
}

func (s storedScript) check(t *testing.T, c *resp.Conn, context string) bool {
	t.Helper()
	want := scriptFull(s.device, s.tag, s.entryPoints, s.source)
	if got := do(t, c, "AI.SCRIPTGET", s.key); !resp.Equal(got, want) {
		t.Errorf("%s: AI.SCRIPTGET %q\n   got: %v\n  want: %v", context, s.key, got, want)
		return false
	}
	return true
}

// run runs the script on key:in (FLOAT [2] 1 2) into key:out and checks it: scale by 3 for a
// SCRIPTSTORE script, one_to_one (x2) for a SCRIPTSET one.
func (s storedScript) run(t *testing.T, c *resp.Conn, context string) bool {
	t.Helper()
	in, out := s.key+":in", s.key+":out"
	expectOK(t, c, "AI.TENSORSET", in, "FLOAT", "2", "VALUES", "1", "2")
	if s.entryPoints == nil {
		expectOK(t, c, "AI.SCRIPTRUN", s.key, "one_to_one", "INPUTS", in, "OUTPUTS", out)
		return s.checkOutput(t, c, out, context)
	}
	expectOK(t, c, "AI.SCRIPTEXECUTE", s.key, "scale", "INPUTS", "1", in, "ARGS", "1", "3", "OUTPUTS", "1", out)
	return s.checkOutput(t, c, out, context)
}

func (s storedScript) checkOutput(t *testing.T, c *resp.Conn, out, context string) bool {
	t.Helper()
	want := floatValues([]int64{2}, 2, 4)
	if s.entryPoints != nil {
		want = floatValues([]int64{2}, 3, 6)
	}
	if got := do(t, c, "AI.TENSORGET", out, "META", "VALUES"); !resp.Equal(got, want) {
		t.Errorf("%s: output of %q: got %v, want %v", context, s.key, got, want)
		return false
	}
	return true
}

func persistenceScripts() []storedScript {
	return []storedScript{
		{key: "ps:store", device: "CPU", tag: "t1", entryPoints: []string{"scale", "add", "count"}, source: scEntrySource},
		{key: "ps:notag", device: "cpu", tag: "", entryPoints: []string{"scale"}, source: scEntrySource},
		{key: "ps:set", device: "CPU", tag: "t2", source: scLegacySource},
		{key: "ps:nested\x00bin", device: "CPU", tag: "", source: scNestedSource},
	}
}

func checkScripts(t *testing.T, c *resp.Conn, ss []storedScript, context string) {
	t.Helper()
	for _, s := range ss {
		s.check(t, c, context)
		s.checkOutput(t, c, s.key+":out", context)
		// statistics are not persisted
		expectRunInfo(t, c, scriptRunInfo(s.key, s.device, s.tag, 0, 0, 0), s.key)
		s.run(t, c, context)
	}
	var want []string
	for _, s := range ss {
		want = append(want, s.key)
	}
	sort.Strings(want)
	v := do(t, c, "AI._SCRIPTSCAN")
	var got []string
	for _, e := range v.Elems {
		if len(e.Elems) == 2 {
			got = append(got, e.Elems[0].Text())
		}
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: AI._SCRIPTSCAN keys %q, want %q", context, got, want)
	}
}

func storeAndRunScripts(t *testing.T, c *resp.Conn, ss []storedScript) {
	t.Helper()
	for _, s := range ss {
		s.store(t, c)
		s.run(t, c, "before saving")
	}
}

// TestScriptPersistenceBGSAVE: scripts (SCRIPTSTORE and SCRIPTSET, binary key)
// survive BGSAVE + restart with their source, tag, device and entry points.
func TestScriptPersistenceBGSAVE(t *testing.T) {
	t.Parallel()
	ss := persistenceScripts()
	s := startServer(t)
	c := s.Conn(t)
	storeAndRunScripts(t, c, ss)
	expect(t, c, resp.Simple("Background saving started"), "BGSAVE")
	waitBgsave(t, c)
	expectOK(t, c, "AI.SCRIPTSET", "after-save", "CPU", "SOURCE", scLegacySource)
	c = restart(t, s)
	checkScripts(t, c, ss, "after BGSAVE + restart")
	expect(t, c, resp.Int(0), "EXISTS", "after-save")
	expect(t, c, resp.Simple("AI_SCRIPT"), "TYPE", ss[0].key)
	expectOK(t, c, "SAVE")
	c = restart(t, s)
	checkScripts(t, c, ss, "after SAVE of the reloaded data + restart")
}

// TestScriptPersistenceAOF: appendonly + BGREWRITEAOF + restart. Without the RDB
// preamble the rewritten AOF holds AI.SCRIPTSTORE key device TAG t ENTRY_POINTS
// n eps... SOURCE src, and AI.SCRIPTSET key device TAG t SOURCE src for a
// script without entry points (which SCRIPTSTORE would refuse on replay); in the
// incremental AOF a SCRIPTEXECUTE appears only as AI.TENSORSET of its outputs.
func TestScriptPersistenceAOF(t *testing.T) {
	t.Parallel()
	ss := persistenceScripts()
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble="+preamble, func(t *testing.T) {
			s := startServer(t, "appendonly yes", "appendfsync always", "aof-use-rdb-preamble "+preamble)
			c := s.Conn(t)
			storeAndRunScripts(t, c, ss)
			expectOK(t, c, "AI.SCRIPTSET", "gone", "CPU", "SOURCE", scLegacySource)
			expectOK(t, c, "AI.SCRIPTDEL", "gone")
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)

			if preamble == "no" {
				byKey := map[string][]string{}
				for _, cmd := range baseAOF(t, s) {
					name := strings.ToUpper(cmd[0])
					if len(cmd) > 1 && (name == "AI.SCRIPTSTORE" || name == "AI.SCRIPTSET") {
						if _, dup := byKey[cmd[1]]; dup {
							t.Errorf("base AOF has two script commands for %q", cmd[1])
						}
						byKey[cmd[1]] = cmd
					}
				}
				if len(byKey) != len(ss) {
					t.Errorf("base AOF has script commands for %d keys, want %d", len(byKey), len(ss))
				}
				for _, sc := range ss {
					var want []string
					if sc.entryPoints == nil {
						want = []string{"AI.SCRIPTSET", sc.key, sc.device, "TAG", sc.tag, "SOURCE", sc.source}
					} else {
						want = []string{"AI.SCRIPTSTORE", sc.key, sc.device, "TAG", sc.tag, "ENTRY_POINTS", strconv.Itoa(len(sc.entryPoints))}
						want = append(append(want, sc.entryPoints...), "SOURCE", sc.source)
					}
					got := byKey[sc.key]
					if got == nil {
						t.Errorf("base AOF has no script command for %q", sc.key)
						continue
					}
					got = append([]string{strings.ToUpper(got[0])}, got[1:]...)
					if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
						t.Errorf("base AOF command for %q:\n   got: %s\n  want: %s", sc.key, fmtStrings(got), fmtStrings(want))
					}
				}
			}

			// after the rewrite: a new script, an overwrite, a delete and a run
			extra := storedScript{key: "ps:extra", device: "CPU", tag: "x", entryPoints: []string{"scale"}, source: scEntrySource}
			extra.store(t, c)
			extra.run(t, c, "after the rewrite")
			over := ss[2]
			over.tag = "overwritten"
			over.store(t, c)
			expectOK(t, c, "AI.SCRIPTDEL", ss[1].key)
			expectOK(t, c, "AI.TENSORSET", "incr:in", "FLOAT", "2", "VALUES", "1", "2")
			expectOK(t, c, "AI.SCRIPTEXECUTE", extra.key, "scale", "INPUTS", "1", "incr:in", "ARGS", "1", "3", "OUTPUTS", "1", "incr:out")

			incrs, _ := filepath.Glob(filepath.Join(s.Dir(), "appendonlydir", "*.incr.aof"))
			var sawSet, sawStore, sawDel bool
			for _, p := range incrs {
				for _, cmd := range parseAOF(t, p) {
					name := strings.ToUpper(cmd[0])
					switch {
					case name == "AI.SCRIPTEXECUTE" || name == "AI.SCRIPTRUN":
						t.Errorf("incremental AOF holds %s (outputs must be written as AI.TENSORSET)", fmtStrings(cmd))
					case name == "AI.TENSORSET" && len(cmd) > 1 && cmd[1] == "incr:out":
						sawSet = true
						want := []string{"AI.TENSORSET", "incr:out", "FLOAT", "2", "BLOB", string(f32s(3, 6))}
						if strings.Join(append([]string{name}, cmd[1:]...), "\x01") != strings.Join(want, "\x01") {
							t.Errorf("incremental AOF: %s, want %s", fmtStrings(cmd), fmtStrings(want))
						}
					case name == "AI.SCRIPTSTORE" && len(cmd) > 1 && cmd[1] == extra.key:
						sawStore = true
					case name == "AI.SCRIPTDEL" && len(cmd) > 1 && cmd[1] == ss[1].key:
						sawDel = true
					}
				}
			}
			if !sawSet || !sawStore || !sawDel {
				t.Errorf("incremental AOF: AI.TENSORSET incr:out %v, AI.SCRIPTSTORE %s %v, AI.SCRIPTDEL %v", sawSet, extra.key, sawStore, sawDel)
			}

			want := []storedScript{ss[0], over, ss[3], extra}
			c = restart(t, s)
			checkScripts(t, c, want, "after AOF rewrite + restart")
			expect(t, c, resp.Int(0), "EXISTS", ss[1].key)
			expect(t, c, resp.Int(0), "EXISTS", "gone")
			expect(t, c, floatValues([]int64{2}, 3, 6), "AI.TENSORGET", "incr:out", "META", "VALUES")

			// rewrite the reloaded data once more
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			c = restart(t, s)
			checkScripts(t, c, want, "after a second AOF rewrite + restart")
		})
	}
}

// TestScriptDebugReloadDumpRestore: DEBUG RELOAD keeps scripts; DUMP/RESTORE
// copies one under a new name.
func TestScriptDebugReloadDumpRestore(t *testing.T) {
	t.Parallel()
	ss := persistenceScripts()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	storeAndRunScripts(t, c, ss)
	expectOK(t, c, "DEBUG", "RELOAD")
	checkScripts(t, c, ss, "after DEBUG RELOAD")
	expectOK(t, c, "DEBUG", "RELOAD")
	checkScripts(t, c, ss, "after a second DEBUG RELOAD")

	for _, sc := range ss {
		d := do(t, c, "DUMP", sc.key)
		if d.Kind != resp.Bulk || d.Nil {
			t.Errorf("DUMP %q: %v", sc.key, d)
			continue
		}
		cp := sc
		cp.key = sc.key + ":restored"
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str)
		cp.check(t, c, "RESTORE of DUMP")
		expectRunInfo(t, c, scriptRunInfo(cp.key, cp.device, cp.tag, 0, 0, 0), cp.key)
		cp.run(t, c, "restored script")
		expectErrPrefix(t, c, "BUSYKEY", "RESTORE", cp.key, "0", d.Str)
		expectOK(t, c, "SET", cp.key, "string")
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str, "REPLACE")
		cp.check(t, c, "RESTORE REPLACE over a string")
		sc.check(t, c, "DUMP source")
	}
}

// waitReplicaSynced waits for the replica's offset to reach the master's.
func waitReplicaSynced(t *testing.T, mc, rc *resp.Conn) {
	t.Helper()
	waitFor(t, 60*time.Second, "replica offset to reach the master's", func() (bool, string) {
		mo := info(t, mc, "replication")["master_repl_offset"]
		ro := info(t, rc, "replication")["slave_repl_offset"]
		return mo != "" && mo == ro, "master_repl_offset=" + mo + " slave_repl_offset=" + ro
	})
}

func startReplica(t *testing.T, masterPort int, config ...string) *resp.Conn {
	t.Helper()
	r := startServer(t, append([]string{"replicaof 127.0.0.1 " + strconv.Itoa(masterPort)}, config...)...)
	rc := r.Conn(t)
	waitFor(t, 60*time.Second, "replica link up", func() (bool, string) {
		ri := info(t, rc, "replication")
		return ri["master_link_status"] == "up" && ri["master_sync_in_progress"] == "0",
			"master_link_status=" + ri["master_link_status"] + " sync_in_progress=" + ri["master_sync_in_progress"]
	})
	return rc
}

// TestScriptCallsInScriptMode: a script's redis.execute runs in Redis' script mode, as Lua's calls do:
// WAIT, SYNC and PSYNC, which block the call's client (Redis aborted on its assertion), and SHUTDOWN are
// refused, and the server answers on; on a read-only replica, a read-only DAG's AI.SCRIPTRUN whose
// script writes is refused, as the replica refuses the write itself (it was made there, and the
// replica's data left its master's).
func TestScriptCallsInScriptMode(t *testing.T) {
	t.Parallel()
	const run = "def run(tensors: List[Tensor], keys: List[str], args: List[str]):\n    redis.execute(args[0], args[1:])\n    return tensors[0]\n"
	const incr = "def incr(a):\n    redis.execute(\"INCR\", \"counter\")\n    return a\n"
	m := startServer(t)
	mc := m.Conn(t)
	expectOK(t, mc, scriptStoreArgs("s", "CPU", nil, []string{"run"}, run)...)
	expectOK(t, mc, "AI.SCRIPTSET", "legacy", "CPU", "SOURCE", incr)
	expectOK(t, mc, "AI.TENSORSET", "in", "FLOAT", 1, "VALUES", 1)
	for _, args := range [][]any{{"WAIT", 1, 0}, {"SYNC"}, {"PSYNC", "?", -1}, {"SHUTDOWN", "NOSAVE"}} {
		cmd := append([]any{"AI.SCRIPTEXECUTE", "s", "run", "INPUTS", 1, "in", "ARGS", len(args)}, args...)
		expectErrContains(t, mc, "This Redis command is not allowed from script", append(cmd, "OUTPUTS", 1, "o")...)
		expectPing(t, mc)
	}
	expectOK(t, mc, "AI.SCRIPTEXECUTE", "s", "run", "INPUTS", 1, "in", "ARGS", 3, "SET", "k", "v", "OUTPUTS", 1, "o")
	expect(t, mc, resp.BulkString("v"), "GET", "k")
	// Beyond maxmemory a deny-oom call is refused, as Lua's redis.call is: a read-only DAG (not deny-oom
	// itself) reached the script, whose INCR wrote.
	expectOK(t, mc, "CONFIG", "SET", "maxmemory", "1")
	dag := do(t, mc, "AI.DAGRUN_RO", "LOAD", 1, "in", "|>", "AI.SCRIPTRUN", "legacy", "incr", "INPUTS", "in", "OUTPUTS", "o")
	expectOK(t, mc, "CONFIG", "SET", "maxmemory", "0")
	if len(dag.Elems) != 1 || !strings.Contains(dag.Elems[0].Text(), errRedisCommand+": OOM command not allowed when used memory > 'maxmemory'") {
		t.Errorf("a read-only DAG's script writing beyond maxmemory: %v, want its op's OOM refusal", dag)
	}
	expect(t, mc, resp.Int(0), "EXISTS", "counter")

	rc := startReplica(t, m.Port())
	waitReplicaSynced(t, mc, rc)
	dag = do(t, rc, "AI.DAGRUN_RO", "LOAD", 1, "in", "|>", "AI.SCRIPTRUN", "legacy", "incr", "INPUTS", "in", "OUTPUTS", "o")
	if len(dag.Elems) != 1 || !strings.Contains(dag.Elems[0].Text(), "or is a write Redis refuses now") {
		t.Errorf("a read-only DAG's script writing on a read-only replica: %v, want its op's refusal", dag)
	}
	expect(t, rc, resp.Int(0), "EXISTS", "counter")
	expect(t, rc, do(t, mc, "DEBUG", "DIGEST"), "DEBUG", "DIGEST")
}

// TestScriptReplication: a replica gets the scripts (stored before and after it
// connected), a SCRIPTEXECUTE on the master reaches it as its output tensors
// (the replica's AI.INFO counts no run), SCRIPTDEL reaches it, and it runs its
// copies itself with replica-read-only no.
func TestScriptReplication(t *testing.T) {
	t.Parallel()
	ss := persistenceScripts()
	m := startServer(t)
	mc := m.Conn(t)
	storeAndRunScripts(t, mc, ss[:2])
	rc := startReplica(t, m.Port(), "replica-read-only no")

	for _, sc := range ss[2:] {
		sc.store(t, mc)
	}
	expectOK(t, mc, "AI.SCRIPTSET", "r:deleted", "CPU", "SOURCE", scLegacySource)
	expectOK(t, mc, "AI.SCRIPTDEL", "r:deleted")
	for _, sc := range ss {
		sc.run(t, mc, "on the master")
	}
	over := ss[0]
	over.tag = "new tag"
	over.entryPoints = []string{"scale", "twice"}
	over.store(t, mc)
	waitReplicaSynced(t, mc, rc)

	want := []storedScript{over, ss[1], ss[2], ss[3]}
	for _, sc := range want {
		sc.check(t, rc, "on the replica")
		for _, k := range []string{sc.key + ":in", sc.key + ":out"} {
			expect(t, rc, do(t, mc, "AI.TENSORGET", k, "META", "BLOB"), "AI.TENSORGET", k, "META", "BLOB")
		}
		expectRunInfo(t, rc, scriptRunInfo(sc.key, sc.device, sc.tag, 0, 0, 0), sc.key)
	}
	expect(t, rc, resp.Int(0), "EXISTS", "r:deleted")
	expect(t, rc, do(t, mc, "DBSIZE"), "DBSIZE")

	// the replica runs its copies itself
	for _, sc := range want {
		in, out := "local:"+sc.key+":in", "local:"+sc.key+":out"
		expectOK(t, rc, "AI.TENSORSET", in, "FLOAT", "2", "VALUES", "1", "2")
		if sc.entryPoints == nil {
			expectOK(t, rc, "AI.SCRIPTRUN", sc.key, "one_to_one", "INPUTS", in, "OUTPUTS", out)
		} else {
			expectOK(t, rc, "AI.SCRIPTEXECUTE", sc.key, "scale", "INPUTS", "1", in, "ARGS", "1", "3", "OUTPUTS", "1", out)
		}
		sc.checkOutput(t, rc, out, "run on the replica")
		expectRunInfo(t, rc, scriptRunInfo(sc.key, sc.device, sc.tag, -1, 1, 0), sc.key)
	}

	expectOK(t, mc, "AI.SCRIPTDEL", ss[1].key)
	waitReplicaSynced(t, mc, rc)
	expectErr(t, rc, errScriptEmpty, "AI.SCRIPTGET", ss[1].key)
	expectErr(t, rc, errNoRunInfo, "AI.INFO", ss[1].key)

	// a read-only replica refuses SCRIPTEXECUTE and SCRIPTSTORE, serves SCRIPTGET
	expectOK(t, rc, "CONFIG", "SET", "replica-read-only", "yes")
	expectErrPrefix(t, rc, "READONLY ", "AI.SCRIPTEXECUTE", over.key, "scale", "INPUTS", "1", "local:"+over.key+":in", "ARGS", "1", "3", "OUTPUTS", "1", "x")
	expectErrPrefix(t, rc, "READONLY ", "AI.SCRIPTSET", "x", "CPU", "SOURCE", scLegacySource)
	over.check(t, rc, "read-only replica")
}

// ---------------------------------------------------------------------------
// the Redis torch extension

func storeExtScript(t *testing.T, c *resp.Conn) {
	t.Helper()
	if !expectOK(t, c, scriptStoreArgs("ext", "CPU", nil, scExtEntryPoints, scExtSource)...) {
		t.FailNow()
	}
}

// TestScriptRedisExecute: redis.execute and redis.asList from a script: writes
// land in the keyspace, replies come back typed (str, int, None, lists), and an
// error reply raises "Redis command returned an error: ...".
func TestScriptRedisExecute(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	storeExtScript(t, c)

	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "set_key", "KEYS", "1", "k", "ARGS", "1", "v")
	expect(t, c, resp.BulkString("v"), "GET", "k")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "set_key_list", "KEYS", "1", "k2", "ARGS", "1", "value 2")
	expect(t, c, resp.BulkString("value 2"), "GET", "k2")
	// binary key and value
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "set_key", "KEYS", "1", "b\x00k", "ARGS", "1", "x\x00y")
	expect(t, c, resp.BulkString("x\x00y"), "GET", "b\x00k")

	// GET read back inside the script
	b := resp.BulkString
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "set_get", "KEYS", "1", "f", "ARGS", "1", "2.5", "OUTPUTS", "1", "y")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(), b("values"), resp.BulkStrings("2.5")), "AI.TENSORGET", "y", "META", "VALUES")
	expect(t, c, resp.BulkString("2.5"), "GET", "f")
	// an integer reply
	expectOK(t, c, "SET", "counter", "41")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "incr", "KEYS", "1", "counter", "OUTPUTS", "1", "y")
	expect(t, c, intValues([]int64{}, 42), "AI.TENSORGET", "y", "META", "VALUES")
	expect(t, c, resp.BulkString("42"), "GET", "counter")
	// a nil reply is None (TorchScript folds "x is None" on an Any to False, so the script compares str)
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "get_none", "KEYS", "1", "missing", "OUTPUTS", "1", "y")
	expect(t, c, intValues([]int64{}, 1), "AI.TENSORGET", "y", "META", "VALUES")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "get_none", "KEYS", "1", "k", "OUTPUTS", "1", "y")
	expect(t, c, intValues([]int64{}, 0), "AI.TENSORGET", "y", "META", "VALUES")
	// an array reply through redis.asList
	expect(t, c, resp.Int(1), "RPUSH", "list", "7")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "lrange", "KEYS", "1", "list", "ARGS", "2", "8", "-9", "OUTPUTS", "1", "y")
	expect(t, c, intValues([]int64{3, 1}, 7, 8, -9), "AI.TENSORGET", "y", "META", "VALUES")
	expect(t, c, resp.BulkStrings("7", "8", "-9"), "LRANGE", "list", "0", "-1")
	// a value read from the keyspace drives the computation
	expectOK(t, c, "SET", "factor", "0.5")
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", "2", "VALUES", "4", "10")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "scaled_by_key", "KEYS", "1", "factor", "INPUTS", "1", "a", "OUTPUTS", "1", "y")
	expect(t, c, floatValues([]int64{2}, 2, 5), "AI.TENSORGET", "y", "META", "VALUES")

	// errors: the command's error reply, and a call Redis refuses (wrong arity)
	expectOK(t, c, "SET", "str", "v")
	expectErrContains(t, c, errRedisCommand+": WRONGTYPE Operation against a key holding the wrong kind of value",
		"AI.SCRIPTEXECUTE", "ext", "wrong_type", "KEYS", "1", "str")
	expectErrContains(t, c, errRedisCommand, "AI.SCRIPTEXECUTE", "ext", "bad_arity", "KEYS", "1", "k3")
	expect(t, c, resp.Int(0), "EXISTS", "k3")
	expect(t, c, resp.BulkString("v"), "GET", "str")
	expectRunInfo(t, c, scriptRunInfo("ext", "CPU", "", -1, 11, 2), "ext")
	expectPing(t, c)
}

// TestScriptCallsInSelectedDB: a script's redis.execute and redisAI.model_execute run in the database
// its client selected, where its inputs, outputs and KEYS are (they ran in db 0, as RedisAI's: INCR
// wrote db 0's key and the model stored in db 3 was not found).
func TestScriptCallsInSelectedDB(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "SELECT", 3)
	storeExtScript(t, c)
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"))...)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "incr", "KEYS", 1, "n", "OUTPUTS", 1, "count")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "model_one", "KEYS", 1, "iris", "INPUTS", 1, "in", "OUTPUTS", 1, "y")
	expect(t, c, resp.BulkString("1"), "GET", "n")
	expect(t, c, resp.BulkBytes(f32s(-0.090524077415466309)), "AI.TENSORGET", "y", "BLOB")
	expectOK(t, c, "SELECT", 0)
	expect(t, c, resp.Int(0), "EXISTS", "n")
}

// TestScriptModelExecute: redisAI.model_execute runs an ONNX and a TORCH model
// stored in the server from inside a script; a missing model and a model error
// surface as the script's error.
func TestScriptModelExecute(t *testing.T) {
	t.Parallel()
	iris := redisaiFixture(t, "linear_iris.onnx")
	exp := torchExpected(t)
	two := fixtureModel(t, exp, "two_inputs", "two")
	s := startServer(t)
	c := s.Conn(t)
	storeExtScript(t, c)
	expectOK(t, c, storeArgs("iris", "ONNX", "CPU", iris)...)
	two.store(t, c)

	// ONNX: linear_iris on [[5.1,3.5,1.4,0.2]] is float32 -0.090524077415466309
	b := resp.BulkString
	irisOut := float32(-0.090524077415466309)
	expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "model_one", "KEYS", "1", "iris", "INPUTS", "1", "in", "OUTPUTS", "1", "y")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 1), b("blob"), resp.BulkBytes(f32s(irisOut))), "AI.TENSORGET", "y", "META", "BLOB")
	// a tensor made in the script, the model's output used further
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "model_const", "KEYS", "1", "iris", "OUTPUTS", "1", "y2")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 1), b("blob"), resp.BulkBytes(f32s(irisOut*2))), "AI.TENSORGET", "y2", "META", "BLOB")

	// TORCH: two inputs
	expectOK(t, c, two.inputs[0].setArgs("ta")...)
	expectOK(t, c, two.inputs[1].setArgs("tb")...)
	expectOK(t, c, "AI.SCRIPTEXECUTE", "ext", "model_two", "KEYS", "1", "two", "INPUTS", "2", "ta", "tb", "OUTPUTS", "1", "ty")
	checkTorchTensor(t, c, "ty", two.outputs[0], 1e-6, "TORCH model run from a script")

	// errors
	expectErrContains(t, c, "model key is empty", "AI.SCRIPTEXECUTE", "ext", "model_one", "KEYS", "1", "nomodel", "INPUTS", "1", "in", "OUTPUTS", "1", "e")
	// an input with a dim of 0, which no tensor of gorai's has (it said "tensor is too large")
	expectErrContains(t, c, "redisAI.model_execute input 0: tensor is empty", "AI.SCRIPTEXECUTE", "ext", "model_empty", "KEYS", "1", "iris", "INPUTS", "1", "in", "OUTPUTS", "1", "e")
	expectOK(t, c, "AI.TENSORSET", "flat", "FLOAT", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
	expectErrContains(t, c, "Invalid rank for input", "AI.SCRIPTEXECUTE", "ext", "model_one", "KEYS", "1", "iris", "INPUTS", "1", "flat", "OUTPUTS", "1", "e")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "ext", "model_two", "KEYS", "1", "two", "INPUTS", "2", "ta", "flat", "OUTPUTS", "1", "e")
	expectOK(t, c, "SET", "str", "v")
	expectErrContains(t, c, "", "AI.SCRIPTEXECUTE", "ext", "model_one", "KEYS", "1", "str", "INPUTS", "1", "in", "OUTPUTS", "1", "e")
	expect(t, c, resp.Int(0), "EXISTS", "e")
	expectPing(t, c)
	// the models still work directly
	expectOK(t, c, execArgs("iris", []string{"in"}, []string{"direct"})...)
	expect(t, c, resp.BulkBytes(f32s(irisOut)), "AI.TENSORGET", "direct", "BLOB")
}

// TestScriptRedisExecutePropagation: what a script writes through
// redis.execute reaches a replica and the AOF (so a restart keeps it), next to
// the script's outputs as AI.TENSORSET.
func TestScriptRedisExecutePropagation(t *testing.T) {
	t.Parallel()
	m := startServer(t, "appendonly yes", "appendfsync always")
	mc := m.Conn(t)
	storeExtScript(t, mc)
	rc := startReplica(t, m.Port())
	expectOK(t, mc, "AI.SCRIPTEXECUTE", "ext", "set_key", "KEYS", "1", "k", "ARGS", "1", "v")
	expectOK(t, mc, "AI.SCRIPTEXECUTE", "ext", "lrange", "KEYS", "1", "list", "ARGS", "2", "1", "2", "OUTPUTS", "1", "y")
	expectOK(t, mc, "AI.SCRIPTEXECUTE", "ext", "set_get", "KEYS", "1", "f", "ARGS", "1", "1.5", "OUTPUTS", "1", "y2")
	waitReplicaSynced(t, mc, rc)
	for _, cmd := range [][]any{
		{"GET", "k"}, {"LRANGE", "list", "0", "-1"}, {"GET", "f"},
		{"AI.TENSORGET", "y", "META", "BLOB"}, {"AI.TENSORGET", "y2", "META", "BLOB"},
	} {
		want := do(t, mc, cmd...)
		if want.Kind == resp.Error || want.Nil {
			t.Errorf("on the master: %s = %v", fmtArgs(cmd), want)
		}
		expect(t, rc, want, cmd...)
	}
	expect(t, rc, resp.BulkString("v"), "GET", "k")
	expect(t, rc, do(t, mc, "DBSIZE"), "DBSIZE")
	expectRunInfo(t, rc, scriptRunInfo("ext", "CPU", "", 0, 0, 0), "ext")

	incrs, _ := filepath.Glob(filepath.Join(m.Dir(), "appendonlydir", "*.incr.aof"))
	var sawSet bool
	for _, p := range incrs {
		for _, cmd := range parseAOF(t, p) {
			name := strings.ToUpper(cmd[0])
			if name == "AI.SCRIPTEXECUTE" {
				t.Errorf("AOF holds %s", fmtStrings(cmd))
			}
			if name == "SET" && len(cmd) == 3 && cmd[1] == "k" && cmd[2] == "v" {
				sawSet = true
			}
		}
	}
	if !sawSet {
		t.Errorf("the AOF has no SET k v from the script")
	}
	mc = restart(t, m)
	expect(t, mc, resp.BulkString("v"), "GET", "k")
	expect(t, mc, resp.BulkStrings("1", "2"), "LRANGE", "list", "0", "-1")
	expect(t, mc, intValues([]int64{2, 1}, 1, 2), "AI.TENSORGET", "y", "META", "VALUES")
}

// A script nested deeper than TorchScript's recursive parser has stack for (20,000 parentheses) is compiled
// first in the trial program's child (backends/trial.go), which it crashes: AI.SCRIPTSTORE and AI.SCRIPTSET
// refuse it, and the server lives. 5,000 deep compiles.
func TestScriptTooDeep(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	nested := func(depth int) string {
		return "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return " +
			strings.Repeat("(", depth) + "tensors[0]" + strings.Repeat(")", depth) + "\n"
	}
	const crashed = "ERR TORCH script crashed the runtime (segmentation fault) when tried in a process of its own"
	expectErr(t, c, crashed, scriptStoreArgs("s", "CPU", "", []string{"f"}, nested(20000))...)
	expectErr(t, c, crashed, "AI.SCRIPTSET", "s", "CPU", "SOURCE", nested(20000))
	expectPing(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", "", []string{"f"}, nested(5000))...)
}

// A script that calls torch.from_file, which maps a file of the server into a tensor (and writes the tensor
// back with shared=True), is refused: it read /etc/passwd on the build before.
func TestScriptFromFileRefused(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	src := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.from_file(args[0], False, 2)\n"
	const refused = "ERR TORCH script uses torch.from_file, which reaches files outside the model: it cannot be stored"
	expectErr(t, c, refused, scriptStoreArgs("s", "CPU", "", []string{"f"}, src)...)
	expectErr(t, c, refused, "AI.SCRIPTSET", "s", "CPU", "SOURCE", src)
	expect(t, c, resp.Int(0), "EXISTS", "s")
}

// TestScriptBeyondMemory: a script that asks libtorch for a tensor larger than the memory left fails
// with that reason, and Redis lives on: the shim's CPU allocator refuses it (Redis' allocator maps such
// a block unreserved, and the kernel killed Redis as libtorch filled it: measured with this script on a
// 24 GB machine; not run here on code without the check). A tensor that fits is made as before.
func TestScriptBeyondMemory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const src = `def huge(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.zeros([100000, 100000, 1000])

def fits(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.ones([1000, 1000, 20])
`
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"huge", "fits"}, src)...)
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
	expectErrContains(t, c, "libtorch asked for 40000000000000 bytes, refused with",
		"AI.SCRIPTEXECUTE", "s", "huge", "INPUTS", 1, "a", "OUTPUTS", 1, "o")
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "fits", "INPUTS", 1, "a", "OUTPUTS", 1, "o")
	expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("FLOAT"), resp.BulkString("shape"), resp.Ints(1000, 1000, 20)),
		"AI.TENSORGET", "o", "META")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestScriptListBeyondMemory: what a script makes besides tensors is checked too: a list of 16 GB, in a
// memory cgroup of 1 GiB, fails the run with the sizes, and Redis lives on (libtorch makes lists with
// operator new, which gorai points at a checking version in libtorch's relocation table,
// tensor/memory_guard.c). Before, the kernel killed Redis as libtorch filled the list (checked so).
func TestScriptListBeyondMemory(t *testing.T) {
	t.Parallel()
	const src = `def repeat(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = [1] * int(args[0])
    return tensors[0] + len(a)
`
	scriptBeyondMemory(t, src, "repeat", 1_000_000_000, "asked for 16000000000 bytes, refused with", 1_000_000, "1000001")
}

// TestScriptCallReplyBeyondMemory: a reply to a script's redis.execute is copied on its way to the script
// (Go's values, C's, TorchScript's): one larger than the memory left fails the call, in a memory cgroup
// of 1 GiB holding a 200 MB list. Before, the kernel killed Redis as a 590 MB list's LRANGE was copied in
// a 2 GiB one (found by a hunt); a small range answers.
func TestScriptCallReplyBeyondMemory(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Cgroup: redistest.MemoryCgroup(t, 1<<30)})
	c := s.Conn(t)
	element := bytes.Repeat([]byte("x"), 1<<20)
	for range 200 {
		if v := do(t, c, "RPUSH", "L", element); v.IsError() {
			t.Fatal(v)
		}
	}
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"f"}, `def f(tensors: List[Tensor], keys: List[str], args: List[str]):
    r = redis.asList(redis.execute("LRANGE", ["L", "0", args[0]]))
    return tensors[0] + len(r)
`)...)
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
	expectErrContains(t, c, "does not fit in the memory left", "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "a", "ARGS", 1, -1, "OUTPUTS", 1, "o")
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "a", "ARGS", 1, 9, "OUTPUTS", 1, "o")
	expect(t, c, resp.Arr(resp.BulkString("11")), "AI.TENSORGET", "o", "VALUES")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// scriptBeyondMemory stores src's entry point fn, which makes as much as its argument says, and runs it
// on a server in a memory cgroup of 1 GiB: with tooMuch it fails with wantErr and writes nothing, with
// fits it answers want, and Redis lives on.
func scriptBeyondMemory(t *testing.T, src, fn string, tooMuch int, wantErr string, fits int, want string) {
	t.Helper()
	s := redistest.Start(t, redistest.Options{Cgroup: redistest.MemoryCgroup(t, 1<<30)})
	c := s.Conn(t)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{fn}, src)...)
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
	expectErrContains(t, c, wantErr, "AI.SCRIPTEXECUTE", "s", fn, "INPUTS", 1, "a", "ARGS", 1, tooMuch, "OUTPUTS", 1, "o")
	expect(t, c, resp.Int(0), "EXISTS", "o")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", fn, "INPUTS", 1, "a", "ARGS", 1, fits, "OUTPUTS", 1, "o")
	expect(t, c, resp.Arr(resp.BulkString(want)), "AI.TENSORGET", "o", "VALUES")
	if !s.Running() {
		t.Fatalf("the server stopped:\n%s", s.LogTail(40))
	}
}

// TestRoomCountsFileCache: the page cache of the files Redis wrote, which its memory cgroup counts as
// used but the kernel reclaims before it kills, is room: in a cgroup of 1 GiB holding 576 MiB of tensors
// and their 576 MiB RDB file just saved, a script's 200 MB tensor is made (the cgroup's usage sat at its
// limit, and the check refused it).
func TestRoomCountsFileCache(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Cgroup: redistest.MemoryCgroup(t, 1<<30)})
	c := s.Conn(t)
	blob := make([]byte, 48<<20)
	for i := range 12 {
		rand.Read(blob)
		expectOK(t, c, "AI.TENSORSET", "t"+strconv.Itoa(i), "UINT8", len(blob), "BLOB", blob)
	}
	expectOK(t, c, "SAVE")
	const src = `def big(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.ones(50000000).sum().reshape([1])
`
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"big"}, src)...)
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "big", "INPUTS", 1, "a", "OUTPUTS", 1, "o")
	expect(t, c, resp.Arr(resp.BulkString("50000000")), "AI.TENSORGET", "o", "VALUES")
}

// TestScriptManyTensorsBeyondMemory: blocks each far below the size checked alone add up too: a list of
// a thousand 4 MB tensors (4 GB) in a memory cgroup of 1 GiB fails the run, and Redis lives on; a
// hundred (400 MB) are made. Each thread's allocations below the checked size are counted, and every
// 64 MiB of them the memory left is looked at again (tensor/memory.c).
func TestScriptManyTensorsBeyondMemory(t *testing.T) {
	t.Parallel()
	const src = `def many(tensors: List[Tensor], keys: List[str], args: List[str]):
    kept = [torch.zeros(1000000) + i for i in range(int(args[0]))]
    return tensors[0] + len(kept)
`
	scriptBeyondMemory(t, src, "many", 1000, "of memory left", 100, "101")
}

// TestScriptLeavesItsInputsAlone: a script that writes into its inputs (add_) leaves the stored tensors as
// they were: the key, the key COPY made of it (sharing the tensor), the key a DAG without PERSIST loaded,
// and so the replica's keys. It changed them all on the master, and not on the replica.
func TestScriptLeavesItsInputsAlone(t *testing.T) {
	t.Parallel()
	const src = "def in_place(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0].add_(1)\n"
	m := startServer(t)
	c := m.Conn(t)
	rc := startReplica(t, m.Port())
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"in_place"}, src)...)
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
	expect(t, c, resp.Int(1), "COPY", "x", "y")
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "in_place", "INPUTS", 1, "x", "OUTPUTS", 1, "o")
	expect(t, c, resp.Arr(resp.BulkString("2"), resp.BulkString("3")), "AI.TENSORGET", "o", "VALUES")
	v := do(t, c, "AI.DAGEXECUTE", "LOAD", 1, "x", "|>", "AI.SCRIPTEXECUTE", "s", "in_place", "INPUTS", 1, "x", "OUTPUTS", 1, "p", "|>", "AI.TENSORGET", "p", "VALUES")
	if len(v.Elems) != 2 || !resp.Equal(v.Elems[1], resp.Arr(resp.BulkString("2"), resp.BulkString("3"))) {
		t.Errorf("the DAG: %v", v)
	}
	for _, key := range []string{"x", "y"} {
		expect(t, c, resp.Arr(resp.BulkString("1"), resp.BulkString("2")), "AI.TENSORGET", key, "VALUES")
	}
	waitReplicaSynced(t, c, rc)
	expect(t, rc, do(t, c, "DEBUG", "DIGEST"), "DEBUG", "DIGEST")
}

// TestScriptSourceWithNUL: a source holding a NUL byte is refused: stored, it ran, but the RDB file keeps a
// source as a C string, and DEBUG RELOAD (or a replica's sync, or a restart) could not load it back.
func TestScriptSourceWithNUL(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	const src = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    # \x00 a comment\n    return tensors[0]\n"
	expectErr(t, c, "ERR TORCH script source holds a NUL byte: it cannot be stored", scriptStoreArgs("s", "CPU", nil, []string{"f"}, src)...)
	expectErr(t, c, "ERR TORCH script source holds a NUL byte: it cannot be stored", "AI.SCRIPTSET", "s", "CPU", "SOURCE", src)
	expect(t, c, resp.Int(0), "EXISTS", "s")
	expectOK(t, c, "DEBUG", "RELOAD")
}

// TestOutputsKeepTheRankLimit: a run's output of more than 256 dimensions is refused, as AI.TENSORSET
// refuses one: stored, it made an RDB that Redis could not load again (every key lost at restart),
// and replicas refused its AI.TENSORSET and died at their next full sync.
func TestOutputsKeepTheRankLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	const src = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.zeros([1] * 257)\n" +
		"def g(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return torch.zeros([1] * 256)\n"
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"f", "g"}, src)...)
	const want = "tensor has more than 256 dimensions"
	expectErrContains(t, c, want, "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 0, "OUTPUTS", 1, "out")
	expect(t, c, resp.Arr(resp.Err("ERR Torch output 0: "+want)), "AI.DAGEXECUTE", "PERSIST", 1, "out", "|>", "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 0, "OUTPUTS", 1, "out")
	expect(t, c, resp.Int(0), "EXISTS", "out")

	ones := make([]int64, 300)
	for i := range ones {
		ones[i] = 1
	}
	expectOK(t, c, storeArgs("expand", "ONNX", "CPU", onnxtest.Expand(ones))...)
	expectOK(t, c, "AI.TENSORSET", "one", "FLOAT", 1, "VALUES", 1)
	expectErrContains(t, c, want, execArgs("expand", []string{"one"}, []string{"out"})...)
	expect(t, c, resp.Int(0), "EXISTS", "out")

	// At the limit, the output is stored and survives a reload.
	expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "g", "INPUTS", 0, "OUTPUTS", 1, "out")
	expectOK(t, c, "DEBUG", "RELOAD")
	if meta := do(t, c, "AI.TENSORGET", "out", "META"); meta.Kind != resp.Array || len(meta.Elems) != 4 || len(meta.Elems[3].Elems) != 256 {
		t.Errorf("a 256-dim output after DEBUG RELOAD: %v", meta)
	}
}

// TestScriptDivisionFault: a script whose torch.div(..., rounding_mode='trunc') divides INT64 -2^63 by -1
// (SIGFPE: Redis died of it) fails its run; the server answers, and the script runs on. An ONNX model run
// by a script's redisAI.model_execute that faults fails its run, and the script with its error.
func TestScriptDivisionFault(t *testing.T) {
	t.Parallel()
	c := startServer(t).Conn(t)
	const src = `def tdiv(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.div(tensors[0], tensors[1], rounding_mode='trunc')

def model_div(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0], tensors[1]], 1)

def int_divmod(tensors: List[Tensor], keys: List[str], args: List[str]):
    q, r = divmod(int(args[0]), int(args[1]))
    return tensors[0] + q + r

def int_floordiv(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + int(args[0]) // int(args[1])
`
	expectOK(t, c, "AI.TENSORSET", "min", "INT64", 1, "VALUES", math.MinInt64)
	expectOK(t, c, "AI.TENSORSET", "minus1", "INT64", 1, "VALUES", -1)
	expectOK(t, c, "AI.TENSORSET", "two", "INT64", 1, "VALUES", 2)
	run := func(fn string, in ...any) []any {
		args := []any{"AI.SCRIPTEXECUTE", "s", fn, "KEYS", 1, "div", "INPUTS", len(in)}
		return append(append(args, in...), "OUTPUTS", 1, "q")
	}
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"tdiv", "model_div", "int_divmod", "int_floordiv"}, src)...)
	expectErr(t, c, "ERR Torch run failed: an integer division by zero or overflow (SIGFPE in libtorch)",
		run("tdiv", "min", "minus1")...)
	expect(t, c, resp.Int(0), "EXISTS", "q")
	expectPing(t, c)
	expectOK(t, c, run("tdiv", "min", "two")...)
	expect(t, c, resp.Arr(resp.Int(math.MinInt64/2)), "AI.TENSORGET", "q", "VALUES")

	// A script's own integers: TorchScript's interpreter divides them with the C library's lldiv, whose
	// fault ended Redis too.
	intRun := func(fn string, a, b int64) []any {
		return []any{"AI.SCRIPTEXECUTE", "s", fn, "INPUTS", 1, "two", "ARGS", 2, a, b, "OUTPUTS", 1, "q"}
	}
	for _, fn := range []string{"int_divmod", "int_floordiv"} {
		expectErr(t, c, "ERR Torch run failed: an integer division by zero or overflow (SIGFPE in libtorch)", intRun(fn, math.MinInt64, -1)...)
		expectPing(t, c)
		expectOK(t, c, intRun(fn, 7, 2)...)
	}

	expectOK(t, c, storeArgs("div", "ONNX", "CPU", onnxtest.Binary("Div", 7))...)
	expectErrContains(t, c, "ERR ONNX run failed: an integer division by zero or overflow (SIGFPE in ONNX Runtime)",
		run("model_div", "min", "minus1")...)
	expectPing(t, c)
	expectOK(t, c, run("model_div", "min", "two")...)
	expect(t, c, resp.Arr(resp.Int(math.MinInt64/2)), "AI.TENSORGET", "q", "VALUES")
}
