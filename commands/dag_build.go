package commands

import (
	"maps"
	"slices"
	"strings"

	"gorai/exec"
	"gorai/tensor"
)

// DAGBuilder is a DAG assembled by calls rather than parsed from a command: RedisAI's low-level API
// for other modules (module/llapi_dag.go). Tensors are loaded under names, ops are added one by one
// or parsed from the ops part of a DAG command, and Plan binds the names as AI.DAGEXECUTE does. It
// holds a reference to every tensor, model and script it was given; Release drops them.
type DAGBuilder struct {
	loaded          []tensor.Tensor
	names           map[string]int // the loaded tensors' slots
	ops             []exec.Op
	inputs, outputs [][][]byte // the names each op reads and writes
}

// RedisAI's texts for the builder's own errors.
var (
	errDAGOpStart     = errf("DAG op should start with: '|>' ")
	errOpInputsCount  = errf("Number of keys given as INPUTS does not match model definition")
	errOpOutputsCount = errf("Number of keys given as OUTPUTS does not match model definition")
)

func NewDAGBuilder() *DAGBuilder { return &DAGBuilder{names: map[string]int{}} }

// Load adds t under name, taking a reference; false when a tensor was loaded under name already.
func (b *DAGBuilder) Load(name string, t tensor.Tensor) bool {
	if _, taken := b.names[name]; taken {
		return false
	}
	t.Retain()
	b.names[name] = len(b.loaded)
	b.loaded = append(b.loaded, t)
	return true
}

// DAGOp is a model or script op being built; it holds a reference to its model or script until a
// builder takes it over (AddOp) or it is released.
type DAGOp struct {
	op              exec.Op
	model           Model
	inputs, outputs [][]byte
}

// NewModelOp is an op running m, taking a reference to it.
func NewModelOp(m Model) *DAGOp {
	m.Retain()
	return &DAGOp{op: exec.Op{Kind: exec.ModelRun, Model: m}, model: m}
}

// NewScriptOp is an op running function of s, taking a reference to it.
func NewScriptOp(s exec.StoredScript, function string) *DAGOp {
	s.Retain()
	return &DAGOp{op: exec.Op{Kind: exec.ScriptRun, Script: s, Function: function}}
}

// AddInput and AddOutput name the tensors the op reads and writes, in order.
func (o *DAGOp) AddInput(name string)  { o.inputs = append(o.inputs, []byte(name)) }
func (o *DAGOp) AddOutput(name string) { o.outputs = append(o.outputs, []byte(name)) }

// Release drops the op's reference to its model or script.
func (o *DAGOp) Release() { releaseStored(o.op) }

func releaseStored(op exec.Op) {
	switch op.Kind {
	case exec.ModelRun:
		op.Model.Release()
	case exec.ScriptRun:
		op.Script.Release()
	}
}

// AddOp adds o, which the builder then owns, after checking a model op's counts against the model.
// On an error the caller still owns o.
func (b *DAGBuilder) AddOp(o *DAGOp) error {
	if o.model != nil {
		in, out := o.model.Arity()
		if len(o.inputs) != in {
			return errOpInputsCount
		}
		if len(o.outputs) != out {
			return errOpOutputsCount
		}
	}
	b.add(o.op, o.inputs, o.outputs)
	return nil
}

// AddTensorSet adds an op that sets name to t, taking a reference to it.
func (b *DAGBuilder) AddTensorSet(name string, t tensor.Tensor) {
	t.Retain()
	b.add(exec.Op{Kind: exec.TensorSet, Tensor: t}, nil, [][]byte{[]byte(name)})
}

// AddTensorGet adds an op that gives the tensor name holds as one of the DAG's outputs.
func (b *DAGBuilder) AddTensorGet(name string) {
	b.add(exec.Op{Kind: exec.TensorGet}, [][]byte{[]byte(name)}, nil)
}

func (b *DAGBuilder) add(op exec.Op, inputs, outputs [][]byte) {
	b.ops = append(b.ops, op)
	b.inputs, b.outputs = append(b.inputs, inputs), append(b.outputs, outputs)
}

// AddOpsFromString parses ops written as in AI.DAGEXECUTE, "|> AI.MODELEXECUTE m INPUTS 1 a
// OUTPUTS 1 b |> AI.TENSORGET b", its words split at spaces, reading the models and scripts from
// env's keyspace. All of them are added, or none.
func (b *DAGBuilder) AddOpsFromString(env Env, ops string) error {
	var args [][]byte
	for _, w := range strings.Split(ops, " ") {
		if w != "" {
			args = append(args, []byte(w))
		}
	}
	if len(args) == 0 || string(args[0]) != "|>" {
		return errDAGOpStart
	}
	p := dagParser{env: env, cmd: dagExecute, plan: &exec.Plan{}}
	for pos := 0; pos < len(args); {
		var op [][]byte
		op, pos = nextOp(args, pos)
		if err := p.parseOp(op); err != nil {
			p.plan.Release()
			return err
		}
	}
	for i, op := range p.plan.Ops {
		// The parser borrowed them from the keyspace.
		switch op.Kind {
		case exec.ModelRun:
			op.Model.Retain()
		case exec.ScriptRun:
			op.Script.Retain()
		}
		b.add(op, p.inputs[i], p.outputs[i])
	}
	return nil
}

// NumOps is the number of ops added.
func (b *DAGBuilder) NumOps() int { return len(b.ops) }

// Plan is the plan of the DAG, its names bound to slots. It borrows the builder's loaded tensors,
// models and scripts (Submit retains them) and owns a reference to each TENSORSET tensor.
func (b *DAGBuilder) Plan() (*exec.Plan, error) {
	if len(b.ops) == 0 {
		return nil, errDAGEmpty
	}
	plan := &exec.Plan{Loaded: slices.Clone(b.loaded), Slots: len(b.loaded), Ops: slices.Clone(b.ops)}
	for i := range plan.Ops {
		if t := plan.Ops[i].Tensor; !t.IsZero() {
			t.Retain()
		}
	}
	if err := bindNames(plan, maps.Clone(b.names), b.inputs, b.outputs); err != nil {
		plan.Release()
		return nil, err
	}
	return plan, nil
}

// Release drops every reference the builder holds.
func (b *DAGBuilder) Release() {
	for _, t := range b.loaded {
		t.Release()
	}
	for _, op := range b.ops {
		if !op.Tensor.IsZero() {
			op.Tensor.Release()
		}
		releaseStored(op)
	}
	*b = DAGBuilder{}
}
