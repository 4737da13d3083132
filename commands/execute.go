package commands

// The runs of AI.MODELEXECUTE, AI.SCRIPTEXECUTE, the DAG commands and their deprecated forms: each
// is a plan (a single run a one-op plan) that the runtime runs in the background; when it is over,
// ReplyRun writes its outputs and its reply on the main thread.

import (
	"gorai/exec"
	"gorai/tensor"
)

// dagNA is the entry of a DAG op that did not run.
const dagNA = "NA"

// errTensorEmpty is RedisAI's error for a key read as a tensor that holds nothing (AI.TENSORGET's,
// in C, has the same text).
var errTensorEmpty = errf("ERR tensor key is empty or in a different shard")

// readInputs reads the tensors a run takes, borrowed from the keyspace.
func readInputs(env Env, keys [][]byte) ([]tensor.Tensor, error) {
	tensors := make([]tensor.Tensor, len(keys))
	for i, k := range keys {
		t, err := env.Keys.Tensor(k)
		if err != nil {
			return nil, err
		}
		if t.IsZero() {
			return nil, errTensorEmpty
		}
		tensors[i] = t
	}
	return tensors, nil
}

// execute hands the plan to the runtime, which replies when the run is over; when the runtime
// refuses it, the plan is released here.
func execute(env Env, plan *exec.Plan) error {
	if err := env.Runtime.Execute(plan); err != nil {
		plan.Release()
		return err
	}
	return nil
}

// ReplyRun writes a finished run's outputs to the keyspace, replicated as AI.TENSORSET, and its
// reply: for a single run, OK or its error; for a DAG, one entry per op.
func ReplyRun(env Env, r *exec.Run) error {
	if r.TimedOut {
		env.Out.Simple("TIMEDOUT")
		return nil
	}
	if r.Plan.Single {
		return replySingle(env, r)
	}
	replyDAG(env, r)
	return nil
}

// replySingle writes every output (none when a key holds another type) and replies OK.
func replySingle(env Env, r *exec.Run) error {
	if r.Err != nil {
		return r.Err
	}
	writable, err := checkPersist(env, r)
	if err != nil {
		return err
	}
	persist(env, r, writable)
	env.Out.OK()
	return nil
}

// replyDAG sends one entry per op: OK, the tensor for TENSORGET, the failed op's error, NA for ops
// not run. When every op ran, the PERSIST tensors are written; when a PERSIST key holds another type,
// none is (RedisAI wrote the others), and the reply has one error entry more, as RedisAI's.
func replyDAG(env Env, r *exec.Run) {
	var writable []bool
	var persistErr error
	if r.Err == nil {
		writable, persistErr = checkPersist(env, r)
	}
	n := len(r.Plan.Ops)
	if persistErr != nil {
		n++
	}
	out := env.Out
	out.Array(n)
	for i, op := range r.Plan.Ops {
		switch {
		case i > r.Done:
			out.Simple(dagNA)
		case i == r.Done:
			if r.Err != nil {
				out.Error(r.Err.Error())
			} else {
				out.Simple(dagNA)
			}
		case op.Kind == exec.TensorGet:
			if t := r.Slot(op.Inputs[0]); !t.IsZero() {
				out.Tensor(t, op.Format)
			} else {
				out.Simple(dagNA)
			}
		default:
			out.OK()
		}
	}
	if persistErr != nil {
		out.Error(persistErr.Error())
	}
	if r.Err == nil && persistErr == nil {
		persist(env, r, writable)
	}
}

// checkPersist looks up each key the run writes: which may be written, and the error of the last
// that holds another type.
func checkPersist(env Env, r *exec.Run) ([]bool, error) {
	var few [8]bool // most runs write a few keys: no allocation
	writable := few[:0]
	if len(r.Plan.Persist) > len(few) {
		writable = make([]bool, 0, len(r.Plan.Persist))
	}
	writable = writable[:len(r.Plan.Persist)]
	var err error
	for i, p := range r.Plan.Persist {
		if _, e := env.Keys.Tensor(p.Key); e != nil {
			err = e
			continue
		}
		writable[i] = true
	}
	return writable, err
}

// persist writes the run's outputs to their writable keys, skipping outputs the runtime could not
// express.
func persist(env Env, r *exec.Run, writable []bool) {
	for i, p := range r.Plan.Persist {
		if t := r.Slot(p.Slot); writable[i] && !t.IsZero() {
			t.Retain()
			env.Keys.PersistTensor(p.Key, t)
		}
	}
}
