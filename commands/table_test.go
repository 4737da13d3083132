package commands

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorai/exec"
	"gorai/stats"
)

// handlerFor is the handler the module runs for a command name.
func handlerFor(name string) Handler {
	return map[string]Handler{
		"ai.modelstore": ModelStore, "ai.modelset": ModelSet, "ai.modelget": ModelGet, "ai.modeldel": ModelDel,
		"ai.modelexecute": ModelExecute, "ai.modelrun": ModelRun, "ai._modelscan": ModelScan,
		"ai.scriptstore": ScriptStore, "ai.scriptset": ScriptSet, "ai.scriptget": ScriptGet, "ai.scriptdel": ScriptDel,
		"ai.scriptexecute": ScriptExecute, "ai.scriptrun": ScriptRun, "ai._scriptscan": ScriptScan,
		"ai.dagexecute": DAGExecute, "ai.dagexecute_ro": DAGExecuteRO, "ai.dagrun": DAGRun, "ai.dagrun_ro": DAGRunRO,
		"ai.info": Info, "ai.config": ConfigCommand,
	}[strings.ToLower(name)]
}

// wrongArity lists, for every command, argument counts it refuses before reading anything, and the
// exact reply of each ("-ARITY": Redis' own wrong-arity error, naming the command).
var wrongArity = []struct {
	lines []string
	want  string
}{
	{[]string{"AI.MODELSTORE", "AI.MODELSTORE m", "AI.MODELSTORE m TORCH CPU BLOB"}, "-ARITY"},
	{[]string{"AI.MODELSET", "AI.MODELSET m", "AI.MODELSET m TORCH"}, "-ARITY"},
	{[]string{"AI.MODELGET", "AI.MODELGET m META BLOB x"}, "-ARITY"},
	{[]string{"AI.MODELDEL", "AI.MODELDEL m x"}, "-ARITY"},
	{[]string{"AI.MODELEXECUTE", "AI.MODELEXECUTE m", "AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1"},
		"-ERR wrong number of arguments for 'AI.MODELEXECUTE' command"},
	{[]string{"AI.MODELRUN", "AI.MODELRUN m", "AI.MODELRUN m INPUTS x OUTPUTS"},
		"-ERR wrong number of arguments for 'AI.MODELRUN' command"},
	{[]string{"AI._MODELSCAN x", "AI._MODELSCAN x y"}, "-ARITY"},
	{[]string{"AI.SCRIPTSTORE", "AI.SCRIPTSTORE k", "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar SOURCE"}, "-ARITY"},
	{[]string{"AI.SCRIPTSET", "AI.SCRIPTSET k CPU SOURCE", "AI.SCRIPTSET k CPU TAG t SOURCE", "AI.SCRIPTSET k CPU TAG t SOURCE x y"}, "-ARITY"},
	{[]string{"AI.SCRIPTGET", "AI.SCRIPTGET s META SOURCE x"}, "-ARITY"},
	{[]string{"AI.SCRIPTDEL", "AI.SCRIPTDEL s x"}, "-ARITY"},
	{[]string{"AI.SCRIPTEXECUTE", "AI.SCRIPTEXECUTE s"}, "-ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"},
	{[]string{"AI.SCRIPTRUN", "AI.SCRIPTRUN s"}, "-ERR wrong number of arguments for 'AI.SCRIPTRUN' command"},
	{[]string{"AI._SCRIPTSCAN x", "AI._SCRIPTSCAN x y"}, "-ARITY"},
	{[]string{"AI.DAGEXECUTE", "AI.DAGEXECUTE LOAD", "AI.DAGEXECUTE LOAD 1 a |>"},
		"-ERR missing arguments for 'AI.DAGEXECUTE' command"},
	{[]string{"AI.DAGEXECUTE_RO", "AI.DAGEXECUTE_RO ROUTING r |> AI.TENSORGET"},
		"-ERR missing arguments for 'AI.DAGEXECUTE_RO' command"},
	{[]string{"AI.DAGRUN", "AI.DAGRUN |>", "AI.DAGRUN |> AI.TENSORGET"},
		"-ERR wrong number of arguments for 'AI.DAGRUN' command"},
	{[]string{"AI.DAGRUN_RO", "AI.DAGRUN_RO |> AI.TENSORGET"},
		"-ERR wrong number of arguments for 'AI.DAGRUN_RO' command"},
	{[]string{"AI.INFO", "AI.INFO m RESETSTAT x"}, "-ARITY"},
	{[]string{"AI.CONFIG"}, "-ARITY"},
}

