package main

// The low-level API's DAGs (llapi_dag.c): a commands.DAGBuilder and its ops behind handles, run as
// AI.DAGEXECUTE's plans are.

/*
#include "llapi.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"

	"gorai/commands"
	"gorai/exec"
	"gorai/tensor"
)

func dagBuilder(h C.uintptr_t) *commands.DAGBuilder {
	return cgo.Handle(h).Value().(*commands.DAGBuilder)
}
func dagOp(h C.uintptr_t) *commands.DAGOp { return cgo.Handle(h).Value().(*commands.DAGOp) }

//export goraiLLAPIDAGNew
func goraiLLAPIDAGNew() C.uintptr_t { return C.uintptr_t(cgo.NewHandle(commands.NewDAGBuilder())) }

//export goraiLLAPIDAGFree
func goraiLLAPIDAGFree(h C.uintptr_t) {
	defer recoverEntry(nil, "freeing a DAG of another module", nil)
	dagBuilder(h).Release()
	cgo.Handle(h).Delete()
}

//export goraiLLAPIOpNew
func goraiLLAPIOpNew(model *C.gorai_model, script *C.gorai_script, function *C.char) C.uintptr_t {
	if model != nil {
		return C.uintptr_t(cgo.NewHandle(commands.NewModelOp(storedModel{model})))
	}
	return C.uintptr_t(cgo.NewHandle(commands.NewScriptOp(storedScript{script}, C.GoString(function))))
}

//export goraiLLAPIOpAddName
func goraiLLAPIOpAddName(h C.uintptr_t, name *C.char, output C.int) {
	if output != 0 {
		dagOp(h).AddOutput(C.GoString(name))
	} else {
		dagOp(h).AddInput(C.GoString(name))
	}
}

//export goraiLLAPIOpFree
func goraiLLAPIOpFree(h C.uintptr_t) {
	dagOp(h).Release()
	cgo.Handle(h).Delete()
}

// goraiLLAPIDAGAddOp gives the op to the DAG: its handle goes, the op stays with the builder.
//
//export goraiLLAPIDAGAddOp
func goraiLLAPIDAGAddOp(dag, op C.uintptr_t, cerr *C.RAI_Error) C.int {
	if err := dagBuilder(dag).AddOp(dagOp(op)); err != nil {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGBUILDER, err.Error())
		return C.REDISMODULE_ERR
	}
	cgo.Handle(op).Delete()
	return C.REDISMODULE_OK
}

//export goraiLLAPIDAGLoad
func goraiLLAPIDAGLoad(dag C.uintptr_t, name *C.char, t *C.gorai_tensor) C.int {
	if !dagBuilder(dag).Load(C.GoString(name), tensor.FromPointer(unsafe.Pointer(t))) {
		return C.REDISMODULE_ERR
	}
	return C.REDISMODULE_OK
}

//export goraiLLAPIDAGTensorSet
func goraiLLAPIDAGTensorSet(dag C.uintptr_t, name *C.char, t *C.gorai_tensor) C.int {
	dagBuilder(dag).AddTensorSet(C.GoString(name), tensor.FromPointer(unsafe.Pointer(t)))
	return C.REDISMODULE_OK
}

//export goraiLLAPIDAGTensorGet
func goraiLLAPIDAGTensorGet(dag C.uintptr_t, name *C.char) C.int {
	dagBuilder(dag).AddTensorGet(C.GoString(name))
	return C.REDISMODULE_OK
}

// goraiLLAPIDAGAddOpsFromString parses ops, reading their models and scripts from database 0 (under
// Redis' lock: see gorai_llapi_keyspace).
//
//export goraiLLAPIDAGAddOpsFromString
func goraiLLAPIDAGAddOpsFromString(dag C.uintptr_t, ops *C.char, cerr *C.RAI_Error) (status C.int) {
	defer recoverEntry(nil, "parsing a DAG of another module", func() {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGBUILDER, exec.ErrInternal.Error())
		status = C.REDISMODULE_ERR
	})
	var took C.int
	ctx := C.gorai_llapi_keyspace(&took)
	defer C.gorai_unlock(ctx, took)
	call := callPool.Get().(*redisCall)
	call.ctx = ctx
	defer func() {
		call.reset()
		callPool.Put(call)
	}()
	if err := dagBuilder(dag).AddOpsFromString(call.env(), C.GoString(ops)); err != nil {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGBUILDER, err.Error())
		return C.REDISMODULE_ERR
	}
	return C.REDISMODULE_OK
}

//export goraiLLAPIDAGNumOps
func goraiLLAPIDAGNumOps(dag C.uintptr_t) C.size_t { return C.size_t(dagBuilder(dag).NumOps()) }

// goraiLLAPIDAGRun queues the DAG's plan; cb gets the DAG's TENSORGET outputs, which the DAG keeps.
//
//export goraiLLAPIDAGRun
func goraiLLAPIDAGRun(dag *C.gorai_llapi_dag, cb C.RAI_OnFinishCB, private unsafe.Pointer, cerr *C.RAI_Error) (status C.int) {
	defer recoverEntry(nil, "queueing a DAG of another module", func() {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGRUN, exec.ErrInternal.Error())
		status = C.REDISMODULE_ERR
	})
	if cb == nil {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGRUN, "ERR no callback for the DAG's end")
		return C.REDISMODULE_ERR
	}
	plan, err := dagBuilder(dag.builder).Plan()
	if err != nil {
		llapiError(cerr, C.RedisAI_ErrorCode_EDAGBUILDER, err.Error())
		return C.REDISMODULE_ERR
	}
	if plan.RunsScript() {
		plan.Caller = moduleCaller()
	}
	submitRun(plan, func(r *exec.Run) { keepGets(dag, r) }, func(code C.int, msg string) {
		finishCall(cb, private, nil, dag, code, msg)
	})
	return C.REDISMODULE_OK
}

// keepGets gives the DAG the tensors its TENSORGET ops read (a reference each), when it succeeded.
func keepGets(dag *C.gorai_llapi_dag, r *exec.Run) {
	if r.Err != nil {
		return
	}
	var gets []tensor.Tensor
	for _, op := range r.Plan.Ops {
		if op.Kind == exec.TensorGet {
			gets = append(gets, r.Slot(op.Inputs[0]))
		}
	}
	block := (**C.gorai_tensor)(unsafe.Pointer(C.gorai_alloc_bytes(C.size_t(len(gets)) * C.size_t(unsafe.Sizeof(uintptr(0))))))
	outputs := unsafe.Slice(block, len(gets))
	for i, t := range gets {
		if !t.IsZero() { // zero: a tensor the runtime could not express
			t.Retain()
		}
		outputs[i] = cTensor(t)
	}
	dag.outputs, dag.noutputs = block, C.size_t(len(gets))
}
