package commands

// DAG commands: AI.DAGEXECUTE, AI.DAGEXECUTE_RO, AI.DAGRUN (deprecated), AI.DAGRUN_RO (deprecated).

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"gorai/dlpack"
)

// DAGOpKind is what one op of a DAG does.
type DAGOpKind int

const (
	DAGTensorSet DAGOpKind = iota
	DAGTensorGet
	DAGModelExecute
	DAGScriptExecute
)

// DAGOp is one op of a parsed DAG. Tensors are named by slot: a DAG's tensors live in an array of
// slots, the LOADed ones first; each output gets a fresh slot (a name assigned again gets a new one,
// later reads bind to the latest).
type DAGOp struct {
	Kind DAGOpKind
	// TensorSet: the tensor, built at parse time (owned by the plan), and its slot.
	Tensor dlpack.Tensor
	// TensorGet: the format.
	Format TensorFormat
	// ModelExecute: the model; ScriptExecute: the script, its function, keys and args.
	Model      Model
	Script     Script
	Function   string
	Keys, Args [][]byte
	// Inputs and Outputs are slots (TensorGet reads Inputs[0]; TensorSet writes Outputs[0]).
	Inputs, Outputs []int
}

// DAGPlan is a parsed DAG, handed to the Runtime to run in the background.
type DAGPlan struct {
	Loaded  []dlpack.Tensor // the LOADed tensors, slots 0..len-1 (borrowed: the runtime retains them)
	Slots   int             // the number of slots
	Ops     []DAGOp
	Persist []DAGPersist
	Timeout time.Duration // 0: none
}

// DAGPersist is a tensor written to the keyspace after a DAG succeeded.
type DAGPersist struct {
	Key  []byte
	Slot int
}

// Release drops the references the plan holds to the tensors its TENSORSET ops built; it may be
// called more than once.
//
// Ownership: the plan owns those tensors and copies of every key and argument it keeps (the
// command's arguments do not outlive the command); the LOADed tensors, the models and the scripts
// are borrowed from the keyspace, so the runtime takes its own references to them before
// ExecuteDAG returns. ExecuteDAG takes the plan over when it returns nil (the runtime calls Release
// when it is done with it); when it returns an error, the handler releases the plan.
func (p *DAGPlan) Release() {
	for i := range p.Ops {
		if t := p.Ops[i].Tensor; !t.IsZero() {
			releaseDAGTensor(t)
			p.Ops[i].Tensor = dlpack.Tensor{}
		}
	}
}

// The tensors a DAG builds and releases go through these, so that tests can count them.
var (
	buildDAGTensor   = ParseTensor
	releaseDAGTensor = dlpack.Tensor.Release
)

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
	if err := env.AI.CanExecute(); err != nil {
		return err
	}
	plan, err := parseDAG(env, args, cmd)
	if err != nil {
		return err
	}
	if err := env.AI.ExecuteDAG(plan); err != nil {
		plan.Release()
		return err
	}
	return nil
}

// parseDAG builds the plan of a DAG command, as RedisAI does: the header (LOAD tensors read from
// the keyspace now), then every op in order (TENSORSET tensors built, models and scripts looked up
// now), then the names (every output a fresh slot, every input the latest slot of its name), then
// PERSIST. On an error, whatever it built is released.
func parseDAG(env Env, args [][]byte, cmd dagCommand) (*DAGPlan, error) {
	if cmd.deprecated && len(args) < 4 {
		return nil, errf("ERR wrong number of arguments for '" + cmd.name + "' command")
	}
	if !cmd.deprecated && len(args) < 6 {
		return nil, errf("ERR missing arguments for '" + cmd.name + "' command")
	}
	p := dagParser{env: env, cmd: cmd, plan: &DAGPlan{}, names: map[string]int{}}
	if err := p.parse(args); err != nil {
		p.plan.Release()
		return nil, err
	}
	return p.plan, nil
}

