package commands

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"gorai/stats"
)

// scriptFixture is modelFixture plus scripts sc (SCRIPTSTORE: device CPU, tag v1, entry points bar
// and baz) and old (SCRIPTSET: device gpu:0, no tag, no entry points); counters are zeroed.
func scriptFixture(t *testing.T) (*fakeKeyspace, *fakeRuntime) {
	t.Helper()
	ks, rt := modelFixture(t)
	ks.scripts["sc"] = &fakeScript{meta: ScriptMeta{Device: "CPU", Tag: []byte("v1"), EntryPoints: []string{"bar", "baz"}},
		source:   []byte("def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n"),
		compiled: &fakeCompiled{}}
	ks.scripts["old"] = &fakeScript{meta: ScriptMeta{Device: "gpu:0", Tag: []byte{}},
		source: []byte("def foo(a, b):\n    return a + b\n"), compiled: &fakeCompiled{}}
	return ks, rt
}

func scriptMaps(m map[string]*fakeScript) map[string]*fakeScript {
	out := map[string]*fakeScript{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// scriptsUnchanged fails unless the command left the keyspace and the runtime alone (OpenScript
// aside, which the caller checks) and closed whatever OpenScript built.
func scriptsUnchanged(t *testing.T, line string, ks *fakeKeyspace, rt *fakeRuntime, scripts map[string]*fakeScript) {
	t.Helper()
	unchanged(t, line, ks, rt, ks.models)
	if ks.scriptSets != 0 || len(rt.scriptsExecuted) != 0 {
		t.Errorf("%s: SetScript %d, executed %d", line, ks.scriptSets, len(rt.scriptsExecuted))
	}
	if !reflect.DeepEqual(ks.scripts, scripts) {
		t.Errorf("%s: the scripts changed", line)
	}
	for _, c := range rt.compiled {
		if c.closed != 1 {
			t.Errorf("%s: a script built by OpenScript was closed %d times", line, c.closed)
		}
	}
	for _, k := range []string{"t1", "t2"} {
		if _, ok := ks.tensors[k]; !ok {
			t.Errorf("%s: %s deleted", line, k)
		}
	}
}

// Every error of AI.SCRIPTSTORE and AI.SCRIPTSET that comes before compiling, in the spec's order
// (§1.3): nothing is compiled, stored or sent.
func TestScriptStoreErrors(t *testing.T) {
	const (
		missingEP  = "-ERR Insufficient arguments, missing script entry points"
		missingSrc = "-ERR Insufficient arguments, missing script SOURCE"
		nonNumeric = "-ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"
	)
	cases := []struct {
		h          Handler
		line, want string
	}{
		{ScriptStore, "AI.SCRIPTSTORE", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE nope", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE nope SOURCE", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE k CPU", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE k CPU SOURCE return", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar SOURCE", "-ARITY"},
		{ScriptStore, "AI.SCRIPTSTORE k CPU NO_ENTRY_POINTS 2 bar baz SOURCE x", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU TAG t SOURCE x y z", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU TAG t TAG u ENTRY_POINTS 1 bar SOURCE x", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU SOURCE x ENTRY_POINTS 1 bar", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS ENTRY_POINTS bar baz SOURCE x", nonNumeric},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1.5 bar SOURCE x", nonNumeric},
		{ScriptStore, "AI.SCRIPTSTORE k CPU TAG t ENTRY_POINTS  bar SOURCE x", nonNumeric},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 5 bar baz SOURCE x", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 9223372036854775807 bar SOURCE x", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS -1 bar SOURCE x", missingEP},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 2 bar baz SOURCE", missingSrc},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 3 bar baz SOURCE x", missingSrc},
		{ScriptStore, "AI.SCRIPTSTORE k CPU TAG t ENTRY_POINTS 1 bar", missingSrc},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar NOT_SOURCE x", missingSrc},
		{ScriptStore, "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar baz SOURCE x", missingSrc},
		{ScriptStore, "AI.SCRIPTSTORE k CPU TAG t ENTRY_POINTS 1 bar source", missingSrc},
		{ScriptSet, "AI.SCRIPTSET", "-ARITY"},
		{ScriptSet, "AI.SCRIPTSET k CPU SOURCE", "-ARITY"},
		{ScriptSet, "AI.SCRIPTSET k CPU TAG t SOURCE", "-ARITY"},
		{ScriptSet, "AI.SCRIPTSET k CPU TAG t SOURCE x y", "-ARITY"},
		{ScriptSet, "AI.SCRIPTSET k CPU TAG t", missingSrc},
		{ScriptSet, "AI.SCRIPTSET k CPU NOT_SOURCE x", missingSrc},
		{ScriptSet, "AI.SCRIPTSET k CPU TAG t NOT_SOURCE x", missingSrc},
		{ScriptSet, "AI.SCRIPTSET k CPU x SOURCE y z", missingSrc},
		{ScriptSet, "AI.SCRIPTSET k CPU ENTRY_POINTS 1 bar SOURCE", missingSrc},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, c.h, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if len(rt.scriptsOpened) != 0 {
			t.Errorf("%s: OpenScript called", c.line)
		}
		scriptsUnchanged(t, c.line, ks, rt, before)
	}
}

// The key's type is checked after compiling (§1.3), and the compiled script is closed then. Compile
// and entry-point errors come from OpenScript and are sent verbatim.
func TestScriptStoreAfterOpen(t *testing.T) {
	for _, h := range []struct {
		h    Handler
		line string
	}{{ScriptStore, "AI.SCRIPTSTORE %s CPU ENTRY_POINTS 1 bar SOURCE x"}, {ScriptSet, "AI.SCRIPTSET %s CPU SOURCE x"}} {
		for _, key := range []string{"s", "t1", "m"} {
			ks, rt := scriptFixture(t)
			before := scriptMaps(ks.scripts)
			line := string(bytes.Replace([]byte(h.line), []byte("%s"), []byte(key), 1))
			if got := runAI(ks, rt, h.h, line); got != wrongType {
				t.Errorf("%s: %s", line, got)
			}
			if len(rt.scriptsOpened) != 1 || len(rt.compiled) != 1 {
				t.Errorf("%s: OpenScript called %d times", line, len(rt.scriptsOpened))
			}
			scriptsUnchanged(t, line, ks, rt, before)
		}
		for _, text := range []string{"ERR Could not load backend", "Function bar1 does not exist in the given script.",
			"Wrong number of inputs in function bar. Expected 3 but was 2",
			"Wrong inputs type in function bar. Expected signature similar to: def bar(tensors: List[Tensor], keys: List[str], args: List[str])"} {
			ks, rt := scriptFixture(t)
			before := scriptMaps(ks.scripts)
			rt.openErr = errors.New(text)
			line := string(bytes.Replace([]byte(h.line), []byte("%s"), []byte("sc"), 1))
			if got := runAI(ks, rt, h.h, line); got != "-"+text {
				t.Errorf("%s: %s", line, got)
			}
			if len(rt.scriptsOpened) != 1 {
				t.Errorf("%s: OpenScript called %d times", line, len(rt.scriptsOpened))
			}
			scriptsUnchanged(t, line, ks, rt, before)
		}
	}
}

// SCRIPTSTORE and SCRIPTSET hand the parsed meta and the source to OpenScript, store what it built
// and replicate the command.
func TestScriptStore(t *testing.T) {
	cases := []struct {
		h      Handler
		line   string
		meta   ScriptMeta
		source string
	}{
		{ScriptStore, "AI.SCRIPTSTORE new CPU ENTRY_POINTS 1 bar SOURCE src",
			ScriptMeta{Device: "CPU", Tag: []byte{}, EntryPoints: []string{"bar"}}, "src"},
		{ScriptStore, "AI.SCRIPTSTORE new gpu:1 TAG v2 ENTRY_POINTS 2 bar baz SOURCE src",
			ScriptMeta{Device: "gpu:1", Tag: []byte("v2"), EntryPoints: []string{"bar", "baz"}}, "src"},
		{ScriptStore, "AI.SCRIPTSTORE new cpu tag v2 entry_points 1 bar source src",
			ScriptMeta{Device: "cpu", Tag: []byte("v2"), EntryPoints: []string{"bar"}}, "src"},
		// The device is the backend's to check.
		{ScriptStore, "AI.SCRIPTSTORE new bad_device ENTRY_POINTS 1 bar SOURCE src",
			ScriptMeta{Device: "bad_device", Tag: []byte{}, EntryPoints: []string{"bar"}}, "src"},
		// A C string, as RedisAI read it: up to its first NUL.
		{ScriptStore, "AI.SCRIPTSTORE new CPU\\0x ENTRY_POINTS 1 bar SOURCE src",
			ScriptMeta{Device: "CPU", Tag: []byte{}, EntryPoints: []string{"bar"}}, "src"},
		{ScriptStore, "AI.SCRIPTSTORE new CPU ENTRY_POINTS 0 SOURCE src x",
			ScriptMeta{Device: "CPU", Tag: []byte{}, EntryPoints: []string{}}, "src"},
		// Entry-point names and the tag are taken as they come, keywords included; what follows
		// the source is ignored, as RedisAI does.
		{ScriptStore, "AI.SCRIPTSTORE new CPU TAG ENTRY_POINTS ENTRY_POINTS 2 SOURCE TAG SOURCE SOURCE junk",
			ScriptMeta{Device: "CPU", Tag: []byte("ENTRY_POINTS"), EntryPoints: []string{"SOURCE", "TAG"}}, "SOURCE"},
		{ScriptStore, "AI.SCRIPTSTORE new TAG ENTRY_POINTS 1 bar SOURCE src",
			ScriptMeta{Device: "TAG", Tag: []byte{}, EntryPoints: []string{"bar"}}, "src"},
		{ScriptStore, "AI.SCRIPTSTORE {a}\\0b CPU TAG  ENTRY_POINTS 1 bar SOURCE \\0s\\0",
			ScriptMeta{Device: "CPU", Tag: []byte{}, EntryPoints: []string{"bar"}}, "\x00s\x00"},
		{ScriptSet, "AI.SCRIPTSET new CPU SOURCE src", ScriptMeta{Device: "CPU", Tag: []byte{}}, "src"},
		{ScriptSet, "AI.SCRIPTSET new gpu TAG v1 SOURCE src", ScriptMeta{Device: "gpu", Tag: []byte("v1")}, "src"},
		{ScriptSet, "AI.SCRIPTSET new CPU source src junk junk", ScriptMeta{Device: "CPU", Tag: []byte{}}, "src"},
		{ScriptSet, "AI.SCRIPTSET new CPU TAG SOURCE SOURCE SOURCE", ScriptMeta{Device: "CPU", Tag: []byte("SOURCE")}, "SOURCE"},
		{ScriptSet, "AI.SCRIPTSET new CPU SOURCE ", ScriptMeta{Device: "CPU", Tag: []byte{}}, ""},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		if got := runAI(ks, rt, c.h, c.line); got != "+OK" {
			t.Errorf("%s: %s", c.line, got)
			continue
		}
		if len(rt.scriptsOpened) != 1 || !reflect.DeepEqual(rt.scriptsOpened[0].meta, c.meta) || string(rt.scriptsOpened[0].source) != c.source {
			t.Errorf("%s: OpenScript got %+v", c.line, rt.scriptsOpened)
		}
		key := string(args(c.line)[1])
		s := ks.scripts[key]
		if s == nil || !reflect.DeepEqual(s.meta, c.meta) || string(s.source) != c.source || s.compiled != rt.compiled[0] {
			t.Errorf("%s: stored %+v", c.line, s)
		}
		if ks.replicated != 1 || ks.scriptSets != 1 || rt.compiled[0].closed != 0 {
			t.Errorf("%s: replicated %d, SetScript %d, closed %d", c.line, ks.replicated, ks.scriptSets, rt.compiled[0].closed)
		}
	}

	// A source with spaces and new lines, as clients send it, is one argument.
	ks, rt := scriptFixture(t)
	src := []byte("def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n\treturn tensors[0] + 1\r\n")
	a := [][]byte{[]byte("AI.SCRIPTSTORE"), []byte("k"), []byte("CPU"), []byte("ENTRY_POINTS"), []byte("1"), []byte("bar"), []byte("SOURCE"), src}
	if got := runArgs(ks, rt, ScriptStore, a); got != "+OK" || !bytes.Equal(ks.scripts["k"].source, src) {
		t.Errorf("multi-line source: %s, stored %q", got, ks.scripts["k"].source)
	}

	// Overwriting a script replaces it (the keyspace closes the old one).
	ks, rt = scriptFixture(t)
	old := ks.scripts["sc"].compiled.(*fakeCompiled)
	if got := runAI(ks, rt, ScriptSet, "AI.SCRIPTSET sc CPU SOURCE new"); got != "+OK" {
		t.Fatal(got)
	}
	if old.closed != 1 || string(ks.scripts["sc"].source) != "new" || len(ks.scripts["sc"].meta.EntryPoints) != 0 {
		t.Errorf("overwrite: old closed %d, now %+v", old.closed, ks.scripts["sc"])
	}
}

func TestScriptGet(t *testing.T) {
	src := `$"def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n"`
	meta := `$"device" $"CPU" $"tag" $"v1" $"Entry Points" *2 $"bar" $"baz"`
	cases := []struct{ line, want string }{
		{"AI.SCRIPTGET sc", "*8 " + meta + ` $"source" ` + src},
		{"AI.SCRIPTGET sc META", "*6 " + meta},
		{"AI.SCRIPTGET sc meta", "*6 " + meta},
		{"AI.SCRIPTGET sc META FOO", "*6 " + meta},
		{"AI.SCRIPTGET sc SOURCE", src},
		{"AI.SCRIPTGET sc source FOO", src},
		{"AI.SCRIPTGET sc META SOURCE", "*8 " + meta + ` $"source" ` + src},
		{"AI.SCRIPTGET sc source meta", "*8 " + meta + ` $"source" ` + src},
		{"AI.SCRIPTGET sc FOO", "*8 " + meta + ` $"source" ` + src},
		{"AI.SCRIPTGET sc FOO BAR", "*8 " + meta + ` $"source" ` + src},
		{"AI.SCRIPTGET old META", `*6 $"device" $"gpu:0" $"tag" $"" $"Entry Points" *0`},
		{"AI.SCRIPTGET old SOURCE", `$"def foo(a, b):\n    return a + b\n"`},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, ScriptGet, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		scriptsUnchanged(t, c.line, ks, rt, before)
	}

	// What was stored comes back byte for byte.
	ks, rt := scriptFixture(t)
	src2 := []byte("def f(x):\n  return x\x00\xff")
	if got := runArgs(ks, rt, ScriptSet, [][]byte{[]byte("AI.SCRIPTSET"), []byte("k"), []byte("CPU"), []byte("SOURCE"), src2}); got != "+OK" {
		t.Fatal(got)
	}
	var r textReply
	if err := ScriptGet(Env{Keys: ks, Out: &r, Runtime: rt}, args("AI.SCRIPTGET k SOURCE")); err != nil {
		t.Fatal(err)
	}
	var want textReply
	want.BulkBytes(src2)
	if r.String() != want.String() {
		t.Errorf("source: %s", r.String())
	}
}

func TestScriptGetDelErrors(t *testing.T) {
	const empty = "-ERR script key is empty"
	cases := []struct {
		h          Handler
		line, want string
	}{
		{ScriptGet, "AI.SCRIPTGET", "-ARITY"},
		{ScriptGet, "AI.SCRIPTGET sc META SOURCE x", "-ARITY"},
		{ScriptGet, "AI.SCRIPTGET nope", empty},
		{ScriptGet, "AI.SCRIPTGET nope SOURCE", empty},
		{ScriptGet, "AI.SCRIPTGET s", wrongType},
		{ScriptGet, "AI.SCRIPTGET t1 SOURCE", wrongType},
		{ScriptGet, "AI.SCRIPTGET m META", wrongType},
		{ScriptDel, "AI.SCRIPTDEL", "-ARITY"},
		{ScriptDel, "AI.SCRIPTDEL sc x", "-ARITY"},
		{ScriptDel, "AI.SCRIPTDEL nope", empty},
		{ScriptDel, "AI.SCRIPTDEL s", wrongType},
		{ScriptDel, "AI.SCRIPTDEL t1", wrongType},
		{ScriptDel, "AI.SCRIPTDEL m", wrongType},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, c.h, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		scriptsUnchanged(t, c.line, ks, rt, before)
	}
}

func TestScriptDel(t *testing.T) {
	ks, rt := scriptFixture(t)
	c := ks.scripts["sc"].compiled.(*fakeCompiled)
	if got := runAI(ks, rt, ScriptDel, "AI.SCRIPTDEL sc"); got != "+OK" {
		t.Fatal(got)
	}
	if ks.scripts["sc"] != nil || ks.deletes != 1 || ks.replicated != 1 || c.closed != 1 {
		t.Errorf("after SCRIPTDEL: script %v, deletes %d, replicated %d, closed %d", ks.scripts["sc"], ks.deletes, ks.replicated, c.closed)
	}
	if ks.scripts["old"] == nil || ks.models["m"] == nil {
		t.Errorf("SCRIPTDEL removed another key")
	}
	if got := runAI(ks, rt, ScriptDel, "AI.SCRIPTDEL sc"); got != "-ERR script key is empty" {
		t.Errorf("second SCRIPTDEL: %s", got)
	}
}

// Every error of AI.SCRIPTEXECUTE in the spec's order (§1.3): nothing is run, written or replicated.
func TestScriptExecuteErrors(t *testing.T) {
	const (
		arity       = "-ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"
		first       = "-ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"
		keysMissing = "-ERR Missing arguments after KEYS keyword"
		keysCount   = "-ERR Invalid or negative value found in number of KEYS"
		keysNumber  = "-ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments"
		noCount     = "-ERR Invalid arguments provided to AI.SCRIPTEXECUTE"
		timeoutVal  = "-ERR Invalid value for TIMEOUT"
	)
	cases := []struct{ line, want string }{
		{"AI.SCRIPTEXECUTE", arity},
		{"AI.SCRIPTEXECUTE sc", arity},
		{"AI.SCRIPTEXECUTE nope bar", "-ERR script key is empty"},
		{"AI.SCRIPTEXECUTE nope bar KEYS 1 a", "-ERR script key is empty"},
		{"AI.SCRIPTEXECUTE nope bar FOO", "-ERR script key is empty"},
		{"AI.SCRIPTEXECUTE t1 bar KEYS 1 a", wrongType},
		{"AI.SCRIPTEXECUTE m bar INPUTS 1 t1", wrongType},
		{"AI.SCRIPTEXECUTE s bar", wrongType},
		{"AI.SCRIPTEXECUTE sc bar", first},
		{"AI.SCRIPTEXECUTE sc bar OUTPUTS 2 a a", first},
		{"AI.SCRIPTEXECUTE sc bar ARGS 1 a", first},
		{"AI.SCRIPTEXECUTE sc bar TIMEOUT 5", first},
		{"AI.SCRIPTEXECUTE sc bar FOO", first},
		{"AI.SCRIPTEXECUTE sc bar KEYS", keysMissing},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1", keysMissing},
		{"AI.SCRIPTEXECUTE sc bar KEYS not_number key", keysCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS 0 a", keysCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS -1 a", keysCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS 2 key", keysNumber},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 KEYS", keysMissing},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 KEYS x y", keysCount},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 KEYS 3 a b", keysNumber},
		{"AI.SCRIPTEXECUTE sc bar INPUTS", noCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a INPUTS", noCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a ARGS", noCount},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a OUTPUTS", noCount},
		{"AI.SCRIPTEXECUTE sc bar INPUTS x t1", "-ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS -1 t1", "-ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a ARGS x", "-ERR Invalid argument for keys count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a ARGS -2 x", "-ERR Invalid argument for keys count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a OUTPUTS y", "-ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a OUTPUTS 1.0 o", "-ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 3 t1 t2", "-ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 9223372036854775807 t1", "-ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a ARGS 2 x", "-ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a OUTPUTS 2 o", "-ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a KEYS 1 b", "-ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a INPUTS 0 keys", "-ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 INPUTS 1 t2", "-ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 INPUTS x", "-ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a ARGS 0 ARGS 0", "-ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 0 OUTPUTS 0 OUTPUTS 1 o", "-ERR Already Encountered OUTPUTS scope in AI.SCRIPTEXECUTE command"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a foo", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: foo"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a INPUTS 1 t1 t2", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: t2"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a LIST_INPUTS 1 x", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: LIST_INPUTS"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a INPUTS_LIST 1 x", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: INPUTS_LIST"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT", "-ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT 0", timeoutVal},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT -5", timeoutVal},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT x", timeoutVal},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT 1.5", timeoutVal},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT 5 OUTPUTS 1 o", "-ERR Encountered problem parsing AI.SCRIPTEXECUTE"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 a TIMEOUT 5 TIMEOUT 5", "-ERR Encountered problem parsing AI.SCRIPTEXECUTE"},
		// The grammar is checked before any tensor is read.
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 nope TIMEOUT 0", timeoutVal},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 s OUTPUTS 1 o foo", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: foo"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 nope", "-ERR tensor key is empty or in a different shard"},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 t1 INPUTS 2 t1 nope OUTPUTS 1 o", "-ERR tensor key is empty or in a different shard"},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 2 t1 s", wrongType},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 m", wrongType},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 old", wrongType},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, ScriptExecute, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		scriptsUnchanged(t, c.line, ks, rt, before)
	}
}

