package commands

import (
	"errors"
	"testing"
)

// Inside MULTI or a script RedisAI refuses every execution command before it looks at a key or an
// argument: a missing model, a wrong count or too few arguments still get the transaction error.
func TestExecutionRefusedInTransactionFirst(t *testing.T) {
	tx := errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")
	for _, c := range []struct {
		h    Handler
		line string
	}{
		{ModelExecute, "AI.MODELEXECUTE no_model INPUTS 1 x OUTPUTS 1 y"},
		{ModelExecute, "AI.MODELEXECUTE"},
		{ModelRun, "AI.MODELRUN no_model INPUTS x OUTPUTS y"},
		{ScriptExecute, "AI.SCRIPTEXECUTE no_script bar KEYS 1 k"},
		{ScriptExecute, "AI.SCRIPTEXECUTE"},
		{ScriptRun, "AI.SCRIPTRUN no_script bar INPUTS x OUTPUTS y"},
		{DAGExecute, "AI.DAGEXECUTE LOAD 1 missing |> AI.TENSORGET missing"},
		{DAGExecuteRO, "AI.DAGEXECUTE_RO"},
		{DAGRun, "AI.DAGRUN |> AI.MODELRUN no_model INPUTS x OUTPUTS y"},
		{DAGRunRO, "AI.DAGRUN_RO LOAD 1 missing |> AI.TENSORGET missing"},
	} {
		rt := newFakeRuntime()
		rt.txErr = tx
		if got := runAI(newFakeKeyspace(), rt, c.h, c.line); got != "-"+tx.Error() {
			t.Errorf("%s: %s", c.line, got)
		}
		if len(rt.executed)+len(rt.scriptsExecuted)+len(rt.dags) != 0 {
			t.Errorf("%s: something was handed to the runtime", c.line)
		}
	}
}
