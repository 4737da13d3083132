package commands

import (
	"errors"
	"strings"
	"testing"
)

// handlerFor is the handler the module runs for a command name.
func handlerFor(name string) Handler {
	return map[string]Handler{
		"ai.tensorset": TensorSet, "ai.tensorget": TensorGet,
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
	{[]string{"AI.TENSORSET", "AI.TENSORSET t", "AI.TENSORSET t FLOAT"}, "-ARITY"},
	{[]string{"AI.TENSORGET", "AI.TENSORGET t META BLOB x"}, "-ARITY"},
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
// command's), checked before a key is read.
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
		if !seen[name] {
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
