package tests

// ACL: every AI.* command and DAG op reports each key it touches, with whether it reads or writes
// it, so that a user limited to some keys (~allowed:*) or to reading (%R~*) is held to them, also
// inside MULTI; what a script does through redis.execute and redisAI.model_execute runs with
// the permissions of the user who ran the script; and AI.CONFIG's choice of libraries needs the
// right to MODULE LOAD.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gorai/tests/resp"
)

const (
	errNoPermKey = "NOPERM this user has no permissions to access one of the keys used as arguments"
	errNoPermSet = "NOPERM this user has no permissions to run the 'set' command"
)

// aclScriptSource touches keys named by its ARGS, which Redis cannot see when the command arrives.
const aclScriptSource = `def double(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * 2

def twice(x: Tensor):
    return x * 2

def set_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", args[0], args[1])

def get_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("GET", args[0])

def copy_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    v = redis.execute("GET", args[0])
    redis.execute("SET", keys[0], str(v))

def model_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(args[0], [tensors[0]], 1)

def run_args(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute(args[0], args[1:])

def bad_arity(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", args[0])

def get_many(tensors: List[Tensor], keys: List[str], args: List[str]):
    for i in range(int(args[0])):
        redis.execute("GET", keys[0])
`

var aclScriptEntryPoints = []string{"double", "set_arg", "get_arg", "copy_arg", "model_arg", "run_args", "bad_arity", "get_many"}

