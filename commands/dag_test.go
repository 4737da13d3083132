package commands

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gorai/exec"
	"gorai/tensor"
)

// dagFixture is scriptFixture (tensors t1 = INT8 [1] {1} and t2 = INT8 [1] {2}; models m (2 inputs,
// 1 output), m1 (1/1), m22 (2/2) and others; scripts sc (entry points) and old (SCRIPTSET); s of
// another type) with a counter of the tensors DAGs build, and the recorded plans released at the end.
func dagFixture(t *testing.T) (*fakeKeyspace, *fakeRuntime, *dagTensorCounter) {
	t.Helper()
	ks, rt := scriptFixture(t)
	c := countDAGTensors(t)
	t.Cleanup(rt.releaseDAGs)
	return ks, rt, c
}

var dagHandlers = map[string]Handler{
	"AI.DAGEXECUTE": DAGExecute, "AI.DAGEXECUTE_RO": DAGExecuteRO, "AI.DAGRUN": DAGRun, "AI.DAGRUN_RO": DAGRunRO,
}

// dagHandler is the handler of the command that starts line (case-insensitive).
func dagHandler(t *testing.T, line string) Handler {
	t.Helper()
	h := dagHandlers[strings.ToUpper(strings.SplitN(line, " ", 2)[0])]
	if h == nil {
		t.Fatalf("no DAG command in %q", line)
	}
	return h
}