// Every command refuses a wrong number of arguments with exactly RedisAI's text (Redis' own, or the
// command's), checked before a key is read. The commands run in C are checked against a server
// (tests/tensor_test.go).
func TestWrongArity(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range wrongArity {
		for _, line := range c.lines {
			name, _, _ := strings.Cut(line, " ")
			seen[strings.ToLower(name)] = true
			h := handlerFor(name)
			if h == nil {
				t.Fatalf("%s: no such command", name)
			}
			if got := runAI(newFakeKeyspace(), newFakeRuntime(), h, line); got != c.want {
				t.Errorf("%q: got %q, want %q", line, got, c.want)
			}
			// Lower case, as a client may send it: the same text (RedisAI's name its own texts
			// in upper case).
			if got := runAI(newFakeKeyspace(), newFakeRuntime(), h, strings.Replace(line, name, strings.ToLower(name), 1)); got != c.want {
				t.Errorf("%q in lower case: got %q, want %q", line, got, c.want)
			}
		}
	}
	for _, name := range allCommandNames {
		if !seen[name] && !Lookup(name).InC {
			t.Errorf("%s: no wrong-arity case", name)
		}
	}
}

var allCommandNames = []string{
	"ai.tensorset", "ai.tensorget", "ai.modelstore", "ai.modelset", "ai.modelget", "ai.modeldel",
	"ai.modelexecute", "ai.modelrun", "ai._modelscan", "ai.scriptstore", "ai.scriptset", "ai.scriptget",
	"ai.scriptdel", "ai.scriptexecute", "ai.scriptrun", "ai._scriptscan", "ai.dagexecute",
	"ai.dagexecute_ro", "ai.dagrun", "ai.dagrun_ro", "ai.info", "ai.config",
}

// Inside MULTI or a script the execution commands refuse before they count their arguments; the
// others count them as anywhere else.
func TestWrongArityInTransaction(t *testing.T) {
	tx := errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")
	executes := map[string]bool{
		"ai.modelexecute": true, "ai.modelrun": true, "ai.scriptexecute": true, "ai.scriptrun": true,
		"ai.dagexecute": true, "ai.dagexecute_ro": true, "ai.dagrun": true, "ai.dagrun_ro": true,
	}
	for _, c := range wrongArity {
		for _, line := range c.lines {
			name, _, _ := strings.Cut(line, " ")
			want := c.want
			if executes[strings.ToLower(name)] {
				want = "-" + tx.Error()
			}
			rt := newFakeRuntime()
			rt.txErr = tx
			if got := runAI(newFakeKeyspace(), rt, handlerFor(name), line); got != want {
				t.Errorf("%q: got %q, want %q", line, got, want)
			}
		}
	}
}

// The table lists every command once, in its slot order, with its handler (none for a command run
// in C); a command is "getkeys-api" exactly when it has a key finder.
func TestCommandTable(t *testing.T) {
	if len(Commands) != len(allCommandNames) {
		t.Fatalf("%d commands, want %d", len(Commands), len(allCommandNames))
	}
	for i, c := range Commands {
		if c.Name != allCommandNames[i] {
			t.Errorf("slot %d: %s, want %s", i, c.Name, allCommandNames[i])
		}
		if Lookup(strings.ToUpper(c.Name)) != &Commands[i] {
			t.Errorf("%s: Lookup finds another entry", c.Name)
		}
		if c.InC != (c.Handler == nil) || !c.InC && reflect.ValueOf(c.Handler).Pointer() != reflect.ValueOf(handlerFor(c.Name)).Pointer() {
			t.Errorf("%s: another handler", c.Name)
		}
		if strings.Contains(c.Flags, "getkeys-api") != (c.Keys != nil) {
			t.Errorf("%s: flags %q, key finder %v", c.Name, c.Flags, c.Keys != nil)
		}
		if c.Keys == nil && c.FirstKey != 0 && (c.FirstKey != 1 || c.LastKey != 1 || c.KeyStep != 1) {
			t.Errorf("%s: keys %d %d %d", c.Name, c.FirstKey, c.LastKey, c.KeyStep)
		}
		if c.Arity >= 0 && c.MaxArgs != 0 || c.MaxArgs != 0 && c.MaxArgs < -c.Arity {
			t.Errorf("%s: arity %d, at most %d", c.Name, c.Arity, c.MaxArgs)
		}
	}
	if Lookup("ai.nope") != nil {
		t.Error("Lookup found ai.nope")
	}
}