// aclServer starts a server holding, under both allowed: and secret:, an iris model, the ACL
// script and an input tensor, with the users scoped (~allowed:*, no channels), reader (%R~*) and
// noset (-set -config|set).
func aclServer(t *testing.T) (admin *resp.Conn, connect func(user string) *resp.Conn) {
	t.Helper()
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := startServer(t)
	admin = s.Conn(t)
	for _, p := range []string{"allowed:", "secret:"} {
		for _, m := range []string{"m", "mdel"} {
			expectOK(t, admin, storeArgs(p+m, "ONNX", "CPU", iris)...)
		}
		for _, sc := range []string{"s", "sdel"} {
			expectOK(t, admin, scriptStoreArgs(p+sc, "CPU", nil, aclScriptEntryPoints, aclScriptSource)...)
		}
		expectOK(t, admin, "AI.TENSORSET", p+"in", "FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
		expectOK(t, admin, "SET", p+"str", "secret value")
	}
	expectOK(t, admin, "ACL", "SETUSER", "scoped", "on", "nopass", "~allowed:*", "+@all")
	expectOK(t, admin, "ACL", "SETUSER", "reader", "on", "nopass", "%R~*", "+@all")
	expectOK(t, admin, "ACL", "SETUSER", "noset", "on", "nopass", "~*", "+@all", "-set", "-config|set")
	if t.Failed() {
		t.FailNow()
	}
	return admin, func(user string) *resp.Conn {
		c := s.Conn(t)
		expectOK(t, c, "AUTH", user, "any")
		return c
	}
}

// aclCase is a command run once with keys the user may use, and once per key it may not.
type aclCase struct {
	name    string
	allowed []any
	denied  [][]any
}

// expectAllowed expects a reply that is no error (a DAG's array may hold none either).
func expectAllowed(t *testing.T, c *resp.Conn, args ...any) {
	t.Helper()
	got := do(t, c, args...)
	bad := got.IsError()
	for _, e := range got.Elems {
		bad = bad || e.IsError()
	}
	if bad {
		t.Errorf("%s\n   got: %v\n  want: no error", fmtArgs(args), got)
	}
}

func runACLCases(t *testing.T, c *resp.Conn, cases []aclCase) {
	t.Helper()
	for _, tc := range cases {
		if tc.allowed != nil {
			expectAllowed(t, c, tc.allowed...)
		}
		for _, d := range tc.denied {
			if !expectErr(t, c, errNoPermKey, d...) {
				t.Logf("case %s", tc.name)
			}
		}
	}
}

// dagArgs is a DAG reading load, writing persist, running model and script (with key as its
// KEYS), routed by routing.
func dagArgs(load, persist, model, script, key, routing string) []any {
	return []any{"AI.DAGEXECUTE", "LOAD", "1", load, "PERSIST", "1", persist, "ROUTING", routing,
		"|>", "AI.MODELEXECUTE", model, "INPUTS", "1", load, "OUTPUTS", "1", persist,
		"|>", "AI.SCRIPTEXECUTE", script, "double", "KEYS", "1", key, "INPUTS", "1", persist, "OUTPUTS", "1", "y",
		"|>", "AI.TENSORGET", "y", "META"}
}

func dagROArgs(cmd, modelOp, load, model, routing string) []any {
	inputs := []any{"INPUTS", "1", load, "OUTPUTS", "1", "y"}
	if modelOp == "AI.MODELRUN" {
		inputs = []any{"INPUTS", load, "OUTPUTS", "y"}
	}
	args := []any{cmd, "LOAD", "1", load}
	if routing != "" {
		args = append(args, "ROUTING", routing)
	}
	args = append(append(append(args, "|>", modelOp, model), inputs...), "|>", "AI.TENSORGET", "y", "META")
	return args
}

func dagRunArgs(load, persist, model, script string) []any {
	return []any{"AI.DAGRUN", "LOAD", "1", load, "PERSIST", "1", persist,
		"|>", "AI.MODELRUN", model, "INPUTS", load, "OUTPUTS", "t",
		"|>", "AI.SCRIPTRUN", script, "twice", "INPUTS", "t", "OUTPUTS", persist}
}

// TestACLKeyPatterns: a user limited to ~allowed:* runs every AI.* command and DAG op on allowed
// keys, and is refused with NOPERM wherever one key, in any place, is outside the pattern.
func TestACLKeyPatterns(t *testing.T) {
	t.Parallel()
	_, connect := aclServer(t)
	c := connect("scoped")
	iris := redisaiFixture(t, "linear_iris.onnx")
	exec := func(m, in, out string) []any { return execArgs(m, []string{in}, []string{out}) }
	run := func(m, in, out string) []any { return []any{"AI.MODELRUN", m, "INPUTS", in, "OUTPUTS", out} }
	sexec := func(s, k, in, out string) []any {
		return []any{"AI.SCRIPTEXECUTE", s, "double", "KEYS", "1", k, "INPUTS", "1", in, "OUTPUTS", "1", out}
	}
	srun := func(s, in, out string) []any { return []any{"AI.SCRIPTRUN", s, "twice", "INPUTS", in, "OUTPUTS", out} }
	a := "allowed:"
	runACLCases(t, c, []aclCase{
		{"TENSORSET", []any{"AI.TENSORSET", a + "t", "FLOAT", "1", "VALUES", "1"}, [][]any{{"AI.TENSORSET", "secret:t", "FLOAT", "1", "VALUES", "1"}}},
		{"TENSORGET", []any{"AI.TENSORGET", a + "in", "META"}, [][]any{{"AI.TENSORGET", "secret:in", "META"}}},
		{"MODELSTORE", storeArgs(a+"m2", "ONNX", "CPU", iris), [][]any{storeArgs("secret:m2", "ONNX", "CPU", iris)}},
		{"MODELSET", []any{"AI.MODELSET", a + "m3", "ONNX", "CPU", "BLOB", iris}, [][]any{{"AI.MODELSET", "secret:m3", "ONNX", "CPU", "BLOB", iris}}},
		{"MODELGET", []any{"AI.MODELGET", a + "m", "META"}, [][]any{{"AI.MODELGET", "secret:m", "META"}}},
		{"MODELDEL", []any{"AI.MODELDEL", a + "mdel"}, [][]any{{"AI.MODELDEL", "secret:mdel"}}},
		{"MODELEXECUTE", exec(a+"m", a+"in", a+"out"), [][]any{exec("secret:m", a+"in", a+"out"), exec(a+"m", "secret:in", a+"out"), exec(a+"m", a+"in", "secret:out"), exec(a+"m", a+"in", "OUTPUTS")}},
		{"MODELRUN", run(a+"m", a+"in", a+"out"), [][]any{run("secret:m", a+"in", a+"out"), run(a+"m", "secret:in", a+"out"), run(a+"m", a+"in", "secret:out"), run(a+"m", a+"in", "OUTPUTS"), run(a+"m", a+"in", "outputs")}},
		{"_MODELSCAN", []any{"AI._MODELSCAN"}, nil},
		{"SCRIPTSTORE", scriptStoreArgs(a+"s2", "CPU", nil, aclScriptEntryPoints, aclScriptSource), [][]any{scriptStoreArgs("secret:s2", "CPU", nil, aclScriptEntryPoints, aclScriptSource)}},
		{"SCRIPTSET", []any{"AI.SCRIPTSET", a + "s3", "CPU", "SOURCE", scLegacySource}, [][]any{{"AI.SCRIPTSET", "secret:s3", "CPU", "SOURCE", scLegacySource}}},
		{"SCRIPTGET", []any{"AI.SCRIPTGET", a + "s", "META"}, [][]any{{"AI.SCRIPTGET", "secret:s", "META"}}},
		{"SCRIPTDEL", []any{"AI.SCRIPTDEL", a + "sdel"}, [][]any{{"AI.SCRIPTDEL", "secret:sdel"}}},
		{"SCRIPTEXECUTE", sexec(a+"s", a+"k", a+"in", a+"out"), [][]any{sexec("secret:s", a+"k", a+"in", a+"out"), sexec(a+"s", "secret:k", a+"in", a+"out"), sexec(a+"s", a+"k", "secret:in", a+"out"), sexec(a+"s", a+"k", a+"in", "secret:out")}},
		{"SCRIPTRUN", srun(a+"s", a+"in", a+"out"), [][]any{srun("secret:s", a+"in", a+"out"), srun(a+"s", "secret:in", a+"out"), srun(a+"s", a+"in", "secret:out")}},
		{"_SCRIPTSCAN", []any{"AI._SCRIPTSCAN"}, nil},
		{"DAGEXECUTE", dagArgs(a+"in", a+"out", a+"m", a+"s", a+"k", a+"r"), [][]any{
			dagArgs("secret:in", a+"out", a+"m", a+"s", a+"k", a+"r"),
			dagArgs(a+"in", "secret:out", a+"m", a+"s", a+"k", a+"r"),
			dagArgs(a+"in", a+"out", "secret:m", a+"s", a+"k", a+"r"),
			dagArgs(a+"in", a+"out", a+"m", "secret:s", a+"k", a+"r"),
			dagArgs(a+"in", a+"out", a+"m", a+"s", "secret:k", a+"r"),
			dagArgs(a+"in", a+"out", a+"m", a+"s", a+"k", "secret:r"),
		}},
		{"DAGEXECUTE_RO", dagROArgs("AI.DAGEXECUTE_RO", "AI.MODELEXECUTE", a+"in", a+"m", a+"r"), [][]any{
			dagROArgs("AI.DAGEXECUTE_RO", "AI.MODELEXECUTE", "secret:in", a+"m", a+"r"),
			dagROArgs("AI.DAGEXECUTE_RO", "AI.MODELEXECUTE", a+"in", "secret:m", a+"r"),
			dagROArgs("AI.DAGEXECUTE_RO", "AI.MODELEXECUTE", a+"in", a+"m", "secret:r"),
		}},
		{"DAGRUN", dagRunArgs(a+"in", a+"out", a+"m", a+"s"), [][]any{
			dagRunArgs("secret:in", a+"out", a+"m", a+"s"),
			dagRunArgs(a+"in", "secret:out", a+"m", a+"s"),
			dagRunArgs(a+"in", a+"out", "secret:m", a+"s"),
			dagRunArgs(a+"in", a+"out", a+"m", "secret:s"),
		}},
		{"DAGRUN_RO", dagROArgs("AI.DAGRUN_RO", "AI.MODELRUN", a+"in", a+"m", ""), [][]any{
			dagROArgs("AI.DAGRUN_RO", "AI.MODELRUN", "secret:in", a+"m", ""),
			dagROArgs("AI.DAGRUN_RO", "AI.MODELRUN", a+"in", "secret:m", ""),
		}},
		{"INFO", []any{"AI.INFO", a + "m"}, [][]any{{"AI.INFO", "secret:m"}}},
		{"CONFIG", []any{"AI.CONFIG", "GET", "BACKENDSPATH"}, nil},
	})
}

// TestACLReadOnlyUser: a user who may only read (%R~*) reads tensors, models and scripts, runs
// read-only DAGs, and is refused every command or op that writes a key.
func TestACLReadOnlyUser(t *testing.T) {
	t.Parallel()
	_, connect := aclServer(t)
	c := connect("reader")
	iris := redisaiFixture(t, "linear_iris.onnx")
	s := "secret:"
	for _, args := range [][]any{
		{"AI.TENSORGET", s + "in", "META"},
		{"AI.MODELGET", s + "m", "META"},
		{"AI.SCRIPTGET", s + "s", "META"},
		{"AI.INFO", s + "m"},
		{"AI._MODELSCAN"},
		dagROArgs("AI.DAGEXECUTE_RO", "AI.MODELEXECUTE", s+"in", s+"m", s+"r"),
		dagROArgs("AI.DAGRUN_RO", "AI.MODELRUN", s+"in", s+"m", ""),
		dagROArgs("AI.DAGEXECUTE", "AI.MODELEXECUTE", s+"in", s+"m", s+"r"),
	} {
		expectAllowed(t, c, args...)
	}
	runACLCases(t, c, []aclCase{{"writes", nil, [][]any{
		{"AI.TENSORSET", s + "t", "FLOAT", "1", "VALUES", "1"},
		storeArgs(s+"m2", "ONNX", "CPU", iris),
		{"AI.MODELSET", s + "m3", "ONNX", "CPU", "BLOB", iris},
		{"AI.MODELDEL", s + "mdel"},
		scriptStoreArgs(s+"s2", "CPU", nil, aclScriptEntryPoints, aclScriptSource),
		{"AI.SCRIPTSET", s + "s3", "CPU", "SOURCE", scLegacySource},
		{"AI.SCRIPTDEL", s + "sdel"},
		execArgs(s+"m", []string{s + "in"}, []string{s + "out"}),
		{"AI.MODELRUN", s + "m", "INPUTS", s + "in", "OUTPUTS", s + "out"},
		{"AI.MODELRUN", s + "m", "INPUTS", s + "in", "OUTPUTS", "OUTPUTS"},
		{"AI.SCRIPTEXECUTE", s + "s", "double", "INPUTS", "1", s + "in", "OUTPUTS", "1", s + "out"},
		{"AI.SCRIPTRUN", s + "s", "twice", "INPUTS", s + "in", "OUTPUTS", s + "out"},
		dagArgs(s+"in", s+"out", s+"m", s+"s", s+"k", s+"r"),
		dagRunArgs(s+"in", s+"out", s+"m", s+"s"),
	}}})
}

// TestACLMulti: inside MULTI a command outside the user's keys is refused when queued (and EXEC
// aborts), whatever op of a DAG names the key; commands inside them run.
func TestACLMulti(t *testing.T) {
	t.Parallel()
	_, connect := aclServer(t)
	c := connect("scoped")
	a := "allowed:"
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.TENSORSET", a+"t", "FLOAT", "1", "VALUES", "7")
	expect(t, c, resp.Simple("QUEUED"), "AI.TENSORGET", a+"t", "VALUES")
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Arr(resp.BulkString("7"))), "EXEC")

	for _, denied := range [][]any{
		{"AI.TENSORSET", "secret:t", "FLOAT", "1", "VALUES", "1"},
		dagArgs(a+"in", a+"out", a+"m", a+"s", "secret:k", a+"r"),
		dagRunArgs(a+"in", a+"out", "secret:m", a+"s"),
	} {
		expectOK(t, c, "MULTI")
		expect(t, c, resp.Simple("QUEUED"), "AI.TENSORGET", a+"in", "META")
		expectErr(t, c, errNoPermKey, denied...)
		expectErrPrefix(t, c, "EXECABORT", "EXEC")
	}
}

