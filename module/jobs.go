package main

/*
#include "module.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"sync/atomic"
	"time"

	"gorai/commands"
	"gorai/dlpack"
	"gorai/engine"
)

// job is one AI.MODELEXECUTE or AI.SCRIPTEXECUTE in flight. It holds its own references to the
// model or script and to the input tensors, so deleting or overwriting them meanwhile is safe; the
// client is blocked until it is done, and the outputs are written on the main thread, in the reply
// callback.
type job struct {
	bc         *C.RedisModuleBlockedClient
	session    *session
	call       func(inputs []dlpack.Tensor) ([]dlpack.Tensor, error) // the backend's run
	release    func()                                                // drops the model or script
	inputs     []dlpack.Tensor
	outputKeys [][]byte
	handle     cgo.Handle    // what the reply and free callbacks get
	batch      *engine.Batch // for models stored with BATCHSIZE

	// Set on the worker, read on the main thread after the unblock.
	outputs  []dlpack.Tensor
	err      error
	timedOut bool

	// gone is set on the main thread when the client disconnects: a job not yet run is skipped.
	gone atomic.Bool
}

// blockedWork is what a blocked client waits for: a single run or a DAG.
type blockedWork interface {
	// reply writes the results and replies, on the main thread, when the client is still there.
	reply(call *redisCall) error
	// free drops the work's references, whether or not its reply was sent.
	free()
}

// goneFlags finds, by its blocked client, the flag that tells a worker the client has gone, for
// the disconnect callback. Main thread only.
var goneFlags = map[*C.RedisModuleBlockedClient]*atomic.Bool{}

// cannotBlock are the contexts in which Redis cannot block the client: MULTI, scripts, and whatever
// else denies blocking.
const cannotBlock = inTransaction | C.REDISMODULE_CTX_FLAGS_DENY_BLOCKING

// inTransaction are the contexts in which RedisAI refuses every run, before parsing it.
const inTransaction = C.REDISMODULE_CTX_FLAGS_LUA | C.REDISMODULE_CTX_FLAGS_MULTI

func (c *redisCall) CanExecute() error {
	if C.gorai_context_flags(c.ctx)&inTransaction != 0 {
		return errInTransaction
	}
	return nil
}

// block blocks the client until w is done, and returns the handle that its reply and free
// callbacks get; gone, when not nil, is set if the client disconnects meanwhile. Inside MULTI or a
// script it refuses.
func (c *redisCall) block(w blockedWork, gone *atomic.Bool) (*C.RedisModuleBlockedClient, cgo.Handle, error) {
	if C.gorai_context_flags(c.ctx)&cannotBlock != 0 {
		return nil, 0, errInTransaction
	}
	bc := C.gorai_block(c.ctx)
	goneFlags[bc] = gone
	return bc, cgo.NewHandle(&blocked{w, bc}), nil
}

// blocked is what the reply and free callbacks get: the work and its client.
type blocked struct {
	work blockedWork
	bc   *C.RedisModuleBlockedClient
}

// unblock hands w's handle back to Redis, which calls the reply (main thread) and free callbacks.
func unblock(bc *C.RedisModuleBlockedClient, h cgo.Handle) { C.gorai_unblock(bc, C.uintptr_t(h)) }

// errClientGone is the outcome of a job skipped because its client left; nobody reads it.
var errClientGone = errors.New("ERR client disconnected")

// ExecuteModel blocks the client and queues the run on the model's device.
func (c *redisCall) ExecuteModel(run commands.ModelExecution) error {
	m := run.Model.(storedModel)
	model := m.session().model
	C.gorai_model_retain(m.c)
	j := &job{session: m.session(), call: model.Run, release: func() { C.gorai_model_release(m.c) }}
	j.batch = batchFor(m, j, run.Inputs)
	return c.submit(j, run.Inputs, run.OutputKeys, run.Timeout)
}

// submit blocks the client and queues j on its session's device, with its own references to the
// inputs and copies of the output keys. Inside MULTI or a script it refuses, dropping j.
func (c *redisCall) submit(j *job, inputs []dlpack.Tensor, outputKeys [][]byte, timeout time.Duration) error {
	bc, h, err := c.block(j, &j.gone)
	if err != nil {
		j.release()
		return err
	}
	j.bc, j.handle = bc, h
	j.inputs = make([]dlpack.Tensor, len(inputs))
	for i, t := range inputs {
		t.Retain()
		j.inputs[i] = t
	}
	for _, k := range outputKeys {
		j.outputKeys = append(j.outputKeys, append([]byte(nil), k...))
	}
	j.session.queue.Submit(&engine.Job{
		Timeout:  timeout,
		Run:      func() { j.run(); j.finish() },
		TimedOut: func() { j.timedOut = true; j.finish() },
		Batch:    j.batch,
	})
	return nil
}

// run calls the backend on a worker and records the statistics. A panic in a backend becomes the
// job's error: it must not take the server down, and the client must still be answered.
func (j *job) run() {
	defer recoverEntry(nil, "running a model or script", func() { j.err = errInternal })
	if j.gone.Load() {
		j.err = errClientGone
		return
	}
	start := time.Now()
	j.outputs, j.err = j.call(j.inputs)
	j.record(time.Since(start))
}

// record checks the outputs and adds the run to the statistics (see recordRun).
func (j *job) record(d time.Duration) {
	j.err = recordRun(j.session, d, j.outputs, len(j.outputKeys), j.err)
}

// recordRun checks that a run gave the outputs expected and adds it to the session's statistics:
// its duration and batch size (dim 0 of the first output; AI.INFO shows none for scripts). It
// returns the run's error.
func recordRun(s *session, d time.Duration, outputs []dlpack.Tensor, want int, err error) error {
	if err == nil && len(outputs) != want {
		err = errOutputCount
	}
	var samples int64
	if err == nil && len(outputs) > 0 && !outputs[0].IsZero() {
		samples = outputs[0].BatchSize()
	}
	ai.stats.Record(s.stats, d.Microseconds(), samples, err != nil)
	return err
}

var errInternal = errors.New("ERR internal error in gorai, see the server log")

var errOutputCount = errors.New("ERR the model gave a different number of outputs than it declares")

func (j *job) finish() { unblock(j.bc, j.handle) }

// goraiJobReply runs on the main thread once a run or DAG is done: it writes the results and
// replies. It is not called when the client has gone.
//
//export goraiJobReply
func goraiJobReply(ctx *C.RedisModuleCtx, h C.uintptr_t) C.int {
	defer recoverEntry(ctx, "replying to a run", nil)
	w := cgo.Handle(h).Value().(*blocked).work
	call := callPool.Get().(*redisCall)
	call.ctx = ctx
	defer func() {
		call.reset()
		callPool.Put(call)
	}()
	call.run(func(commands.Env, [][]byte) error { return w.reply(call) })
	return C.REDISMODULE_OK
}

// reply writes the outputs, replicating each as AI.TENSORSET, and replies.
func (j *job) reply(call *redisCall) error {
	switch {
	case j.timedOut:
		call.effects.simple("TIMEDOUT")
		return nil
	case j.err != nil:
		return j.err
	}
	for _, k := range j.outputKeys {
		if _, err := call.Tensor(k); err != nil {
			return err
		}
	}
	for i, t := range j.outputs {
		if t.IsZero() {
			continue
		}
		call.effects.key(-1, j.outputKeys[i])
		call.effects.setTensor(t)
		call.effects.replicateTensor(t)
		j.outputs[i] = dlpack.Tensor{} // now the keyspace's
	}
	call.effects.OK()
	return nil
}

// goraiJobFree drops a run's or DAG's references, whether or not its reply was sent.
//
//export goraiJobFree
func goraiJobFree(h C.uintptr_t) {
	defer recoverEntry(nil, "freeing a run", nil)
	handle := cgo.Handle(h)
	b := handle.Value().(*blocked)
	handle.Delete()
	delete(goneFlags, b.bc)
	b.work.free()
}

func (j *job) free() {
	for _, t := range append(j.inputs, j.outputs...) {
		if !t.IsZero() {
			t.Release()
		}
	}
	j.release()
}

// goraiJobDisconnected marks the run or DAG of a client that has gone, so that a worker skips it.
//
//export goraiJobDisconnected
func goraiJobDisconnected(bc *C.RedisModuleBlockedClient) {
	defer recoverEntry(nil, "after a disconnection", nil)
	if gone := goneFlags[bc]; gone != nil {
		gone.Store(true)
	}
}