// Every error of the deprecated AI.SCRIPTRUN (§1.3).
func TestScriptRunErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.SCRIPTRUN", "-ERR wrong number of arguments for 'AI.SCRIPTRUN' command"},
		{"AI.SCRIPTRUN sc", "-ERR wrong number of arguments for 'AI.SCRIPTRUN' command"},
		{"AI.SCRIPTRUN nope bar INPUTS t1", "-ERR script key is empty"},
		{"AI.SCRIPTRUN nope bar FOO", "-ERR script key is empty"},
		{"AI.SCRIPTRUN t1 bar", wrongType},
		{"AI.SCRIPTRUN m bar INPUTS t1", wrongType},
		{"AI.SCRIPTRUN sc bar TIMEOUT 5 TIMEOUT 6 INPUTS t1", "-ERR Already encountered an TIMEOUT section in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 TIMEOUT 5 OUTPUTS o TIMEOUT 5", "-ERR Already encountered an TIMEOUT section in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar TIMEOUT", "-ERR Invalid value for TIMEOUT"},
		{"AI.SCRIPTRUN sc bar TIMEOUT 0 INPUTS t1", "-ERR Invalid value for TIMEOUT"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 TIMEOUT x", "-ERR Invalid value for TIMEOUT"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 OUTPUTS o INPUTS t2", "-ERR Already encountered an INPUTS section in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar OUTPUTS o INPUTS t1", "-ERR Already encountered an INPUTS section in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 INPUTS t2", "-ERR Already encountered an INPUTS keyword in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar INPUTS INPUTS", "-ERR Already encountered an INPUTS keyword in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar OUTPUTS o OUTPUTS p", "-ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 OUTPUTS o outputs", "-ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar $ t1", "-ERR Encountered a variable size list of tensors outside of input section"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 OUTPUTS $ o", "-ERR Encountered a variable size list of tensors outside of input section"},
		{"AI.SCRIPTRUN sc bar INPUTS $ t1 $ t2", "-ERR Already encountered a variable size list of tensors"},
		{"AI.SCRIPTRUN sc bar t1", "-ERR Unrecongnized parameter to SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar TIMEOUT 5 t1 INPUTS t2", "-ERR Unrecongnized parameter to SCRIPTRUN"},
		// The grammar is checked before any tensor is read.
		{"AI.SCRIPTRUN sc bar INPUTS nope INPUTS", "-ERR Already encountered an INPUTS keyword in SCRIPTRUN"},
		{"AI.SCRIPTRUN sc bar INPUTS nope OUTPUTS o", "-ERR tensor key is empty or in a different shard"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 $ t2 nope", "-ERR tensor key is empty or in a different shard"},
		{"AI.SCRIPTRUN sc bar INPUTS s OUTPUTS o", wrongType},
		{"AI.SCRIPTRUN sc bar INPUTS sc", wrongType},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, ScriptRun, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		scriptsUnchanged(t, c.line, ks, rt, before)
	}
}