// TestACLScriptRedisExecute: a script's redis.execute runs as the user who ran the script: a key
// outside the user's pattern, a write by a read-only user or a command the user may not run fails
// the run with Redis' NOPERM error (logged in ACL LOG), and nothing is written; within the user's
// rights, and for the default user, it works. The same through a DAG.
func TestACLScriptRedisExecute(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	scoped, reader, noset := connect("scoped"), connect("reader"), connect("noset")
	a := "allowed:"

	expectErrContains(t, scoped, errNoPermKey, "AI.SCRIPTEXECUTE", a+"s", "set_arg", "KEYS", "1", a+"k", "ARGS", "2", "secret:pwned", "1")
	expect(t, admin, resp.Int(0), "EXISTS", "secret:pwned")
	log := do(t, admin, "ACL", "LOG", "1")
	if s := log.String(); !strings.Contains(s, `"key"`) || !strings.Contains(s, "secret:pwned") || !strings.Contains(s, "scoped") {
		t.Errorf("ACL LOG 1: %s; want the key refused to scoped", s)
	}
	expectErrContains(t, scoped, errNoPermKey, "AI.SCRIPTEXECUTE", a+"s", "copy_arg", "KEYS", "1", a+"copy", "ARGS", "1", "secret:str")
	expect(t, admin, resp.Int(0), "EXISTS", a+"copy")
	dag := []any{"AI.DAGEXECUTE", "ROUTING", a + "r",
		"|>", "AI.SCRIPTEXECUTE", a + "s", "set_arg", "KEYS", "1", a + "k", "ARGS", "2", "secret:pwned", "1"}
	if got := do(t, scoped, dag...); len(got.Elems) != 1 || !got.Elems[0].IsError() || !strings.Contains(got.Elems[0].Text(), errNoPermKey) {
		t.Errorf("%s\n   got: %v\n  want: the op's error %q", fmtArgs(dag), got, errNoPermKey)
	}
	expect(t, admin, resp.Int(0), "EXISTS", "secret:pwned")

	expectOK(t, scoped, "AI.SCRIPTEXECUTE", a+"s", "set_arg", "KEYS", "1", a+"k", "ARGS", "2", a+"x", "1")
	expectOK(t, scoped, "AI.SCRIPTEXECUTE", a+"s", "copy_arg", "KEYS", "1", a+"copy", "ARGS", "1", a+"x")
	expect(t, admin, resp.BulkString("1"), "GET", a+"copy")

	expectErrContains(t, reader, errNoPermKey, "AI.SCRIPTEXECUTE", a+"s", "set_arg", "KEYS", "1", a+"k", "ARGS", "2", a+"y", "1")
	expect(t, admin, resp.Int(0), "EXISTS", a+"y")
	expectOK(t, reader, "AI.SCRIPTEXECUTE", a+"s", "get_arg", "KEYS", "1", a+"k", "ARGS", "1", "secret:str")

	expectErrContains(t, noset, errNoPermSet, "AI.SCRIPTEXECUTE", a+"s", "set_arg", "KEYS", "1", a+"k", "ARGS", "2", a+"z", "1")
	expect(t, admin, resp.Int(0), "EXISTS", a+"z")
	runArgs := func(args ...any) []any {
		return append([]any{"AI.SCRIPTEXECUTE", a + "s", "run_args", "KEYS", "1", a + "k", "ARGS", len(args)}, args...)
	}
	expectErrContains(t, noset, "NOPERM this user has no permissions to run the 'config|set' command", runArgs("CONFIG", "SET", "maxmemory-samples", "7")...)
	expect(t, admin, resp.BulkStrings("maxmemory-samples", "5"), "CONFIG", "GET", "maxmemory-samples")
	expectErrContains(t, scoped, "NOPERM this user has no permissions to access one of the channels used as arguments", runArgs("PUBLISH", "ch", "m")...)

	// module commands too: a tensor outside the pattern, a write by a read-only user
	tensorSet := func(key string) []any { return runArgs("AI.TENSORSET", key, "FLOAT", "1", "VALUES", "1") }
	expectErrContains(t, scoped, errNoPermKey, tensorSet("secret:t")...)
	expectErrContains(t, reader, errNoPermKey, tensorSet(a+"t")...)
	expect(t, admin, resp.Int(0), "EXISTS", "secret:t", a+"t")
	expectOK(t, scoped, tensorSet(a+"t")...)
	expect(t, admin, resp.Int(1), "EXISTS", a+"t")

	expectOK(t, admin, "AI.SCRIPTEXECUTE", a+"s", "set_arg", "KEYS", "1", a+"k", "ARGS", "2", "secret:ok", "1")
	expect(t, admin, resp.BulkString("1"), "GET", "secret:ok")
	// a call Redis refuses for its arity still fails as before, ACL or not
	expectErrContains(t, scoped, errRedisCommand+": Invalid argument", "AI.SCRIPTEXECUTE", a+"s", "bad_arity", "KEYS", "1", a+"k", "ARGS", "1", a+"q")
}