// Every error of §5 in the spec's check order: nothing is replied, handed to the runtime, written
// or left allocated.
func TestDAGErrors(t *testing.T) {
	const (
		loadMissing    = "-ERR missing arguments after LOAD keyword in DAG command"
		loadCount      = "-ERR invalid or negative value found in number of keys to LOAD"
		persistCount   = "-ERR invalid or negative value found in number of keys to PERSIST"
		tensorEmpty    = "-ERR tensor key is empty or in a different shard"
		noKeyword      = "-ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords"
		unsupported    = "-Unsupported command within DAG"
		inputNotFound  = "-ERR INPUT key cannot be found in DAG"
		timeoutInDAG   = "-ERR TIMEOUT not allowed within a DAG command"
		invalidTimeout = "-ERR Invalid value for TIMEOUT"
		scriptRO       = "-ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG"
		persistRO      = "-ERR PERSIST cannot be specified in a read-only DAG"
	)
	cases := []struct{ line, want string }{
		// The command's own arity.
		{"AI.DAGEXECUTE LOAD 1 t1 |>", "-ERR missing arguments for 'AI.DAGEXECUTE' command"},
		{"AI.DAGEXECUTE_RO LOAD 1 t1 |>", "-ERR missing arguments for 'AI.DAGEXECUTE_RO' command"},
		{"AI.DAGRUN |> AI.TENSORGET", "-ERR wrong number of arguments for 'AI.DAGRUN' command"},
		{"AI.DAGRUN_RO |> AI.TENSORGET", "-ERR wrong number of arguments for 'AI.DAGRUN_RO' command"},
		// LOAD.
		{"AI.DAGEXECUTE PERSIST 2 no_tensor1 no_tensor2 LOAD 1", loadMissing},
		{"AI.DAGEXECUTE LOAD 0 t1 |> AI.TENSORGET t1", loadCount},
		{"AI.DAGEXECUTE LOAD -1 t1 |> AI.TENSORGET t1", loadCount},
		{"AI.DAGEXECUTE LOAD x t1 |> AI.TENSORGET t1", loadCount},
		{"AI.DAGEXECUTE LOAD 5 t1 t2 t1", "-ERR number of keys to LOAD into DAG does not match the number of given arguments"},
		{"AI.DAGEXECUTE LOAD 9223372036854775807 t1 t2 t1", "-ERR number of keys to LOAD into DAG does not match the number of given arguments"},
		{"AI.DAGEXECUTE LOAD 1 missing |> AI.TENSORGET missing", tensorEmpty},
		{"AI.DAGEXECUTE LOAD 2 t1 nope |> AI.TENSORGET t1", tensorEmpty},
		{"AI.DAGEXECUTE LOAD 1 m |> AI.TENSORGET m", wrongType},
		{"AI.DAGEXECUTE LOAD 1 s |> AI.TENSORGET s", wrongType},
		// As RedisAI, LOAD's keys run over "|>".
		{"AI.DAGEXECUTE LOAD 2 t1 |> AI.TENSORGET t1", tensorEmpty},
		// PERSIST.
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT 5 PERSIST 1", "-ERR missing arguments after PERSIST keyword in DAG command"},
		{"AI.DAGEXECUTE PERSIST 0 a |> AI.TENSORGET a", persistCount},
		{"AI.DAGEXECUTE PERSIST -2 a |> AI.TENSORGET a", persistCount},
		{"AI.DAGEXECUTE PERSIST two a |> AI.TENSORGET a", persistCount},
		{"AI.DAGEXECUTE PERSIST 3 a b a |> AI.TENSORGET a", "-ERR PERSIST keys must be unique"},
		{"AI.DAGEXECUTE PERSIST 5 a a b", "-ERR PERSIST keys must be unique"},
		{"AI.DAGEXECUTE LOAD 1 t1 PERSIST 3 a b", "-ERR number of keys to PERSIST after DAG execution does not match the number of given arguments"},
		{"AI.DAGEXECUTE_RO PERSIST 1 a |> AI.TENSORSET a INT8 1", persistRO},
		{"AI.DAGRUN_RO PERSIST 1 a |> AI.TENSORSET a INT8 1", persistRO},
		{"AI.DAGEXECUTE_RO LOAD 1 nope PERSIST 1 a |> AI.TENSORGET a", tensorEmpty}, // in order
		// ROUTING and TIMEOUT.
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT 5 ROUTING", "-ERR Missing ROUTING value"},
		{"AI.DAGEXECUTE LOAD 1 t1 ROUTING r TIMEOUT", "-ERR No value provided for TIMEOUT"},
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT x |> AI.TENSORGET t1", invalidTimeout},
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT 1.5 |> AI.TENSORGET t1", invalidTimeout},
		// RedisAI lets TIMEOUT ≤ 0 through here (a bug); refused as in the other commands.
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT 0 |> AI.TENSORGET t1", invalidTimeout},
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT -5 |> AI.TENSORGET t1", invalidTimeout},
		// Anything else in the header, a keyword given twice, "|>" at the end.
		{"AI.DAGEXECUTE LOAD 1 t1 FOO |> AI.TENSORGET t1", "-ERR Invalid DAG command. Unexpected argument:  FOO"},
		{"AI.DAGEXECUTE LOAD 1 t1 LOAD 1 t2 |> AI.TENSORGET t1", "-ERR Invalid DAG command. Unexpected argument:  LOAD"},
		{"AI.DAGEXECUTE ROUTING a ROUTING b |> AI.TENSORGET t1", "-ERR Invalid DAG command. Unexpected argument:  ROUTING"},
		{"AI.DAGEXECUTE TIMEOUT 5 TIMEOUT 5 LOAD 1 t1", "-ERR Invalid DAG command. Unexpected argument:  TIMEOUT"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET t1 |>", "-ERR Invalid DAG command. Unexpected argument:  |>"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> |>", "-ERR Invalid DAG command. Unexpected argument:  |>"},
		// At least one of LOAD, PERSIST, ROUTING (DAGEXECUTE only), and at least one op.
		{"AI.DAGEXECUTE TIMEOUT 5 |> AI.TENSORGET t1", noKeyword},
		{"AI.DAGEXECUTE_RO TIMEOUT 5 |> AI.TENSORSET a INT8 1", noKeyword},
		{"AI.DAGEXECUTE LOAD 1 t1 TIMEOUT 5", "-ERR DAG is empty"},
		{"AI.DAGRUN LOAD 1 t1", "-ERR DAG is empty"},
		{"AI.DAGRUN_RO TIMEOUT 5 ROUTING r", "-ERR DAG is empty"},
		// AI.TENSORSET and AI.TENSORGET ops: their parsers, their arity errors without ERR.
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT8", "-wrong number of arguments for 'AI.TENSORSET' command"},
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a", "-wrong number of arguments for 'AI.TENSORSET' command"},
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT9 1", "-ERR invalid data type"},
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT8 0", "-ERR invalid or negative value found in tensor shape"},
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT8 2 VALUES 1", "-ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT8 1 BLOB", "-ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET", "-wrong number of arguments for 'AI.TENSORGET' command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET t1 META BLOB META", "-wrong number of arguments for 'AI.TENSORGET' command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET t1 JSON", "-ERR unsupported data format"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET t1 BLOB VALUES", "-ERR both BLOB and VALUES specified"},
		// AI.MODELEXECUTE ops: AI.MODELEXECUTE's parser and texts, TIMEOUT refused after it.
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1", "-ERR wrong number of arguments for 'AI.MODELEXECUTE' command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE nope INPUTS 1 t1 OUTPUTS 1 o", "-ERR model key is empty"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE t1 INPUTS 1 t1 OUTPUTS 1 o", wrongType},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUT 1 t1 OUTPUTS 1 o", "-ERR INPUTS not specified"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m INPUTS 1 t1 OUTPUTS 1 o", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 2 o p", "-Number of keys given as OUTPUTS here does not match model definition"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o FOO", "-Invalid argument: FOO"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o TIMEOUT", "-ERR No value provided for TIMEOUT"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o TIMEOUT 0", invalidTimeout},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o TIMEOUT 5", timeoutInDAG},
		// AI.SCRIPTEXECUTE ops: AI.SCRIPTEXECUTE's parser and texts (not the KEYS-or-INPUTS-first
		// rule), TIMEOUT refused after it, the op refused in _RO before anything else.
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc", "-ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE nope bar INPUTS 1 t1", "-ERR script key is empty"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE m bar INPUTS 1 t1", wrongType},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc INPUTS 1 t1", "-ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: 1"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 2 t1", "-ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 INPUTS 1 t1", "-ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 TIMEOUT", "-ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 TIMEOUT 5 x", "-ERR Encountered problem parsing AI.SCRIPTEXECUTE"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 TIMEOUT 5", timeoutInDAG},
		{"AI.DAGEXECUTE_RO LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1 OUTPUTS 1 o", scriptRO},
		{"AI.DAGEXECUTE_RO LOAD 1 t1 |> AI.SCRIPTEXECUTE", scriptRO},
		{"AI.DAGEXECUTE_RO LOAD 1 t1 |> ai.scriptexecute nope", scriptRO},
		// The deprecated ops in DAGEXECUTE, the current ones in DAGRUN, and anything else.
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELRUN m1 INPUTS t1 OUTPUTS o", "-Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> ai.scriptrun old foo INPUTS t1 OUTPUTS o", "-Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command"},
		{"AI.DAGEXECUTE_RO LOAD 1 t1 |> AI.MODELRUN", "-Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o", "-AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command"},
		{"AI.DAGRUN LOAD 1 t1 |> Ai.ScriptExecute sc bar INPUTS 1 t1", "-AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command"},
		{"AI.DAGRUN_RO LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 t1", "-AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command"},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORDEL t1", unsupported},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.DAGEXECUTE LOAD 1 t1", unsupported},
		{"AI.DAGEXECUTE LOAD 1 t1 |> |> AI.TENSORGET t1", unsupported},
		{"AI.DAGRUN |> GET t1", unsupported},
		// AI.MODELRUN and AI.SCRIPTRUN ops in DAGRUN: their parsers and texts, TIMEOUT refused after.
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELRUN m1 INPUTS t1", "-ERR wrong number of arguments for 'AI.MODELRUN' command"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELRUN nope INPUTS t1 OUTPUTS o", "-ERR model key is empty"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELRUN m1 INPUTS t1 t1 OUTPUTS o", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELRUN m1 TIMEOUT 0 INPUTS t1 OUTPUTS o", invalidTimeout},
		{"AI.DAGRUN LOAD 1 t1 |> AI.MODELRUN m1 TIMEOUT 5 INPUTS t1 OUTPUTS o", timeoutInDAG},
		{"AI.DAGRUN LOAD 1 t1 |> AI.SCRIPTRUN old", "-ERR wrong number of arguments for 'AI.SCRIPTRUN' command"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.SCRIPTRUN nope foo INPUTS t1 OUTPUTS o", "-ERR script key is empty"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.SCRIPTRUN old foo t1", "-ERR Unrecongnized parameter to SCRIPTRUN"},
		{"AI.DAGRUN LOAD 1 t1 |> AI.SCRIPTRUN old foo INPUTS t1 TIMEOUT 5 OUTPUTS o", timeoutInDAG},
		{"AI.DAGRUN_RO LOAD 1 t1 |> AI.SCRIPTRUN old foo INPUTS t1 TIMEOUT 5 OUTPUTS o", timeoutInDAG},
		// Names, once every op is parsed: an input is LOADed or an earlier op's output (not a key of
		// the keyspace); PERSIST names a LOADed tensor or an op's output.
		{"AI.DAGEXECUTE ROUTING t1 |> AI.TENSORGET t1", inputNotFound},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET t2", inputNotFound},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET a |> AI.TENSORSET a INT8 1", inputNotFound},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o", inputNotFound},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 o OUTPUTS 1 o", inputNotFound},
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.SCRIPTEXECUTE sc bar KEYS 1 t2 INPUTS 2 t1 t2", inputNotFound},
		{"AI.DAGRUN LOAD 1 t1 |> AI.SCRIPTRUN old foo INPUTS t1 $ t2 OUTPUTS o", inputNotFound},
		{"AI.DAGRUN |> AI.MODELRUN m1 INPUTS t1 OUTPUTS o", inputNotFound},
		// A parse error of a later op comes before an unknown name of an earlier one.
		{"AI.DAGEXECUTE LOAD 1 t1 |> AI.TENSORGET nope |> AI.TENSORSET a INT9 1", "-ERR invalid data type"},
		{"AI.DAGEXECUTE PERSIST 1 nope |> AI.TENSORSET a INT8 1", "-ERR PERSIST key cannot be found in DAG"},
		{"AI.DAGEXECUTE LOAD 1 t1 PERSIST 1 t2 |> AI.TENSORSET a INT8 1", "-ERR PERSIST key cannot be found in DAG"},
		{"AI.DAGEXECUTE PERSIST 1 nope |> AI.TENSORGET nope", inputNotFound},
		{"AI.DAGRUN PERSIST 2 a b |> AI.TENSORSET a INT8 1", "-ERR PERSIST key cannot be found in DAG"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ks, rt, counter := dagFixture(t)
			tensors := len(ks.tensors)
			if got := runAI(ks, rt, dagHandler(t, c.line), c.line); got != c.want {
				t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
			}
			if len(rt.dags) != 0 || len(rt.executed) != 0 || len(rt.scriptsExecuted) != 0 {
				t.Errorf("%s: handed to the runtime", c.line)
			}
			if ks.replicated != 0 || len(ks.tensors) != tensors {
				t.Errorf("%s: the keyspace changed", c.line)
			}
			counter.check(t, c.line, 0)
		})
	}
}