// SCRIPTEXECUTE hands the runtime the script, the function, the input tensors as stored, and the
// keys, args and output keys in order; the handler itself replies nothing.
func TestScriptExecute(t *testing.T) {
	cases := []struct {
		line, script, function string
		inputs                 []string
		keys, params, outputs  []string
		timeout                time.Duration
	}{
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 k INPUTS 2 t1 t2 ARGS 2 1 x OUTPUTS 1 o TIMEOUT 100", "sc", "bar",
			[]string{"t1", "t2"}, []string{"k"}, []string{"1", "x"}, []string{"o"}, 100 * time.Millisecond},
		{"AI.SCRIPTEXECUTE sc baz inputs 1 t1 outputs 2 o p args 1 a keys 2 k l", "sc", "baz",
			[]string{"t1"}, []string{"k", "l"}, []string{"a"}, []string{"o", "p"}, 0},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 0", "sc", "bar", nil, nil, nil, nil, 0},
		{"AI.SCRIPTEXECUTE sc bar KEYS 1 k", "sc", "bar", nil, []string{"k"}, nil, nil, 0},
		{"AI.SCRIPTEXECUTE sc bar INPUTS 2 t1 t1 OUTPUTS 0 ARGS 0 TIMEOUT 60000000", "sc", "bar",
			[]string{"t1", "t1"}, nil, nil, nil, 60000 * time.Second},
		// Names may be keywords; the function is not checked here (the backend does).
		{"AI.SCRIPTEXECUTE sc TIMEOUT INPUTS 1 t1 ARGS 2 KEYS TIMEOUT OUTPUTS 1 INPUTS", "sc", "TIMEOUT",
			[]string{"t1"}, nil, []string{"KEYS", "TIMEOUT"}, []string{"INPUTS"}, 0},
		{"AI.SCRIPTEXECUTE old foo INPUTS 2 t2 t1 OUTPUTS 1 {a}\\0o TIMEOUT 9223372036854775807", "old", "foo",
			[]string{"t2", "t1"}, nil, nil, []string{"{a}\x00o"}, math.MaxInt64},
		// The output may be an existing tensor, or a key of another type (the runtime's concern
		// when it writes the outputs).
		{"AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 OUTPUTS 2 t1 s", "sc", "bar", []string{"t1"}, nil, nil, []string{"t1", "s"}, 0},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		if got := runAI(ks, rt, ScriptExecute, c.line); got != "" {
			t.Errorf("%s: replied %s", c.line, got)
			continue
		}
		if len(rt.scriptsExecuted) != 1 {
			t.Errorf("%s: executed %d times", c.line, len(rt.scriptsExecuted))
			continue
		}
		e := rt.scriptsExecuted[0]
		if s, ok := e.script.(*fakeScript); !ok || s != ks.scripts[c.script] || e.function != c.function {
			t.Errorf("%s: ran %v %q", c.line, e.script, e.function)
		}
		if len(e.inputPtrs) != len(c.inputs) {
			t.Errorf("%s: %d inputs", c.line, len(e.inputPtrs))
		} else {
			for i, k := range c.inputs {
				if e.inputPtrs[i].Pointer() != ks.tensors[k].Pointer() {
					t.Errorf("%s: input %d is not the tensor at %s", c.line, i, k)
				}
			}
		}
		if !slices.Equal(e.keys, c.keys) || !slices.Equal(e.args, c.params) || !slices.Equal(e.outputKeys, c.outputs) || e.timeout != c.timeout {
			t.Errorf("%s: keys %q args %q outputs %q timeout %v", c.line, e.keys, e.args, e.outputKeys, e.timeout)
		}
		rt.scriptsExecuted = nil
		scriptsUnchanged(t, c.line, ks, rt, before)
	}

	// The runtime's own refusal (a transaction, say) is sent as it is.
	for _, c := range []struct {
		h    Handler
		line string
	}{{ScriptExecute, "AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 OUTPUTS 1 o"}, {ScriptRun, "AI.SCRIPTRUN sc bar INPUTS t1 OUTPUTS o"}} {
		ks, rt := scriptFixture(t)
		rt.execErr = errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")
		if got := runAI(ks, rt, c.h, c.line); got != "-"+rt.execErr.Error() {
			t.Errorf("%s: %s", c.line, got)
		}
	}
}