// TestACLScriptModelExecute: redisAI.model_execute on a model the user may not read fails the run
// with NOPERM; on one it may read, it runs.
func TestACLScriptModelExecute(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	scoped := connect("scoped")
	a := "allowed:"
	model := func(m string) []any {
		return []any{"AI.SCRIPTEXECUTE", a + "s", "model_arg", "KEYS", "1", a + "k", "INPUTS", "1", a + "in", "ARGS", "1", m, "OUTPUTS", "1", a + "o"}
	}
	expectErrContains(t, scoped, errNoPermKey, model("secret:m")...)
	expect(t, admin, resp.Int(0), "EXISTS", a+"o")
	expectOK(t, scoped, model(a+"m")...)
	expect(t, admin, resp.Int(1), "EXISTS", a+"o")
}

// AI.CONFIG LOADBACKEND and BACKENDSPATH choose libraries that Redis loads into itself (a backend not
// yet opened is opened from BACKENDSPATH at its first use): a user whom ACL does not let run MODULE
// LOAD may not use them (RedisAI let any user with AI.CONFIG load any library), neither directly nor
// through a stored script's redis.execute, Lua's redis.call or MULTI, and the refusal is in ACL LOG;
// TestACLScriptCallsRunAsTheUser: a script's redis.execute runs its command as the user who ran the
// script, so that the command's own checks of its user apply: SORT's GET pattern, which names keys its
// key check does not see, is refused for keys outside the user's patterns (the call ran for no user, and
// SORT answered secret:* values to a user limited to ~allowed:*); redisAI.model_execute reads a model
// only through a selector that allows AI.MODELGET on it.
func TestACLScriptCallsRunAsTheUser(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	expect(t, admin, resp.Int(2), "RPUSH", "allowed:l", 1, 2)
	expectOK(t, admin, "SET", "secret:1", "TOPSECRET")
	// A user's name may be empty (ACL SETUSER ""): it is a user all the same, not "no user".
	expectOK(t, admin, "ACL", "SETUSER", "", "on", "nopass", "~allowed:*", "+@all")
	for _, user := range []string{"scoped", ""} {
		c := connect(user)
		expectErrContains(t, c, "GET option of SORT denied due to insufficient ACL permissions",
			"AI.SCRIPTEXECUTE", "allowed:s", "run_args", "KEYS", "1", "allowed:l", "ARGS", 6, "SORT", "allowed:l", "BY", "nosort", "GET", "secret:*")
		expectErrContains(t, c, "GET option of SORT denied due to insufficient ACL permissions", "SORT", "allowed:l", "BY", "nosort", "GET", "secret:*")
		expectErrContains(t, c, "NOPERM", "AI.SCRIPTEXECUTE", "allowed:s", "run_args", "KEYS", "1", "allowed:l", "ARGS", 2, "GET", "secret:1")
	}
	// redisAI.model_execute reads the model by a selector that allows AI.MODELGET on it: one that may
	// read secret:* but run GET alone does not (the model ran).
	expectOK(t, admin, "ACL", "SETUSER", "selector", "on", "nopass", "~allowed:*", "+@all", "(%R~secret:* -@all +get)")
	selector := connect("selector")
	expectErrContains(t, selector, "NOPERM this user has no permissions to access one of the keys used as arguments",
		"AI.SCRIPTEXECUTE", "allowed:s", "model_arg", "INPUTS", 1, "allowed:in", "ARGS", 1, "secret:m", "OUTPUTS", 1, "allowed:o")
	expectOK(t, selector, "AI.SCRIPTEXECUTE", "allowed:s", "model_arg", "INPUTS", 1, "allowed:in", "ARGS", 1, "allowed:m", "OUTPUTS", 1, "allowed:o")
	// The same script, run by the default user, sorts.
	expectOK(t, admin, "AI.SCRIPTEXECUTE", "allowed:s", "run_args", "KEYS", "1", "allowed:l", "ARGS", 6, "SORT", "allowed:l", "BY", "nosort", "GET", "secret:*")
}