// The tensors of a DAG the runtime refuses (in a transaction, say) are released, and its error is
// the reply.
func TestDAGRuntimeRefuses(t *testing.T) {
	ks, rt, counter := dagFixture(t)
	rt.execErr = errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")
	line := "AI.DAGEXECUTE ROUTING r |> AI.TENSORSET a INT8 1 VALUES 1 |> AI.TENSORSET b INT8 2 |> AI.TENSORGET b"
	if got := runAI(ks, rt, DAGExecute, line); got != "-"+rt.execErr.Error() {
		t.Fatalf("got %s", got)
	}
	if len(rt.dags) != 1 {
		t.Fatalf("%d plans handed to the runtime", len(rt.dags))
	}
	counter.check(t, line, 0)
}

// opView is an op with its tensor's data instead of the tensor and the keys and args as strings.
type opView struct {
	Kind            exec.OpKind
	Data            string
	Format          tensor.Format
	Model           exec.StoredModel
	Script          exec.StoredScript
	Function        string
	Keys, Args      []string
	Inputs, Outputs []int
}

type planView struct {
	Loaded  []string // the data of each LOADed tensor
	Slots   int
	Ops     []opView
	Persist map[string]int
	Timeout time.Duration
}

func viewPlan(p *exec.Plan) planView {
	v := planView{Slots: p.Slots, Timeout: p.Timeout}
	for _, t := range p.Loaded {
		v.Loaded = append(v.Loaded, string(t.Data()))
	}
	for _, op := range p.Ops {
		o := opView{Kind: op.Kind, Format: op.Format, Model: op.Model, Script: op.Script, Function: op.Function,
			Keys: append([]string{}, op.Keys...), Args: append([]string{}, op.Args...), Inputs: op.Inputs, Outputs: op.Outputs}
		if !op.Tensor.IsZero() {
			o.Data = string(op.Tensor.Data())
		}
		v.Ops = append(v.Ops, o)
	}
	if p.Persist != nil {
		v.Persist = map[string]int{}
		for _, d := range p.Persist {
			v.Persist[string(d.Key)] = d.Slot
		}
	}
	return v
}