// SCRIPTRUN gives the runtime what the equivalent SCRIPTEXECUTE gives: inputs and outputs only,
// `$` dropped, TIMEOUT wherever it stands.
func TestScriptRunAsScriptExecute(t *testing.T) {
	cases := []struct{ run, execute string }{
		{"AI.SCRIPTRUN sc bar INPUTS t1 t2 OUTPUTS o", "AI.SCRIPTEXECUTE sc bar INPUTS 2 t1 t2 OUTPUTS 1 o"},
		{"AI.SCRIPTRUN sc bar TIMEOUT 5 INPUTS t1 $ t2 t1 OUTPUTS o p", "AI.SCRIPTEXECUTE sc bar INPUTS 3 t1 t2 t1 OUTPUTS 2 o p TIMEOUT 5"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 TIMEOUT 7 t2", "AI.SCRIPTEXECUTE sc bar INPUTS 2 t1 t2 TIMEOUT 7"},
		{"AI.SCRIPTRUN sc bar INPUTS t1 OUTPUTS o TIMEOUT 7", "AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 OUTPUTS 1 o TIMEOUT 7"},
		{"AI.SCRIPTRUN sc bar inputs $ t1 outputs", "AI.SCRIPTEXECUTE sc bar INPUTS 1 t1"},
		{"AI.SCRIPTRUN sc bar INPUTS $", "AI.SCRIPTEXECUTE sc bar INPUTS 0"},
		{"AI.SCRIPTRUN sc bar", "AI.SCRIPTEXECUTE sc bar INPUTS 0"},
		{"AI.SCRIPTRUN sc bar OUTPUTS o", "AI.SCRIPTEXECUTE sc bar INPUTS 0 OUTPUTS 1 o"},
		{"AI.SCRIPTRUN old foo INPUTS t1 t2 OUTPUTS KEYS ARGS", "AI.SCRIPTEXECUTE old foo INPUTS 2 t1 t2 OUTPUTS 2 KEYS ARGS"},
		{"AI.SCRIPTRUN sc TIMEOUT INPUTS t1", "AI.SCRIPTEXECUTE sc TIMEOUT INPUTS 1 t1"},
	}
	for _, c := range cases {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		got1, got2 := runAI(ks, rt, ScriptRun, c.run), runAI(ks, rt, ScriptExecute, c.execute)
		if got1 != "" || got2 != "" || len(rt.scriptsExecuted) != 2 {
			t.Errorf("%s: %s; %s: %s; %d runs", c.run, got1, c.execute, got2, len(rt.scriptsExecuted))
			continue
		}
		if !reflect.DeepEqual(rt.scriptsExecuted[0], rt.scriptsExecuted[1]) {
			t.Errorf("%s: ran %+v\nSCRIPTEXECUTE runs %+v", c.run, rt.scriptsExecuted[0], rt.scriptsExecuted[1])
		}
		rt.scriptsExecuted = nil
		scriptsUnchanged(t, c.run, ks, rt, before)
	}
}

func TestScriptKeys(t *testing.T) {
	cases := []struct {
		keys func([][]byte) []KeyArg
		line string
	}{
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar KEYS 1 +k INPUTS 2 +a +b ARGS 2 x y OUTPUTS 1 !o TIMEOUT 5"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar outputs 1 !o inputs 1 +a"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar ARGS 1 x KEYS 2 +k +l"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS 0 OUTPUTS 1 !o"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS 1 +a foo KEYS 1 k"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS 3 a b"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS -1 a"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS 1 +a OUTPUTS"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar INPUTS 9223372036854775807 a"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc bar"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE +sc"},
		{ScriptExecuteKeys, "AI.SCRIPTEXECUTE"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar INPUTS +a $ +b +c OUTPUTS !o"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar TIMEOUT 5 INPUTS +a OUTPUTS !o !p"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar inputs +a TIMEOUT 5 +b"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar x INPUTS +a"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar INPUTS +a TIMEOUT"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc bar"},
		{ScriptRunKeys, "AI.SCRIPTRUN +sc"},
		{ScriptRunKeys, "AI.SCRIPTRUN"},
	}
	for _, c := range cases {
		checkMarkedKeys(t, c.line, c.keys)
	}
}

func TestScriptScan(t *testing.T) {
	ks, rt := scriptFixture(t)
	if got := runAI(ks, rt, ScriptScan, "AI._SCRIPTSCAN"); got != "*0" {
		t.Errorf("empty: %s", got)
	}
	rt.stats.Register(stats.Entry{Key: "sc", IsScript: true, Backend: "TORCH", Device: "CPU", Tag: "v1"})
	rt.stats.Register(stats.Entry{Key: "m", Backend: "TF", Device: "CPU", Tag: "x"})
	if got := runAI(ks, rt, ScriptScan, "AI._SCRIPTSCAN"); got != `*1 *2 $"sc" $"v1"` {
		t.Errorf("one script: %s", got)
	}
	rt.stats.Register(stats.Entry{Key: "old", IsScript: true, Backend: "TORCH", Device: "gpu:0"})
	if got := runAI(ks, rt, ScriptScan, "AI._SCRIPTSCAN"); got != `*2 *2 $"old" $"" *2 $"sc" $"v1"` {
		t.Errorf("two scripts: %s", got)
	}
	if got := runAI(ks, rt, ModelScan, "AI._MODELSCAN"); got != `*1 *2 $"m" $"x"` {
		t.Errorf("models: %s", got)
	}
	if got := runAI(ks, rt, ScriptScan, "AI._SCRIPTSCAN x"); got != "-ARITY" {
		t.Errorf("arity: %s", got)
	}
	if ks.replicated != 0 {
		t.Errorf("replicated")
	}
}

// FuzzScriptStoreArgs runs AI.SCRIPTSTORE and AI.SCRIPTSET on "key device ..." with a runtime that
// never fails.
func FuzzScriptStoreArgs(f *testing.F) {
	for _, s := range []string{
		"", "k CPU ENTRY_POINTS 1 bar SOURCE src", "k CPU SOURCE src", "k gpu TAG t SOURCE src",
		"k CPU TAG t ENTRY_POINTS 2 bar baz SOURCE src", "s CPU ENTRY_POINTS 1 bar SOURCE x",
		"t1 CPU SOURCE x", "k CPU ENTRY_POINTS -1 bar SOURCE x", "k CPU ENTRY_POINTS 9223372036854775807 a SOURCE x",
		"k CPU ENTRY_POINTS 0 SOURCE x y", "k CPU TAG ENTRY_POINTS ENTRY_POINTS 1 SOURCE SOURCE SOURCE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, name := range []string{"AI.SCRIPTSTORE", "AI.SCRIPTSET"} {
			h := ScriptStore
			if name == "AI.SCRIPTSET" {
				h = ScriptSet
			}
			ks, rt := newFakeKeyspace(), newFakeRuntime()
			ks.other["s"] = true
			a := fuzzArgs(name, line)
			var r textReply
			err := call(h, Env{Keys: ks, Out: &r, Runtime: rt}, a)
			if err != nil {
				if len(r.parts) != 0 {
					t.Fatalf("%s %q: error %q after %s", name, line, err, r.String())
				}
				if ks.scriptSets != 0 || ks.replicated != 0 || len(ks.scripts) != 0 {
					t.Fatalf("%s %q: error %q after a write", name, line, err)
				}
				for _, c := range rt.compiled {
					if c.closed != 1 {
						t.Fatalf("%s %q: error %q, script closed %d times", name, line, err, c.closed)
					}
				}
				continue
			}
			if r.String() != "+OK" || len(rt.scriptsOpened) != 1 || ks.scriptSets != 1 || ks.replicated != 1 {
				t.Fatalf("%s %q: reply %s, %d opens, %d sets, %d replications", name, line, r.String(), len(rt.scriptsOpened), ks.scriptSets, ks.replicated)
			}
			open := rt.scriptsOpened[0]
			if open.meta.Device != string(deviceString(a[2])) {
				t.Fatalf("%s %q: device %q", name, line, open.meta.Device)
			}
			if name == "AI.SCRIPTSET" && open.meta.EntryPoints != nil ||
				name == "AI.SCRIPTSTORE" && (open.meta.EntryPoints == nil || len(open.meta.EntryPoints) > len(a)-7) {
				t.Fatalf("%s %q: entry points %q", name, line, open.meta.EntryPoints)
			}
			// The source is the argument after a SOURCE.
			found := false
			for i := range a {
				if is(a[i], "SOURCE") && i+1 < len(a) && bytes.Equal(a[i+1], open.source) {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s %q: source %q", name, line, open.source)
			}
			if s := ks.scripts[string(a[1])]; s == nil || s.compiled != rt.compiled[0] || !bytes.Equal(s.source, open.source) {
				t.Fatalf("%s %q: stored %+v", name, line, s)
			}
		}
	})
}