// For a valid call of each command, the keys Redis is told of (the key finder's, or the
// first/last/step positions with their use) cover every key the handler reads, writes or hands to
// the runtime to read or write.
func TestCommandTableKeys(t *testing.T) {
	for _, line := range []string{
		"AI.MODELSTORE n TORCH CPU BLOB x",
		"AI.MODELSET n TORCH CPU BLOB x",
		"AI.MODELGET m META",
		"AI.MODELDEL m1",
		"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 5",
		"AI.MODELRUN m TIMEOUT 5 INPUTS t1 t2 OUTPUTS o",
		"AI._MODELSCAN",
		"AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar SOURCE src",
		"AI.SCRIPTSET k CPU TAG t SOURCE src",
		"AI.SCRIPTGET sc META",
		"AI.SCRIPTDEL old",
		"AI.SCRIPTEXECUTE sc bar KEYS 1 k INPUTS 2 t1 t2 ARGS 1 x OUTPUTS 1 o TIMEOUT 5",
		"AI.SCRIPTRUN old foo INPUTS t1 $ t2 OUTPUTS o",
		"AI._SCRIPTSCAN",
		"AI.DAGEXECUTE LOAD 1 t1 PERSIST 1 o |> AI.SCRIPTEXECUTE sc bar KEYS 1 k INPUTS 1 t1 OUTPUTS 1 o",
		"AI.DAGEXECUTE_RO LOAD 1 t1 ROUTING r |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o",
		"AI.DAGRUN LOAD 1 t1 PERSIST 1 o |> AI.MODELRUN m1 INPUTS t1 OUTPUTS o",
		"AI.DAGRUN_RO LOAD 1 t1 |> AI.TENSORGET t1 VALUES",
		"AI.INFO m",
		"AI.CONFIG GET BACKENDSPATH",
	} {
		ks, rt, _ := dagFixture(t)
		ks.models["m"].exec = &exec.ModelSession{Stats: rt.stats.Register(stats.Entry{Key: "m", Backend: "TF", Device: "cpu"})}
		ks.read, ks.written = nil, nil
		a := args(line)
		c := Lookup(string(a[0]))
		var r textReply
		if err := c.Run(Env{Keys: ks, Out: &r, Runtime: rt}, a); err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		reported := map[string][]KeyUse{}
		if c.Keys != nil {
			for _, k := range c.Keys(a) {
				reported[string(a[k.Pos])] = append(reported[string(a[k.Pos])], k.Use)
			}
		} else if c.FirstKey > 0 {
			for i := c.FirstKey; i <= c.LastKey; i += c.KeyStep {
				reported[string(a[i])] = append(reported[string(a[i])], c.Use)
			}
		}
		has := func(key string, uses ...KeyUse) bool {
			for _, u := range reported[key] {
				if slices.Contains(uses, u) {
					return true
				}
			}
			return false
		}
		for _, k := range ks.read {
			if !has(k, KeyRead, KeyWrite, KeyDelete) {
				t.Errorf("%s: reads %q, reported %v", line, k, reported)
			}
		}
		for _, k := range ks.written {
			if !has(k, KeyWrite, KeyDelete) {
				t.Errorf("%s: writes %q, reported %v", line, k, reported)
			}
		}
		var runReads, runWrites []string
		for _, e := range rt.executed {
			runWrites = append(runWrites, e.outputKeys...)
		}
		for _, e := range rt.scriptsExecuted {
			runReads, runWrites = append(runReads, e.keys...), append(runWrites, e.outputKeys...)
		}
		for _, p := range rt.dags {
			for _, op := range p.Ops {
				runReads = append(runReads, keyStrings(op.Keys)...)
			}
			for _, ps := range p.Persist {
				runWrites = append(runWrites, string(ps.Key))
			}
		}
		for _, k := range runReads {
			if !has(k, KeyRead) {
				t.Errorf("%s: the run reads %q, reported %v", line, k, reported)
			}
		}
		for _, k := range runWrites {
			if !has(k, KeyWrite) {
				t.Errorf("%s: the run writes %q, reported %v", line, k, reported)
			}
		}
	}
}

// keyStrings is keys as strings, whichever way a plan holds them.
func keyStrings[K string | []byte](keys []K) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// ArgCounts is Arity and MaxArgs as a range.
func TestArgCounts(t *testing.T) {
	for _, c := range []struct {
		arity, max, lo, hi int
	}{{2, 0, 2, 2}, {-4, 0, 4, math.MaxInt32}, {-2, 4, 2, 4}} {
		cmd := Command{Arity: c.arity, MaxArgs: c.max}
		if lo, hi := cmd.ArgCounts(); lo != c.lo || hi != c.hi {
			t.Errorf("arity %d, at most %d: %d..%d, want %d..%d", c.arity, c.max, lo, hi, c.lo, c.hi)
		}
	}
}