// The plans handed to Execute: slots, single-assignment renaming, PERSIST, LOAD, the ops.
func TestDAGPlans(t *testing.T) {
	ks, _ := scriptFixture(t) // the models and scripts the plans name
	m, m1, m22, sc, old := ks.models["m"], ks.models["m1"], ks.models["m22"], ks.scripts["sc"], ks.scripts["old"]
	get := func(in int, f tensor.Format) opView {
		return opView{Kind: exec.TensorGet, Format: f, Inputs: []int{in}, Keys: []string{}, Args: []string{}}
	}
	set := func(data string, out int) opView {
		return opView{Kind: exec.TensorSet, Data: data, Outputs: []int{out}, Keys: []string{}, Args: []string{}}
	}
	model := func(m Model, in []int, out ...int) opView {
		return opView{Kind: exec.ModelRun, Model: m, Inputs: in, Outputs: out, Keys: []string{}, Args: []string{}}
	}
	metaBlob := tensor.FormatMeta | tensor.FormatBlob
	cases := []struct {
		line string
		want planView
	}{
		// A name set twice: later reads bind to the latest version, PERSIST to the last one; a
		// LOADed name can be persisted as it is.
		{"AI.DAGEXECUTE LOAD 2 t1 t2 PERSIST 2 y t1 |> AI.TENSORSET a INT8 1 VALUES 5 " +
			"|> AI.MODELEXECUTE m INPUTS 2 a t1 OUTPUTS 1 y |> AI.TENSORSET a INT8 1 VALUES 6 " +
			"|> AI.MODELEXECUTE m INPUTS 2 y a OUTPUTS 1 y |> AI.TENSORGET y VALUES",
			planView{Loaded: []string{"\x01", "\x02"}, Slots: 6, Ops: []opView{
				set("\x05", 2), model(m, []int{2, 0}, 3), set("\x06", 4), model(m, []int{3, 4}, 5),
				get(5, tensor.FormatValues),
			}, Persist: map[string]int{"y": 5, "t1": 0}}},
		// An op reading and writing the same name; two outputs of one op with the same name.
		{"AI.DAGEXECUTE PERSIST 2 t1 o LOAD 1 t1 TIMEOUT 250 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 t1 " +
			"|> AI.MODELEXECUTE m22 INPUTS 2 t1 t1 OUTPUTS 2 o o |> AI.TENSORGET t1 META |> AI.TENSORGET o",
			planView{Loaded: []string{"\x01"}, Slots: 4, Ops: []opView{
				model(m1, []int{0}, 1), model(m22, []int{1, 1}, 2, 3), get(1, tensor.FormatMeta), get(3, metaBlob),
			}, Persist: map[string]int{"t1": 1, "o": 3}, Timeout: 250 * time.Millisecond}},
		// A script op: function, KEYS and ARGS kept, INPUTS and OUTPUTS as slots, the sections in
		// any order (no KEYS-or-INPUTS-first rule inside a DAG).
		{"AI.DAGEXECUTE ROUTING {x} |> AI.TENSORSET a FLOAT 1 VALUES 0 " +
			"|> AI.SCRIPTEXECUTE sc bar ARGS 2 x 7 OUTPUTS 2 o a KEYS 2 {x}k1 {x}k2 INPUTS 2 a a |> AI.TENSORGET a BLOB META",
			planView{Slots: 3, Ops: []opView{
				set("\x00\x00\x00\x00", 0),
				{Kind: exec.ScriptRun, Script: sc, Function: "bar", Keys: []string{"{x}k1", "{x}k2"}, Args: []string{"x", "7"},
					Inputs: []int{0, 0}, Outputs: []int{1, 2}},
				get(2, metaBlob),
			}}},
		{"AI.DAGEXECUTE ROUTING r |> AI.SCRIPTEXECUTE sc bar",
			planView{Slots: 0, Ops: []opView{{Kind: exec.ScriptRun, Script: sc, Function: "bar", Keys: []string{}, Args: []string{}}}}},
		// LOAD of one key twice: two slots, the name bound to the first.
		{"AI.DAGEXECUTE_RO LOAD 2 t1 t1 |> AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o |> AI.TENSORGET o BLOB",
			planView{Loaded: []string{"\x01", "\x01"}, Slots: 3, Ops: []opView{
				model(m1, []int{0}, 2), get(2, tensor.FormatBlob),
			}}},
		// Keywords and op names in any case.
		{"ai.dagexecute load 1 t1 routing r timeout 5 |> ai.tensorget t1 meta values |> Ai.TensorSet x int8 1",
			planView{Loaded: []string{"\x01"}, Slots: 2, Ops: []opView{
				get(0, tensor.FormatMeta|tensor.FormatValues), set("\x00", 1),
			}, Timeout: 5 * time.Millisecond}},
		// DAGRUN: no LOAD, PERSIST or ROUTING needed; AI.MODELRUN and AI.SCRIPTRUN ops (`$` dropped).
		{"AI.DAGRUN |> AI.TENSORSET a INT8 1 VALUES 3 |> AI.MODELRUN m1 INPUTS a OUTPUTS b " +
			"|> AI.SCRIPTRUN old foo INPUTS a $ b a OUTPUTS c |> AI.TENSORGET c",
			planView{Slots: 3, Ops: []opView{
				set("\x03", 0), model(m1, []int{0}, 1),
				{Kind: exec.ScriptRun, Script: old, Function: "foo", Keys: []string{}, Args: []string{}, Inputs: []int{0, 1, 0}, Outputs: []int{2}},
				get(2, metaBlob),
			}}},
		{"AI.DAGRUN LOAD 1 t1 PERSIST 1 b ROUTING r TIMEOUT 9 |> AI.MODELRUN m1 INPUTS t1 OUTPUTS b",
			planView{Loaded: []string{"\x01"}, Slots: 2, Ops: []opView{model(m1, []int{0}, 1)},
				Persist: map[string]int{"b": 1}, Timeout: 9 * time.Millisecond}},
		// DAGRUN_RO: AI.SCRIPTRUN is accepted, as RedisAI does.
		{"AI.DAGRUN_RO LOAD 1 t1 |> AI.SCRIPTRUN old foo INPUTS t1 OUTPUTS c",
			planView{Loaded: []string{"\x01"}, Slots: 2, Ops: []opView{
				{Kind: exec.ScriptRun, Script: old, Function: "foo", Keys: []string{}, Args: []string{}, Inputs: []int{0}, Outputs: []int{1}},
			}}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rt, counter := newFakeRuntime(), countDAGTensors(t)
			t.Cleanup(rt.releaseDAGs)
			checkDAGPlan(t, ks, rt, counter, c.line, c.want)
		})
	}
}