type dagParser struct {
	env     Env
	cmd     dagCommand
	plan    *DAGPlan
	names   map[string]int // a name's latest slot
	persist [][]byte
	// The names each op reads and writes, resolved to slots once every op is parsed.
	inputs, outputs [][][]byte
}

func (p *dagParser) parse(args [][]byte) error {
	var load, persist, routing, timeout bool
	var ops [][][]byte
	// Header keywords come before the first op: past it, every op runs to the next "|>".
	for pos := 1; pos < len(args); {
		a := args[pos]
		switch {
		case is(a, "LOAD") && !load:
			n, err := p.parseLoad(args[pos:])
			if err != nil {
				return err
			}
			pos, load = pos+n, true
		case is(a, "PERSIST") && !persist:
			if p.cmd.readOnly {
				return errPersistReadOnly
			}
			n, err := p.parsePersist(args[pos:])
			if err != nil {
				return err
			}
			pos, persist = pos+n, true
		case is(a, "ROUTING") && !routing:
			// Only used to route the command in a cluster (DAGKeys reports it).
			if pos+1 == len(args) {
				return errRoutingMissing
			}
			pos, routing = pos+2, true
		case is(a, "TIMEOUT") && !timeout:
			if pos+1 == len(args) {
				return errNoTimeoutValue
			}
			// RedisAI accepts a value ≤ 0 here (it compares a pointer, not the value); it is
			// refused, as everywhere else.
			t, err := timeoutValue(args[pos+1])
			if err != nil {
				return err
			}
			p.plan.Timeout, pos, timeout = t, pos+2, true
		case string(a) == "|>" && pos < len(args)-1:
			pos++
			end := pos
			for end < len(args) && string(args[end]) != "|>" {
				end++
			}
			ops, pos = append(ops, args[pos:end]), end
		default:
			// Two spaces, as RedisAI sends it.
			return errf("ERR Invalid DAG command. Unexpected argument:  " + string(a))
		}
	}
	if !p.cmd.deprecated && !load && !persist && !routing {
		return errDAGNoKeyword
	}
	if len(ops) == 0 {
		return errDAGEmpty
	}
	for _, op := range ops {
		if err := p.parseOp(op); err != nil {
			return err
		}
	}
	return p.resolve()
}

// parseLoad reads "LOAD n key...", reading the tensors, and returns the number of arguments taken.
// As RedisAI, it takes the keys whatever they are ("|>" included).
func (p *dagParser) parseLoad(args [][]byte) (int, error) {
	if len(args) < 3 {
		return 0, errLoadMissing
	}
	n, ok := dlpack.ParseInt(args[1])
	if !ok || n <= 0 {
		return 0, errLoadCount
	}
	keys := args[2:]
	if int64(len(keys)) > n {
		keys = keys[:n]
	}
	for _, k := range keys {
		t, err := p.env.Keys.Tensor(k)
		if err != nil {
			return 0, err
		}
		if t.IsZero() {
			return 0, errTensorEmpty
		}
		if _, seen := p.names[string(k)]; !seen {
			p.names[string(k)] = len(p.plan.Loaded)
		}
		p.plan.Loaded = append(p.plan.Loaded, t)
	}
	if int64(len(keys)) != n {
		return 0, errLoadMismatch
	}
	p.plan.Slots = len(p.plan.Loaded)
	return 2 + len(keys), nil
}

// parsePersist reads "PERSIST n key..." and returns the number of arguments taken.
func (p *dagParser) parsePersist(args [][]byte) (int, error) {
	if len(args) < 3 {
		return 0, errPersistMissing
	}
	n, ok := dlpack.ParseInt(args[1])
	if !ok || n <= 0 {
		return 0, errPersistCount
	}
	keys := args[2:]
	if int64(len(keys)) > n {
		keys = keys[:n]
	}
	for i, k := range keys {
		if slices.ContainsFunc(keys[:i], func(o []byte) bool { return bytes.Equal(o, k) }) {
			return 0, errPersistUnique
		}
	}
	if int64(len(keys)) != n {
		return 0, errPersistMismatch
	}
	p.persist = keys
	return 2 + len(keys), nil
}

