package commands

// DAG commands: AI.DAGEXECUTE, AI.DAGEXECUTE_RO, AI.DAGRUN (deprecated), AI.DAGRUN_RO (deprecated).

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"gorai/exec"
	"gorai/tensor"
)

// The tensors a DAG builds go through this, so that tests can follow them.
var buildDAGTensor = tensor.Parse

var (
	errDAGEmpty          = errf("ERR DAG is empty")
	errDAGNoKeyword      = errf("ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords")
	errLoadMissing       = errf("ERR missing arguments after LOAD keyword in DAG command")
	errLoadCount         = errf("ERR invalid or negative value found in number of keys to LOAD")
	errLoadMismatch      = errf("ERR number of keys to LOAD into DAG does not match the number of given arguments")
	errPersistMissing    = errf("ERR missing arguments after PERSIST keyword in DAG command")
	errPersistCount      = errf("ERR invalid or negative value found in number of keys to PERSIST")
	errPersistUnique     = errf("ERR PERSIST keys must be unique")
	errPersistMismatch   = errf("ERR number of keys to PERSIST after DAG execution does not match the number of given arguments")
	errPersistReadOnly   = errf("ERR PERSIST cannot be specified in a read-only DAG")
	errPersistNotFound   = errf("ERR PERSIST key cannot be found in DAG")
	errRoutingMissing    = errf("ERR Missing ROUTING value")
	errInputNotFound     = errf("ERR INPUT key cannot be found in DAG")
	errTimeoutInDAG      = errf("ERR TIMEOUT not allowed within a DAG command")
	errScriptReadOnly    = errf("ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG")
	errUnsupportedOp     = errf("Unsupported command within DAG")
	errDAGTensorSetArity = errf("wrong number of arguments for 'AI.TENSORSET' command")
	errDAGTensorGetArity = errf("wrong number of arguments for 'AI.TENSORGET' command")
)

// dagCommand is one of the four DAG commands.
type dagCommand struct {
	name       string
	readOnly   bool // no PERSIST, no AI.SCRIPTEXECUTE
	deprecated bool // AI.DAGRUN(_RO): AI.MODELRUN and AI.SCRIPTRUN ops instead of the EXECUTE ones
}

var (
	dagExecute   = dagCommand{name: "AI.DAGEXECUTE"}
	dagExecuteRO = dagCommand{name: "AI.DAGEXECUTE_RO", readOnly: true}
	dagRun       = dagCommand{name: "AI.DAGRUN", deprecated: true}
	dagRunRO     = dagCommand{name: "AI.DAGRUN_RO", readOnly: true, deprecated: true}
)

// errDAGArity is a deprecated DAG command's reply to too few arguments, errDAGMissingArgs the
// others'.
func errDAGArity(cmd dagCommand) error {
	return errf("ERR wrong number of arguments for '" + cmd.name + "' command")
}

func errDAGMissingArgs(cmd dagCommand) error {
	return errf("ERR missing arguments for '" + cmd.name + "' command")
}

// DAGExecute: AI.DAGEXECUTE [LOAD n key...] [PERSIST n key...] [ROUTING key] [TIMEOUT ms]
// |> op [|> op...], the ops being AI.TENSORSET, AI.TENSORGET, AI.MODELEXECUTE and AI.SCRIPTEXECUTE.
// The runtime replies when the DAG has run.
func DAGExecute(env Env, args [][]byte) error { return executeDAG(env, args, dagExecute) }

// DAGExecuteRO: AI.DAGEXECUTE_RO, AI.DAGEXECUTE without PERSIST and AI.SCRIPTEXECUTE.
func DAGExecuteRO(env Env, args [][]byte) error { return executeDAG(env, args, dagExecuteRO) }

// DAGRun: the deprecated AI.DAGRUN, whose model and script ops are AI.MODELRUN and AI.SCRIPTRUN,
// and which needs none of LOAD, PERSIST and ROUTING.
func DAGRun(env Env, args [][]byte) error { return executeDAG(env, args, dagRun) }

// DAGRunRO: the deprecated AI.DAGRUN_RO, AI.DAGRUN without PERSIST.
func DAGRunRO(env Env, args [][]byte) error { return executeDAG(env, args, dagRunRO) }

