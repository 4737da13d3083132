package main

/*
#include "module.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync/atomic"
	"time"

	"gorai/commands"
	"gorai/dlpack"
	"gorai/engine"
)

// dagJob is one AI.DAGEXECUTE (or DAGRUN) in flight: its ops run in order on one worker, over the
// DAG's tensor slots; the reply (one entry per op) and the PERSIST writes happen on the main
// thread. It holds references to everything it uses, as single runs do.
type dagJob struct {
	bc     *C.RedisModuleBlockedClient
	handle cgo.Handle
	plan   *commands.DAGPlan // taken over from the handler: released in free
	slots  []dlpack.Tensor   // one reference each
	// sessions[i] is op i's model or script session; release drops the references to them.
	sessions []*session
	releases []func()
	caller   context.Context // who the scripts' calls into Redis run as

	// Set on the worker, read on the main thread after the unblock.
	done     int   // ops run successfully
	failure  error // the error of op done, if any
	timedOut bool

	gone atomic.Bool
}

// dagNA is the entry of an op that did not run.
const dagNA = "NA"

// ExecuteDAG blocks the client and queues the DAG on the queue of its first model or script (the
// CPU queue when it has none). It takes the plan over when it succeeds.
func (c *redisCall) ExecuteDAG(plan *commands.DAGPlan) error {
	j := &dagJob{plan: plan, slots: make([]dlpack.Tensor, plan.Slots), sessions: make([]*session, len(plan.Ops))}
	for i, op := range plan.Ops {
		switch op.Kind {
		case commands.DAGModelExecute:
			m := op.Model.(storedModel)
			C.gorai_model_retain(m.c)
			j.sessions[i] = m.session()
			j.releases = append(j.releases, func() { C.gorai_model_release(m.c) })
		case commands.DAGScriptExecute:
			s := op.Script.(storedScript)
			C.gorai_script_retain(s.c)
			j.sessions[i] = s.session()
			j.releases = append(j.releases, func() { C.gorai_script_release(s.c) })
			if j.caller == nil {
				j.caller = c.callerContext()
			}
		}
	}
	bc, h, err := c.block(j, &j.gone)
	if err != nil {
		j.releaseStored() // the plan stays the handler's
		return err
	}
	j.bc, j.handle = bc, h
	for i, t := range plan.Loaded {
		t.Retain()
		j.slots[i] = t
	}
	queue := ai.engine.Queue("CPU")
	for _, s := range j.sessions {
		if s != nil {
			queue = s.queue
			break
		}
	}
	queue.Submit(&engine.Job{
		Timeout:  plan.Timeout,
		Run:      func() { j.run(); unblock(j.bc, j.handle) },
		TimedOut: func() { j.timedOut = true; unblock(j.bc, j.handle) },
	})
	return nil
}

// run runs the ops in order until one fails; the others are left undone.
func (j *dagJob) run() {
	defer recoverEntry(nil, "running a DAG", func() { j.failure = errInternal })
	if j.gone.Load() {
		j.failure = errClientGone
		return
	}
	for i, op := range j.plan.Ops {
		if err := j.runOp(op, j.sessions[i]); err != nil {
			j.failure = err
			return
		}
		j.done++
	}
}

func (j *dagJob) runOp(op commands.DAGOp, s *session) error {
	switch op.Kind {
	case commands.DAGTensorSet:
		op.Tensor.Retain()
		j.set(op.Outputs[0], op.Tensor)
		return nil
	case commands.DAGTensorGet:
		return nil // the reply reads the slot
	}
	inputs := make([]dlpack.Tensor, len(op.Inputs))
	for k, slot := range op.Inputs {
		inputs[k] = j.slots[slot]
	}
	start := time.Now()
	var outputs []dlpack.Tensor
	var err error
	if op.Kind == commands.DAGModelExecute {
		outputs, err = s.model.Run(inputs)
	} else {
		outputs, err = s.script.Run(j.caller, op.Function, inputs, toStrings(op.Keys), toStrings(op.Args), len(op.Outputs))
	}
	err = recordRun(s, time.Since(start), outputs, len(op.Outputs), err)
	for k, t := range outputs {
		if err == nil {
			j.set(op.Outputs[k], t)
		} else if !t.IsZero() {
			t.Release()
		}
	}
	return err
}

// set puts t (a reference the DAG owns) in a slot.
func (j *dagJob) set(slot int, t dlpack.Tensor) {
	if old := j.slots[slot]; !old.IsZero() {
		old.Release()
	}
	j.slots[slot] = t
}

// reply sends one entry per op: OK, the tensor for TENSORGET, the failed op's error, NA for ops
// not run. When every op ran, the PERSIST tensors are written and replicated as AI.TENSORSET; a
// key holding another type adds one error entry.
func (j *dagJob) reply(call *redisCall) error {
	if j.timedOut {
		call.effects.simple("TIMEDOUT")
		return nil
	}
	var persistErr error
	if j.failure == nil {
		for _, p := range j.plan.Persist {
			if _, err := call.Tensor(p.Key); err != nil {
				persistErr = err
			}
		}
	}
	n := len(j.plan.Ops)
	if persistErr != nil {
		n++
	}
	out := &call.effects
	out.Array(n)
	for i, op := range j.plan.Ops {
		switch {
		case i > j.done:
			out.simple(dagNA)
		case i == j.done:
			if j.failure != nil {
				out.errorElement(j.failure.Error())
			} else {
				out.simple(dagNA)
			}
		case op.Kind == commands.DAGTensorGet:
			if t := j.slots[op.Inputs[0]]; !t.IsZero() {
				commands.ReplyTensor(out, t, op.Format)
			} else {
				out.simple(dagNA)
			}
		default:
			out.OK()
		}
	}
	if persistErr != nil {
		out.errorElement(persistErr.Error())
	}
	if j.failure != nil {
		return nil
	}
	for _, p := range j.plan.Persist {
		t := j.slots[p.Slot]
		if t.IsZero() {
			continue
		}
		if _, err := call.Tensor(p.Key); err != nil {
			continue
		}
		t.Retain()
		call.effects.key(-1, p.Key)
		call.effects.setTensor(t)
		call.effects.replicateTensor(t)
	}
	return nil
}

func (j *dagJob) free() {
	for _, t := range j.slots {
		if !t.IsZero() {
			t.Release()
		}
	}
	j.plan.Release()
	j.releaseStored()
}

// releaseStored drops the references to the DAG's models and scripts.
func (j *dagJob) releaseStored() {
	for _, r := range j.releases {
		r()
	}
}