// checkDAGPlan runs line and compares the plan handed to the runtime with want; the plan keeps
// only its TENSORSET tensors alive, until it is released.
func checkDAGPlan(t *testing.T, ks *fakeKeyspace, rt *fakeRuntime, counter *dagTensorCounter, line string, want planView) {
	t.Helper()
	a := args(line)
	if got := runArgs(ks, rt, dagHandler(t, line), a); got != "" {
		t.Fatalf("%s: replied %s", line, got)
	}
	if len(rt.dags) != 1 {
		t.Fatalf("%s: %d plans", line, len(rt.dags))
	}
	// The plan keeps copies: the arguments may go.
	for _, arg := range a {
		for i := range arg {
			arg[i] = '#'
		}
	}
	plan := rt.dags[0]
	if got := viewPlan(plan); !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", line, got, want)
	}
	sets := 0
	for _, op := range plan.Ops {
		if op.Kind == exec.TensorSet {
			sets++
		}
	}
	counter.check(t, line, sets)
	plan.Release()
	plan.Release()
	counter.check(t, line+" (released)", 0)
}

// checkKeysCover checks that a command's Keys function reported, for reading, every key the parser
// looked up and every KEYS name of the plans' scripts, and for writing, every key the plans persist
// (a DAG's PERSIST, a single run's outputs): the keys Redis checks and routes by are the keys the
// command uses.
func checkKeysCover(t *testing.T, what string, a [][]byte, keys []KeyArg, read []string, plans []*exec.Plan) {
	t.Helper()
	reported := func(key []byte, use KeyUse) bool {
		return slices.ContainsFunc(keys, func(k KeyArg) bool { return k.Use == use && bytes.Equal(a[k.Pos], key) })
	}
	for _, k := range read {
		if !reported([]byte(k), KeyRead) {
			t.Fatalf("%s: the parser read %q, keys %v do not report it read", what, k, keys)
		}
	}
	for _, p := range plans {
		for _, op := range p.Ops {
			for _, k := range op.Keys {
				if !reported([]byte(k), KeyRead) {
					t.Fatalf("%s: a script gets KEYS %q, keys %v do not report it read", what, k, keys)
				}
			}
		}
		for _, ps := range p.Persist {
			if !reported(ps.Key, KeyWrite) {
				t.Fatalf("%s: the run writes %q, keys %v do not report it written", what, ps.Key, keys)
			}
		}
	}
}