func executeDAG(env Env, args [][]byte, cmd dagCommand) error {
	plan, err := parseDAG(env, args, cmd)
	if err != nil {
		return err
	}
	return execute(env, plan)
}

// parseDAG builds the plan of a DAG command, as RedisAI does: the header (LOAD tensors read from
// the keyspace now), then every op in order (TENSORSET tensors built, models and scripts looked up
// now), then the names (every output a fresh slot, every input the latest slot of its name), then
// PERSIST. On an error, whatever it built is released.
func parseDAG(env Env, args [][]byte, cmd dagCommand) (*exec.Plan, error) {
	p := dagParser{env: env, cmd: cmd, plan: &exec.Plan{}, names: map[string]int{}}
	if err := p.parse(args); err != nil {
		p.plan.Release()
		return nil, err
	}
	return p.plan, nil
}

type dagParser struct {
	env     Env
	cmd     dagCommand
	plan    *exec.Plan
	names   map[string]int // a name's latest slot
	persist [][]byte
	// The names each op reads and writes, resolved to slots once every op is parsed.
	inputs, outputs [][][]byte
}

func (p *dagParser) parse(args [][]byte) error {
	l, err := readDAG(args, p.cmd, p.loadTensors)
	if err != nil {
		return err
	}
	p.plan.Timeout, p.persist = l.timeout, l.persist
	for _, op := range l.ops {
		if err := p.parseOp(op); err != nil {
			return err
		}
	}
	return p.resolve()
}

// dagLayout is what a DAG command's arguments say, read once for both the parser and DAGKeys: so
// the keys Redis checks (ACL) and routes by (cluster) are the keys the DAG uses. Its keys are
// sub-slices of the arguments.
type dagLayout struct {
	load, persist, routing [][]byte
	timeout                time.Duration
	ops                    [][][]byte // each from its command name to the next "|>"
}

// readDAG reads the header of a DAG command and splits its ops. load gets LOAD's keys where LOAD
// is read: the parser reads the tensors then, as RedisAI does, before checking LOAD's count and
// the rest of the header. On an error the layout holds what was read before it.
func readDAG(args [][]byte, cmd dagCommand, load func(keys [][]byte) error) (dagLayout, error) {
	var l dagLayout
	var seenLoad, seenPersist, seenTimeout bool
	// Header keywords come before the first op: past it, every op runs to the next "|>".
	for pos := 1; pos < len(args); {
		a := args[pos]
		switch {
		case is(a, "LOAD") && !seenLoad:
			keys, n, err := countedKeys(args[pos:], errLoadMissing, errLoadCount)
			if err != nil {
				return l, err
			}
			l.load, seenLoad = keys, true
			if err := load(keys); err != nil {
				return l, err
			}
			if int64(len(keys)) != n {
				return l, errLoadMismatch
			}
			pos += 2 + len(keys)
		case is(a, "PERSIST") && !seenPersist:
			if cmd.readOnly {
				return l, errPersistReadOnly
			}
			keys, n, err := countedKeys(args[pos:], errPersistMissing, errPersistCount)
			if err != nil {
				return l, err
			}
			for i, k := range keys {
				if slices.ContainsFunc(keys[:i], func(o []byte) bool { return bytes.Equal(o, k) }) {
					return l, errPersistUnique
				}
			}
			if int64(len(keys)) != n {
				return l, errPersistMismatch
			}
			l.persist, seenPersist = keys, true
			pos += 2 + len(keys)
		case is(a, "ROUTING") && l.routing == nil:
			// Only used to route the command in a cluster (DAGKeys reports it).
			if pos+1 == len(args) {
				return l, errRoutingMissing
			}
			l.routing, pos = args[pos+1:pos+2], pos+2
		case is(a, "TIMEOUT") && !seenTimeout:
			if pos+1 == len(args) {
				return l, errNoTimeoutValue
			}
			// RedisAI accepts a value ≤ 0 here (it compares a pointer, not the value); it is
			// refused, as everywhere else.
			t, err := timeoutValue(args[pos+1])
			if err != nil {
				return l, err
			}
			l.timeout, pos, seenTimeout = t, pos+2, true
		case string(a) == "|>" && pos < len(args)-1:
			var op [][]byte
			op, pos = nextOp(args, pos)
			l.ops = append(l.ops, op)
		default:
			// Two spaces, as RedisAI sends it.
			return l, errf("ERR Invalid DAG command. Unexpected argument:  " + string(a))
		}
	}
	if !cmd.deprecated && !seenLoad && !seenPersist && l.routing == nil {
		return l, errDAGNoKeyword
	}
	if len(l.ops) == 0 {
		return l, errDAGEmpty
	}
	return l, nil
}

