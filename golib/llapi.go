package main

// The low-level API for other modules (redisai.h, llapi*.c): what needs Go. Tensors are joined and
// sliced by the tensor package (llapi_tensor.c makes them), models and scripts made with the same
// builder and checks as AI.MODELSTORE and AI.SCRIPTSET, and every run is a plan run by the executor:
// the same queues, batching and statistics as the commands'.

/*
#include "llapi.h"
*/
import "C"

import (
	"context"
	"unsafe"

	"gorai/backends"
	"gorai/commands"
	"gorai/exec"
	"gorai/tensor"
)

// llapiError sets err (which may be NULL) to code and msg.
func llapiError(err *C.RAI_Error, code C.int, msg string) {
	C.gorai_llapi_set_error(err, code, (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

func cTensor(t tensor.Tensor) *C.gorai_tensor { return (*C.gorai_tensor)(t.Pointer()) }

func goTensors(p **C.gorai_tensor, n int) []tensor.Tensor {
	ts := make([]tensor.Tensor, n)
	for i, c := range unsafe.Slice(p, n) {
		ts[i] = tensor.FromPointer(unsafe.Pointer(c))
	}
	return ts
}

//export goraiLLAPIConcat
func goraiLLAPIConcat(ts **C.gorai_tensor, n C.longlong) (t *C.gorai_tensor) {
	defer recoverEntry(nil, "concatenating tensors for another module", func() { t = nil })
	c, err := tensor.Concat(goTensors(ts, int(n)))
	if err != nil {
		return nil
	}
	return cTensor(c)
}

//export goraiLLAPISlice
func goraiLLAPISlice(t *C.gorai_tensor, offset, n C.longlong) (s *C.gorai_tensor) {
	defer recoverEntry(nil, "slicing a tensor for another module", func() { s = nil })
	c, err := tensor.FromPointer(unsafe.Pointer(t)).Slice(int64(offset), int64(offset+n))
	if err != nil {
		return nil
	}
	return cTensor(c)
}

// goraiLLAPIModelCreate builds a model in no key, as AI.MODELSTORE would (the same checks and
// texts), on the calling thread.
//
//export goraiLLAPIModelCreate
func goraiLLAPIModelCreate(backend C.int, device, tag *C.char, opts *C.RAI_ModelOpts, ninputs C.size_t, inputs **C.char,
	noutputs C.size_t, outputs **C.char, blob *C.char, bloblen C.size_t, cerr *C.RAI_Error) (m *C.gorai_model) {
	defer recoverEntry(nil, "creating a model for another module", func() {
		llapiError(cerr, C.RedisAI_ErrorCode_EMODELCREATE, exec.ErrInternal.Error())
		m = nil
	})
	name := backendName(C.uint64_t(backend))
	if backend < 0 || name == "" {
		llapiError(cerr, C.RedisAI_ErrorCode_EUNSUPPORTEDBACKEND, "ERR unsupported backend")
		return nil
	}
	meta := commands.ModelMeta{
		Backend: name, Device: cStringOr(device, "CPU"), Tag: []byte(cStringOr(tag, "")),
		BatchSize: int64(opts.batchsize), MinBatchSize: int64(opts.minbatchsize), MinBatchTimeout: int64(opts.minbatchtimeout),
		Inputs: cStrings(inputs, C.uint64_t(ninputs)), Outputs: cStrings(outputs, C.uint64_t(noutputs)),
	}
	err := commands.CheckLoadedModel(meta)
	cb := &cBlob{C.gorai_alloc_bytes(bloblen), int(bloblen)}
	copy(cb.Bytes(), unsafe.Slice((*byte)(unsafe.Pointer(blob)), int(bloblen)))
	var model backends.Model
	if err == nil {
		model, err = ai.Builder(context.Background(), false).OpenModel(meta, cb.Bytes())
	}
	if err != nil {
		cb.Free()
		llapiError(cerr, C.RedisAI_ErrorCode_EMODELCREATE, err.Error())
		return nil
	}
	return newStoredModel(meta, ai.NewUnlistedModelSession(meta, model), model, cb)
}

// goraiLLAPIScriptCreate compiles a TorchScript script in no key, as AI.SCRIPTSET would.
//
//export goraiLLAPIScriptCreate
func goraiLLAPIScriptCreate(device, tag, source *C.char, cerr *C.RAI_Error) (s *C.gorai_script) {
	defer recoverEntry(nil, "creating a script for another module", func() {
		llapiError(cerr, C.RedisAI_ErrorCode_ESCRIPTCREATE, exec.ErrInternal.Error())
		s = nil
	})
	meta := commands.ScriptMeta{Device: cStringOr(device, "CPU"), Tag: []byte(cStringOr(tag, ""))}
	src := []byte(cStringOr(source, ""))
	compiled, err := ai.Builder(context.Background(), false).OpenScript(meta, src)
	if err != nil {
		llapiError(cerr, C.RedisAI_ErrorCode_ESCRIPTCREATE, err.Error())
		return nil
	}
	return newStoredScript(meta, ai.NewUnlistedScriptSession(meta, compiled), src)
}

func cStringOr(s *C.char, or string) string {
	if s == nil {
		return or
	}
	return C.GoString(s)
}

// llapiPlan is the plan of a run context: its inputs by position, its outputs left in the run.
func llapiPlan(run *C.gorai_llapi_run) *exec.Plan {
	op := exec.Op{Kind: exec.ModelRun, Model: storedModel{run.model}}
	if run.model == nil {
		op = exec.Op{Kind: exec.ScriptRun, Script: storedScript{run.script}, Function: C.GoString(run.function)}
	}
	p := exec.Detached(op, goTensors(run.inputs, int(run.ninputs)), int(run.noutputs))
	if run.model == nil {
		p.Caller = moduleCaller()
	}
	return p
}

// runError is the code and text of a run's error in the low-level API (OK when none).
func runError(r *exec.Run) (C.int, string) {
	if r.Err == nil {
		return C.RedisAI_ErrorCode_OK, ""
	}
	if r.Done >= len(r.Plan.Ops) {
		return C.RedisAI_ErrorCode_EDAGRUN, r.Err.Error()
	}
	switch r.Plan.Ops[r.Done].Kind {
	case exec.ModelRun:
		return C.RedisAI_ErrorCode_EMODELRUN, r.Err.Error()
	case exec.ScriptRun:
		return C.RedisAI_ErrorCode_ESCRIPTRUN, r.Err.Error()
	}
	return C.RedisAI_ErrorCode_EDAGRUN, r.Err.Error()
}

// keepOutputs gives a run context its outputs (a reference each) when the run succeeded.
func keepOutputs(run *C.gorai_llapi_run, r *exec.Run) {
	if r.Err != nil {
		return
	}
	outputs := unsafe.Slice(run.outputs, int(run.noutputs))
	for i, out := range outputs {
		C.gorai_tensor_release(out) // from an earlier run of the same context
		t := r.Slot(int(run.ninputs) + i)
		if !t.IsZero() {
			t.Retain()
		}
		outputs[i] = cTensor(t)
	}
}

// goraiLLAPIRun runs a model's or script's run context on the calling thread.
//
//export goraiLLAPIRun
func goraiLLAPIRun(run *C.gorai_llapi_run, cerr *C.RAI_Error) (status C.int) {
	defer recoverEntry(nil, "running for another module", func() {
		llapiError(cerr, C.RedisAI_ErrorCode_EMODELRUN, exec.ErrInternal.Error())
		status = C.REDISMODULE_ERR
	})
	r := ai.Exec.RunHere(llapiPlan(run))
	defer r.Release()
	keepOutputs(run, r)
	if code, msg := runError(r); code != C.RedisAI_ErrorCode_OK {
		llapiError(cerr, code, msg)
		return C.REDISMODULE_ERR
	}
	return C.REDISMODULE_OK
}

// goraiLLAPIRunAsync queues a model's or script's run context; cb gets it on a worker when it is over.
//
//export goraiLLAPIRunAsync
func goraiLLAPIRunAsync(run *C.gorai_llapi_run, cb C.RAI_OnFinishCB, private unsafe.Pointer) (status C.int) {
	defer recoverEntry(nil, "queueing a run for another module", func() { status = C.REDISMODULE_ERR })
	if cb == nil {
		return C.REDISMODULE_ERR
	}
	submitRun(llapiPlan(run), func(r *exec.Run) { keepOutputs(run, r) }, func(code C.int, msg string) {
		finishCall(cb, private, run, nil, code, msg)
	})
	return C.REDISMODULE_OK
}

// submitRun submits p; on the worker, when the run is over, it calls collect with it, then done with
// its error (OK when none), then releases it. done is called whatever happens, once: a module
// waiting for it must not wait for ever.
func submitRun(p *exec.Plan, collect func(r *exec.Run), done func(code C.int, msg string)) {
	submitted := make(chan *exec.Run, 1) // the run, once Submit has returned it
	submitted <- ai.Exec.Submit(p, func() {
		r := <-submitted
		defer r.Release()
		code, msg := C.int(C.RedisAI_ErrorCode_EDAGRUN), exec.ErrInternal.Error()
		func() {
			defer recoverEntry(nil, "finishing a run for another module", nil)
			collect(r)
			code, msg = runError(r)
		}()
		done(code, msg)
	})
}

func finishCall(cb C.RAI_OnFinishCB, private unsafe.Pointer, run *C.gorai_llapi_run, dag *C.gorai_llapi_dag, code C.int, msg string) {
	C.gorai_llapi_finish_call(cb, private, run, dag, code, (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}