// DAGKeys: where the parser finds them, LOAD's keys, models, scripts and scripts' KEYS (read),
// PERSIST's keys (written) and the ROUTING value; on a malformed command, those read up to the
// error and those of every op. Keys are marked as in checkMarkedKeys.
func TestDAGKeys(t *testing.T) {
	for _, line := range []string{
		"AI.DAGEXECUTE LOAD 2 +a +b PERSIST 1 !c ROUTING ^r TIMEOUT 5 |> AI.MODELEXECUTE +m INPUTS 1 a OUTPUTS 1 x " +
			"|> AI.SCRIPTEXECUTE +s f KEYS 2 +k +l INPUTS 1 x ARGS 1 y OUTPUTS 1 z |> AI.TENSORGET x",
		"AI.DAGRUN PERSIST 1 !p |> AI.MODELRUN +m INPUTS a OUTPUTS b |> AI.SCRIPTRUN +s f INPUTS a OUTPUTS b",
		"AI.DAGEXECUTE_RO ROUTING ^LOAD |> ai.modelexecute +m",
		"AI.DAGEXECUTE ROUTING ^r |> AI.TENSORSET LOAD 1 x INT8",
		"AI.DAGEXECUTE LOAD 1 +a |> AI.SCRIPTEXECUTE +s f INPUTS 1 a KEYS 1 +k OUTPUTS 1 b",
		"AI.DAGEXECUTE ROUTING ^r |> AI.MODELEXECUTE +LOAD |> AI.SCRIPTEXECUTE +PERSIST f KEYS 1 +ROUTING",
		// Malformed: what the parser read before the error (the tensors it looked up), every op.
		"AI.DAGEXECUTE LOAD x a |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE LOAD -1 a |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE LOAD 2 +a +b PERSIST 9223372036854775807 c |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE ROUTING ^r LOAD 3 +a +b",
		"AI.DAGEXECUTE LOAD 1 +a FOO |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE PERSIST 2 p p |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE_RO LOAD 1 +a PERSIST 1 p |> AI.MODELEXECUTE m",
		"AI.DAGEXECUTE ROUTING ^r |> AI.SCRIPTEXECUTE +s f KEYS 1 +k INPUTS 3 a |> AI.MODELRUN +m",
		"AI.DAGEXECUTE LOAD", "AI.DAGEXECUTE PERSIST 1", "AI.DAGEXECUTE ROUTING", "AI.DAGEXECUTE |> AI.SCRIPTEXECUTE",
		"AI.DAGEXECUTE",
	} {
		checkMarkedKeys(t, line, DAGKeys)
	}
}