// FuzzScriptExecuteArgs runs AI.SCRIPTEXECUTE and AI.SCRIPTRUN on "key ..." against the fixture's
// scripts and tensors, with a runtime that never fails, and checks the key positions.
func FuzzScriptExecuteArgs(f *testing.F) {
	for _, s := range []string{
		"", "sc", "sc bar", "sc bar KEYS 1 k INPUTS 2 t1 t2 ARGS 1 x OUTPUTS 1 o TIMEOUT 5",
		"sc bar INPUTS 1 t1 OUTPUTS 2 o p", "sc bar KEYS 2 a", "sc bar INPUTS -1 t1", "sc bar INPUTS 1 t1 TIMEOUT",
		"sc bar INPUTS 9223372036854775807 a", "sc bar INPUTS t1 $ t2 OUTPUTS o", "old foo TIMEOUT 5 INPUTS t1 t2 OUTPUTS o",
		"sc bar INPUTS 1 t1 TIMEOUT 9223372036854775807", "sc bar INPUTS $ $", "m bar INPUTS 1 t1", "sc bar INPUTS 1 nope",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ks, rt := scriptFixture(t)
		before := scriptMaps(ks.scripts)
		for _, name := range []string{"AI.SCRIPTEXECUTE", "AI.SCRIPTRUN"} {
			h, keys := ScriptExecute, ScriptExecuteKeys
			if name == "AI.SCRIPTRUN" {
				h, keys = ScriptRun, ScriptRunKeys
			}
			rt.scriptsExecuted = nil
			a := fuzzArgs(name, line)
			positions := keys(a)
			checkKeys(t, name, a, positions)
			var r textReply
			err := call(h, Env{Keys: ks, Out: &r, Runtime: rt}, a)
			if len(r.parts) != 0 {
				t.Fatalf("%s %q: the handler replied %s (error %v)", name, line, r.String(), err)
			}
			if ks.replicated != 0 || ks.scriptSets != 0 || ks.deletes != 0 || !reflect.DeepEqual(ks.scripts, before) {
				t.Fatalf("%s %q: the keyspace changed", name, line)
			}
			if err != nil {
				if len(rt.scriptsExecuted) != 0 {
					t.Fatalf("%s %q: executed, then error %q", name, line, err)
				}
				continue
			}
			if len(rt.scriptsExecuted) != 1 {
				t.Fatalf("%s %q: executed %d times", name, line, len(rt.scriptsExecuted))
			}
			e := rt.scriptsExecuted[0]
			if e.script != Script(ks.scripts[string(a[1])]) || e.function != string(a[2]) || e.timeout < 0 {
				t.Fatalf("%s %q: ran %v %q timeout %v", name, line, e.script, e.function, e.timeout)
			}
			for _, in := range e.inputPtrs {
				if in.IsZero() {
					t.Fatalf("%s %q: an empty input", name, line)
				}
			}
			if name == "AI.SCRIPTRUN" && (len(e.keys) != 0 || len(e.args) != 0) {
				t.Fatalf("%s %q: keys %q args %q", name, line, e.keys, e.args)
			}
			if want := 1 + len(e.keys) + len(e.inputs) + len(e.outputKeys); len(positions) != want {
				t.Fatalf("%s %q: keys %v for %d keys, %d inputs and %d outputs", name, line, positions, len(e.keys), len(e.inputs), len(e.outputKeys))
			}
		}
	})
}