// nextOp is the op that the "|>" at args[pos] starts (its arguments up to the next "|>"), and the
// position after it.
func nextOp(args [][]byte, pos int) ([][]byte, int) {
	end := pos + 1
	for end < len(args) && string(args[end]) != "|>" {
		end++
	}
	return args[pos+1 : end], end
}

// countedKeys reads "WORD n key..." (n ≥ 1) and returns the keys there are, at most n, and n. As
// RedisAI, it takes the keys whatever they are ("|>" included); fewer than n is the caller's error.
func countedKeys(args [][]byte, errMissing, errCount error) ([][]byte, int64, error) {
	if len(args) < 3 {
		return nil, 0, errMissing
	}
	n, ok := tensor.ParseInt(args[1])
	if !ok || n <= 0 {
		return nil, 0, errCount
	}
	keys := args[2:]
	if int64(len(keys)) > n {
		keys = keys[:n]
	}
	return keys, n, nil
}

// loadTensors reads the LOADed tensors into the first slots.
func (p *dagParser) loadTensors(keys [][]byte) error {
	for _, k := range keys {
		t, err := p.env.Keys.Tensor(k)
		if err != nil {
			return err
		}
		if t.IsZero() {
			return errTensorEmpty
		}
		if _, seen := p.names[string(k)]; !seen {
			p.names[string(k)] = len(p.plan.Loaded)
		}
		p.plan.Loaded = append(p.plan.Loaded, t)
	}
	p.plan.Slots = len(p.plan.Loaded)
	return nil
}

// parseOp parses one op (its arguments from the command name on) with the parser of the command
// it names, and appends it to the plan with the names it reads and writes.
func (p *dagParser) parseOp(a [][]byte) error {
	if len(a) == 0 {
		return errUnsupportedOp // "|> |>": RedisAI reads the second "|>" as the op's name
	}
	var op exec.Op
	var in, out [][]byte
	deprecated := p.cmd.deprecated
	switch name := a[0]; {
	case is(name, "AI.TENSORGET"):
		if len(a) < 2 || len(a) > 4 {
			return errDAGTensorGetArity
		}
		f, err := tensor.ParseFormat(a[2:])
		if err != nil {
			return err
		}
		op, in = exec.Op{Kind: exec.TensorGet, Format: f}, a[1:2]
	case is(name, "AI.TENSORSET"):
		if len(a) < 4 {
			return errDAGTensorSetArity
		}
		t, err := buildDAGTensor(a[2:], p.env.Keys.MaxBulkLen)
		if err != nil {
			return err
		}
		op, out = exec.Op{Kind: exec.TensorSet, Tensor: t}, a[1:2]
	case is(name, "AI.MODELEXECUTE") && !deprecated, is(name, "AI.MODELRUN") && deprecated:
		parse := parseModelExecute
		if deprecated {
			parse = parseModelRun
		}
		c, err := parse(p.env, a)
		if err != nil {
			return err
		}
		if c.timeout > 0 {
			return errTimeoutInDAG
		}
		op, in, out = exec.Op{Kind: exec.ModelRun, Model: c.model}, c.inputs, c.outputs
	case is(name, "AI.SCRIPTEXECUTE") && !deprecated, is(name, "AI.SCRIPTRUN") && deprecated:
		if p.cmd.readOnly && !deprecated {
			return errScriptReadOnly
		}
		arity, parse := errScriptExecuteArity, parseScriptSections
		if deprecated {
			arity, parse = errScriptRunArity, parseScriptRun
		}
		if len(a) < 3 {
			return arity
		}
		s, err := existingScript(p.env, a[1])
		if err != nil {
			return err
		}
		c, err := parse(a)
		if err != nil {
			return err
		}
		if c.timeout > 0 {
			return errTimeoutInDAG
		}
		op = exec.Op{Kind: exec.ScriptRun, Script: s, Function: string(c.function), Keys: toStrings(c.keys),
			Args: toStrings(c.params)}
		in, out = c.inputs, c.outputs
	case is(name, "AI.MODELRUN"), is(name, "AI.SCRIPTRUN"):
		return errf("Deprecated " + canonicalOp(name) + " cannot be used in AI.DAGEXECUTE command")
	case is(name, "AI.MODELEXECUTE"), is(name, "AI.SCRIPTEXECUTE"):
		return errf(canonicalOp(name) + " cannot be used in a deprecated AI.DAGRUN command")
	default:
		return errUnsupportedOp
	}
	p.plan.Ops = append(p.plan.Ops, op)
	p.inputs, p.outputs = append(p.inputs, in), append(p.outputs, out)
	return nil
}