// checkPlan: every slot an op reads exists before it, every output is a fresh slot, each op has what
// its kind needs, the read-only commands persist nothing.
func checkPlan(t *testing.T, what string, p *exec.Plan, readOnly bool) {
	t.Helper()
	fail := func(format string, a ...any) { t.Fatalf("%s: plan %+v: %s", what, *p, fmt.Sprintf(format, a...)) }
	next := len(p.Loaded)
	for _, l := range p.Loaded {
		if l.IsZero() {
			fail("a LOADed tensor is missing")
		}
	}
	for i, op := range p.Ops {
		for _, in := range op.Inputs {
			if in < 0 || in >= next {
				fail("op %d reads slot %d before it is set", i, in)
			}
		}
		for _, out := range op.Outputs {
			if out != next {
				fail("op %d writes slot %d, not the fresh %d", i, out, next)
			}
			next++
		}
		ok := true
		switch op.Kind {
		case exec.TensorSet:
			ok = !op.Tensor.IsZero() && len(op.Inputs) == 0 && len(op.Outputs) == 1
		case exec.TensorGet:
			f := op.Format
			ok = op.Tensor.IsZero() && len(op.Inputs) == 1 && len(op.Outputs) == 0 && f != 0 && f&(tensor.FormatBlob|tensor.FormatValues) != tensor.FormatBlob|tensor.FormatValues
		case exec.ModelRun:
			nin, nout := op.Model.(Model).Arity()
			ok = op.Tensor.IsZero() && len(op.Inputs) == nin && len(op.Outputs) == nout
		case exec.ScriptRun:
			ok = op.Tensor.IsZero() && op.Script != nil
		default:
			ok = false
		}
		if !ok {
			fail("op %d is malformed", i)
		}
	}
	if next != p.Slots {
		fail("%d slots, %d set", p.Slots, next)
	}
	if readOnly && len(p.Persist) != 0 {
		fail("a read-only DAG persists")
	}
	for _, d := range p.Persist {
		if d.Slot < 0 || d.Slot >= p.Slots {
			fail("PERSIST %q to slot %d", d.Key, d.Slot)
		}
	}
	if p.Timeout < 0 || len(p.Ops) == 0 {
		fail("timeout or ops")
	}
}