// the user may still read the configuration and set MODEL_CHUNK_SIZE.
func TestACLConfigLoadsLibraries(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	path := resp.BulkString(backendsPath(t, admin))
	expectOK(t, admin, "AI.CONFIG", "BACKENDSPATH", path.Text())
	expectOK(t, admin, "ACL", "SETUSER", "noadmin", "on", "nopass", "~*", "+@all", "-@admin")
	expectOK(t, admin, "ACL", "SETUSER", "nomodload", "on", "nopass", "~*", "+@all", "-module|load")
	const noperm = "NOPERM this user has no permissions to run the 'module|load' command"
	runArgs := func(args ...any) []any {
		return append([]any{"AI.SCRIPTEXECUTE", "allowed:s", "run_args", "KEYS", "1", "allowed:k", "ARGS", len(args)}, args...)
	}
	for _, user := range []string{"noadmin", "nomodload"} {
		c := connect(user)
		dir := t.TempDir()
		expectErr(t, c, noperm, "AI.CONFIG", "LOADBACKEND", "TORCH", dir+"/libgorai_torch.so")
		expectErr(t, c, noperm, "AI.CONFIG", "BACKENDSPATH", dir)
		expectErrContains(t, c, noperm, runArgs("AI.CONFIG", "BACKENDSPATH", dir)...)
		expectErrContains(t, c, noperm, "EVAL", "return redis.call('AI.CONFIG', 'BACKENDSPATH', ARGV[1])", "0", dir)
		expectOK(t, c, "MULTI")
		expect(t, c, resp.Simple("QUEUED"), "AI.CONFIG", "BACKENDSPATH", dir)
		if got := do(t, c, "EXEC"); len(got.Elems) != 1 || got.Elems[0].Text() != noperm {
			t.Errorf("%s: MULTI, AI.CONFIG BACKENDSPATH, EXEC: %v, want [%s]", user, got, noperm)
		}
		expect(t, c, path, "AI.CONFIG", "GET", "BACKENDSPATH")
		expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", "1048576")
	}
	if log := do(t, admin, "ACL", "LOG", "1"); !strings.Contains(log.String(), "module|load") {
		t.Errorf("ACL LOG 1: %v, want the refused module|load", log)
	}
	// A user who may load modules may, also through a script, whose call runs for no user of its own.
	expectOK(t, admin, runArgs("AI.CONFIG", "BACKENDSPATH", path.Text())...)
	expectOK(t, admin, "AI.CONFIG", "BACKENDSPATH", path.Text())
	expect(t, admin, path, "AI.CONFIG", "GET", "BACKENDSPATH")
}