// parseOp parses one op (its arguments from the command name on) with the parser of the command
// it names, and appends it to the plan with the names it reads and writes.
func (p *dagParser) parseOp(a [][]byte) error {
	if len(a) == 0 {
		return errUnsupportedOp // "|> |>": RedisAI reads the second "|>" as the op's name
	}
	var op DAGOp
	var in, out [][]byte
	deprecated := p.cmd.deprecated
	switch name := a[0]; {
	case is(name, "AI.TENSORGET"):
		if len(a) < 2 || len(a) > 4 {
			return errDAGTensorGetArity
		}
		f, err := ParseTensorFormat(a[2:])
		if err != nil {
			return err
		}
		op, in = DAGOp{Kind: DAGTensorGet, Format: f}, a[1:2]
	case is(name, "AI.TENSORSET"):
		if len(a) < 4 {
			return errDAGTensorSetArity
		}
		t, err := buildDAGTensor(a[2:], p.env.Keys.MaxBulkLen)
		if err != nil {
			return err
		}
		op, out = DAGOp{Kind: DAGTensorSet, Tensor: t}, a[1:2]
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
		op, in, out = DAGOp{Kind: DAGModelExecute, Model: c.model}, c.inputs, c.outputs
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
		op = DAGOp{Kind: DAGScriptExecute, Script: s, Function: string(c.function), Keys: copyArgs(c.keys),
			Args: copyArgs(c.params)}
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

// resolve binds the ops' names to slots, in op order: an input to its name's latest slot (a LOADed
// tensor or an earlier op's output), every output to a fresh slot; then each PERSIST key to its
// name's last slot.
func (p *dagParser) resolve() error {
	for i := range p.plan.Ops {
		op := &p.plan.Ops[i]
		for _, name := range p.inputs[i] {
			slot, ok := p.names[string(name)]
			if !ok {
				return errInputNotFound
			}
			op.Inputs = append(op.Inputs, slot)
		}
		for _, name := range p.outputs[i] {
			p.names[string(name)] = p.plan.Slots
			op.Outputs = append(op.Outputs, p.plan.Slots)
			p.plan.Slots++
		}
	}
	for _, k := range p.persist {
		slot, ok := p.names[string(k)]
		if !ok {
			return errPersistNotFound
		}
		p.plan.Persist = append(p.plan.Persist, DAGPersist{Key: bytes.Clone(k), Slot: slot})
	}
	return nil
}

// copyArgs is a deep copy of args (nil stays nil).
func copyArgs(args [][]byte) [][]byte {
	if args == nil {
		return nil
	}
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = bytes.Clone(a)
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	return out
}

// DAGKeys are the key positions of the four DAG commands, found as RedisAI finds them: anywhere in
// the arguments, the keys after "LOAD n" and "PERSIST n", the value after ROUTING, and the argument
// after each AI.MODELEXECUTE and AI.SCRIPTEXECUTE (so not the models of AI.MODELRUN ops). A
// malformed count ends the search.
func DAGKeys(args [][]byte) []int {
	var keys []int
	for pos := 1; pos < len(args); {
		a := args[pos]
		pos++
		switch {
		case is(a, "LOAD"), is(a, "PERSIST"):
			if pos >= len(args) {
				return keys
			}
			n, ok := dlpack.ParseInt(args[pos])
			pos++
			// RedisAI also gives up when the keys would end the command.
			if !ok || n < 0 || n >= int64(len(args)-pos) {
				return keys
			}
			for end := pos + int(n); pos < end; pos++ {
				keys = append(keys, pos)
			}
		case is(a, "ROUTING"), is(a, "AI.MODELEXECUTE"), is(a, "AI.SCRIPTEXECUTE"):
			if pos >= len(args) {
				return keys
			}
			keys = append(keys, pos)
			pos++
		}
	}
	return keys
}