// FuzzDAGArgs runs the four DAG commands on "header |> op ..." against the fixture, with a runtime
// that accepts and one that refuses: no panic, no reply written, key positions within the
// arguments, a well-formed plan, and every tensor a DAG built released once it is refused or done.
func FuzzDAGArgs(f *testing.F) {
	for _, s := range []string{
		"", "LOAD 1 t1 |> AI.TENSORGET t1", "LOAD 2 t1 t2 PERSIST 1 o |> AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o",
		"ROUTING r TIMEOUT 5 |> AI.TENSORSET a INT8 2 VALUES 1 2 |> AI.TENSORSET a FLOAT 1 |> AI.TENSORGET a VALUES",
		"ROUTING r |> AI.TENSORSET a INT8 1 |> AI.SCRIPTEXECUTE sc bar KEYS 1 k INPUTS 1 a ARGS 1 x OUTPUTS 2 b a |> AI.TENSORGET b",
		"|> AI.TENSORSET a INT8 1 VALUES 1 |> AI.MODELRUN m1 INPUTS a OUTPUTS b |> AI.SCRIPTRUN old foo INPUTS a $ b OUTPUTS c",
		"PERSIST 1 a |> AI.TENSORSET a STRING 2 VALUES x y |> AI.TENSORSET b INT8 1 VALUES 300",
		"LOAD 1 t1 |> AI.TENSORSET a INT8 1 |> AI.TENSORGET nope", "LOAD 1 t1 |> |> AI.TENSORGET t1",
		"PERSIST 1 a |> AI.TENSORSET a FLOAT 1000 1000 1000", "LOAD 9223372036854775807 t1",
	} {
		f.Add(s)
	}
	commands := []struct {
		name     string
		h        Handler
		readOnly bool
	}{{"AI.DAGEXECUTE", DAGExecute, false}, {"AI.DAGEXECUTE_RO", DAGExecuteRO, true}, {"AI.DAGRUN", DAGRun, false}, {"AI.DAGRUN_RO", DAGRunRO, true}}
	f.Fuzz(func(t *testing.T, line string) {
		ks, rt, counter := dagFixture(t)
		ks.maxBulk = 1 << 16 // zero-filled tensors stay small
		tensors := len(ks.tensors)
		for _, c := range commands {
			for _, refuse := range []bool{false, true} {
				rt.dags, rt.execErr = nil, nil
				if refuse {
					rt.execErr = errors.New("refused")
				}
				a := fuzzArgs(c.name, line)
				keys := DAGKeys(a)
				checkKeys(t, c.name, a, keys)
				var r textReply
				ks.read = nil
				err := call(c.h, Env{Keys: ks, Out: &r, Runtime: rt}, a)
				what := fmt.Sprintf("%s %q (runtime refuses: %v)", c.name, line, refuse)
				checkKeysCover(t, what, a, keys, ks.read, rt.dags)
				if len(r.parts) != 0 {
					t.Fatalf("%s: the handler replied %s (error %v)", what, r.String(), err)
				}
				if ks.replicated != 0 || len(ks.tensors) != tensors || len(rt.executed) != 0 || len(rt.scriptsExecuted) != 0 {
					t.Fatalf("%s: the keyspace changed or a single run was asked", what)
				}
				switch {
				case len(rt.dags) == 0:
					if err == nil {
						t.Fatalf("%s: no plan and no error", what)
					}
				case len(rt.dags) > 1:
					t.Fatalf("%s: %d plans", what, len(rt.dags))
				case refuse:
					// The handler released the plan: Execute's error is the reply.
					if err == nil || err.Error() != "refused" {
						t.Fatalf("%s: error %v", what, err)
					}
				case err != nil:
					t.Fatalf("%s: error %v after the plan was handed over", what, err)
				default:
					checkPlan(t, what, rt.dags[0], c.readOnly)
					rt.dags[0].Release()
				}
				counter.check(t, what, 0)
			}
		}
	})
}