// AI._MODELSCAN and AI._SCRIPTSCAN list the models and scripts a user may read, with their tags (the
// keys' data); the others are left out, not refused, and nothing is logged in ACL LOG.
func TestACLScanListsReadableKeys(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	scoped := connect("scoped")
	expectOK(t, admin, "ACL", "SETUSER", "selector", "on", "nopass", "~allowed:*", "+@all", "(%R~secret:* -@all +get)")
	selector := connect("selector")
	keys := func(c *resp.Conn, cmd string) []string {
		var ks []string
		for _, e := range do(t, c, cmd).Elems {
			if len(e.Elems) != 2 {
				t.Fatalf("%s: entry %v, want [key, tag]", cmd, e)
			}
			ks = append(ks, e.Elems[0].Text())
		}
		slices.Sort(ks)
		return ks
	}
	for cmd, names := range map[string][]string{"AI._MODELSCAN": {"m", "mdel"}, "AI._SCRIPTSCAN": {"s", "sdel"}} {
		var all, allowed []string
		for _, p := range []string{"allowed:", "secret:"} {
			for _, n := range names {
				all = append(all, p+n)
				if p == "allowed:" {
					allowed = append(allowed, p+n)
				}
			}
		}
		if got := keys(admin, cmd); !slices.Equal(got, all) {
			t.Errorf("%s by the default user: %v, want %v", cmd, got, all)
		}
		if got := keys(scoped, cmd); !slices.Equal(got, allowed) {
			t.Errorf("%s by scoped (~allowed:*): %v, want %v", cmd, got, allowed)
		}
		// A selector that may read secret:* keys but run GET alone shows none of them (they were
		// listed: a key counted as readable when any selector could read it).
		if got := keys(selector, cmd); !slices.Equal(got, allowed) {
			t.Errorf("%s by a user whose secret:* selector allows GET alone: %v, want %v", cmd, got, allowed)
		}
	}
	expect(t, admin, resp.Arr(), "ACL", "LOG")
}

