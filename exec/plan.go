// Package exec runs the AI.* commands' work: every run is a plan of ops over tensor slots (a single
// AI.MODELEXECUTE or AI.SCRIPTEXECUTE is a one-op plan, a DAG has many), run in the background on
// the engine's queues, with RedisAI's autobatching for single model runs. It knows nothing of Redis:
// the module blocks the client, submits the plan, and writes the results on Redis' main thread
// through commands, which composes the reply.
package exec

import (
	"bytes"
	"context"
	"time"

	"gorai/tensor"
)

// OpKind is what one op does.
type OpKind int

const (
	TensorSet OpKind = iota
	TensorGet
	ModelRun
	ScriptRun
)

// Op is one op of a plan. Tensors are named by slot: a plan's tensors live in an array of slots, the
// loaded ones first; each output has a slot of its own.
type Op struct {
	Kind OpKind
	// TensorSet: the tensor, built when the command was parsed (owned by the plan).
	Tensor tensor.Tensor
	// TensorGet: how the reply shows the tensor; exec only carries it.
	Format tensor.Format
	// ModelRun: the model. ScriptRun: the script, its function, keys and args.
	Model      StoredModel
	Script     StoredScript
	Function   string
	Keys, Args []string
	// Inputs and Outputs are slots (TensorGet reads Inputs[0]; TensorSet writes Outputs[0]).
	Inputs, Outputs []int
}

// Plan is a parsed run, handed to the runtime to run in the background.
type Plan struct {
	Loaded  []tensor.Tensor // the tensors read from keys, slots 0..len-1 (borrowed: Submit retains them)
	Slots   int             // the number of slots
	Ops     []Op
	Persist []Persist     // written to the keyspace once every op has run
	Timeout time.Duration // how long the plan may wait in its queue; 0: for ever
	// Single marks a one-op AI.MODELEXECUTE or AI.SCRIPTEXECUTE (and their deprecated forms): its
	// reply is one status, not one entry per op, and its model run may be batched with others.
	Single bool
	// Caller is who the scripts' calls into Redis run as; the runtime sets it.
	Caller context.Context

	single [1]Op // Ops of a single run, without an allocation of its own
}

// Persist is a tensor written to the keyspace after a plan succeeded.
type Persist struct {
	Key  []byte
	Slot int
}

// Single is the plan of one model or script run: op reads inputs (slots 0..n-1) and writes one
// slot per output key. The keys are copied; the inputs are borrowed, as Loaded is.
func Single(op Op, inputs []tensor.Tensor, outputKeys [][]byte, timeout time.Duration) *Plan {
	n := len(inputs) + len(outputKeys)
	p := &Plan{Loaded: inputs, Slots: n, Timeout: timeout, Single: true, Persist: make([]Persist, len(outputKeys))}
	slots := make([]int, n)
	for i := range slots {
		slots[i] = i
	}
	op.Inputs, op.Outputs = slots[:len(inputs):len(inputs)], slots[len(inputs):]
	for i, k := range outputKeys {
		p.Persist[i] = Persist{Key: bytes.Clone(k), Slot: len(inputs) + i}
	}
	p.single[0] = op
	p.Ops = p.single[:]
	return p
}

// Detached is the plan of one model or script run whose outputs stay in the run, slots
// len(inputs) on, for a caller outside the keyspace (RedisAI's low-level API): Single's plan with
// nothing to persist, batched as Single's are.
func Detached(op Op, inputs []tensor.Tensor, nOutputs int) *Plan {
	p := Single(op, inputs, make([][]byte, nOutputs), 0)
	p.Persist = nil
	return p
}

// RunsScript reports whether an op of the plan runs a script (which then needs Caller).
func (p *Plan) RunsScript() bool {
	for _, op := range p.Ops {
		if op.Kind == ScriptRun {
			return true
		}
	}
	return false
}

// Release drops the references the plan holds to the tensors its TensorSet ops built; it may be
// called more than once.
//
// Ownership: the plan owns those tensors and copies of every key and argument it keeps (the
// command's arguments do not outlive the command); the loaded tensors, the models and the scripts
// are borrowed from the keyspace, and Submit takes its own references to them. Once submitted, the
// run releases the plan (Run.Release); a plan that is not submitted is released by whoever built it.
func (p *Plan) Release() {
	for i := range p.Ops {
		if t := p.Ops[i].Tensor; !t.IsZero() {
			t.Release()
			p.Ops[i].Tensor = tensor.Tensor{}
		}
	}
}