// canonicalOp is an op's name as RedisAI's errors spell it, whatever case the client used.
func canonicalOp(name []byte) string { return strings.ToUpper(string(name)) }

// resolve binds the ops' names to slots (bindNames), then each PERSIST key to its name's last slot.
func (p *dagParser) resolve() error {
	if err := bindNames(p.plan, p.names, p.inputs, p.outputs); err != nil {
		return err
	}
	for _, k := range p.persist {
		slot, ok := p.names[string(k)]
		if !ok {
			return errPersistNotFound
		}
		p.plan.Persist = append(p.plan.Persist, exec.Persist{Key: bytes.Clone(k), Slot: slot})
	}
	return nil
}

// bindNames binds the names plan's ops read and write to slots, in op order: an input to its name's
// latest slot (a loaded tensor or an earlier op's output), every output to a fresh slot. names maps
// the loaded tensors' names to their slots on entry, and every name to its last slot on return.
func bindNames(plan *exec.Plan, names map[string]int, inputs, outputs [][][]byte) error {
	for i := range plan.Ops {
		op := &plan.Ops[i]
		for _, name := range inputs[i] {
			slot, ok := names[string(name)]
			if !ok {
				return errInputNotFound
			}
			op.Inputs = append(op.Inputs, slot)
		}
		for _, name := range outputs[i] {
			names[string(name)] = plan.Slots
			op.Outputs = append(op.Outputs, plan.Slots)
			plan.Slots++
		}
	}
	return nil
}

// DAGKeys are the keys of the four DAG commands, where the parser finds them (readDAG): LOAD's
// keys and every op's model and script, read; the KEYS of AI.SCRIPTEXECUTE ops, read (what a script
// does with them is checked when it does it); PERSIST's keys, written; the ROUTING value. Unlike
// RedisAI's, which scans for a few keywords, it reports AI.MODELRUN ops' models and the KEYS of
// scripts. On a malformed command, the keys read up to the error, and those of every op.
func DAGKeys(args [][]byte) []KeyArg {
	var keys []KeyArg
	add := func(names [][]byte, use KeyUse) {
		for i := range names {
			keys = append(keys, KeyArg{position(args, names, i), use})
		}
	}
	l, _ := readDAG(args, dagCommandNamed(args[0]), func([][]byte) error { return nil })
	add(l.load, KeyRead)
	add(l.persist, KeyWrite)
	add(l.routing, KeyRoute)
	for _, op := range l.ops {
		if len(op) < 2 {
			continue
		}
		name := op[0]
		if !is(name, "AI.MODELEXECUTE") && !is(name, "AI.MODELRUN") && !is(name, "AI.SCRIPTEXECUTE") && !is(name, "AI.SCRIPTRUN") {
			continue
		}
		add(op[1:2], KeyRead)
		if is(name, "AI.SCRIPTEXECUTE") && len(op) >= 3 {
			c, _ := parseScriptSections(op)
			add(c.keys, KeyRead)
		}
	}
	slices.SortFunc(keys, func(a, b KeyArg) int { return a.Pos - b.Pos })
	return keys
}

// position is the index in args of names[i], names being a sub-slice of args (as everything the
// parsers return: they slice the arguments, never copy them).
func position(args, names [][]byte, i int) int { return cap(args) - cap(names) + i }

// dagCommandNamed is the DAG command args[0] names.
func dagCommandNamed(name []byte) dagCommand {
	for _, c := range []dagCommand{dagExecuteRO, dagRun, dagRunRO} {
		if is(name, c.name) {
			return c
		}
	}
	return dagExecute
}