// TestACLScriptOutlivesItsUser: a script still running when its user is deleted and another of the
// same name made (one transaction, so no call falls between) makes no further call into Redis: its
// calls ran as whoever held the name.
func TestACLScriptOutlivesItsUser(t *testing.T) {
	t.Parallel()
	admin, connect := aclServer(t)
	expectOK(t, admin, "AI.SCRIPTSET", "counting", "CPU", "SOURCE",
		"def count(a):\n    for i in range(2000000):\n        redis.execute(\"INCR\", \"counter\")\n    return a\n")
	expectOK(t, admin, "ACL", "SETUSER", "runner", "on", "nopass", "~*", "+@all")
	runner := connect("runner")
	if err := runner.Send("AI.SCRIPTRUN", "counting", "count", "INPUTS", "allowed:in", "OUTPUTS", "out"); err != nil || runner.Flush() != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the script's first INCR", func() (bool, string) {
		v := do(t, admin, "GET", "counter")
		return v.Kind == resp.Bulk && !v.Nil, v.String()
	})
	expectOK(t, admin, "MULTI")
	expect(t, admin, resp.Simple("QUEUED"), "ACL", "DELUSER", "runner")
	expect(t, admin, resp.Simple("QUEUED"), "ACL", "SETUSER", "runner", "on", "nopass", "~*", "+@all")
	if v := do(t, admin, "EXEC"); len(v.Elems) != 2 || v.Elems[0].Int != 1 {
		t.Fatalf("EXEC of ACL DELUSER, ACL SETUSER: %v", v)
	}
	counted := do(t, admin, "GET", "counter")
	waitFor(t, 120*time.Second, "the script to end", func() (bool, string) {
		v := do(t, admin, "AI.INFO", "counting")
		return strings.Contains(v.String(), `"calls", :1`), v.String() + " counter " + do(t, admin, "GET", "counter").String()
	})
	if v := do(t, admin, "GET", "counter"); v.Text() != counted.Text() {
		t.Errorf("the counter went from %s to %s after its user was deleted and made again", counted.Text(), v.Text())
	}
}
