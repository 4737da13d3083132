package main

/*
#include "module.h"
*/
import "C"

import (
	"encoding/binary"
	"math"
	"unsafe"

	"gorai/dlpack"
)

// effects is what a command does to Redis: its keyspace writes, its replication and its reply.
// Handlers only queue them; they are applied together by one C call (gorai_apply, module.h lists
// the ops) once the handler has succeeded, so a command that fails changes nothing, and the hot path
// crosses into C once. Bytes from Go are copied in: C never sees Go pointers.
type effects struct {
	buf     []byte
	tensors []dlpack.Tensor   // queued tensor writes, whose references are dropped if the command fails
	models  []*C.gorai_model  // queued model writes, likewise
	scripts []*C.gorai_script // queued script writes, likewise
	held    []dlpack.Tensor   // tensors whose data the reply refers to, held until it is sent
}

func (e *effects) op(op byte, v int64) {
	e.buf = append(e.buf, op)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(v))
}

func (e *effects) bytes(b []byte) {
	e.op(C.GORAI_BYTES, int64(len(b)))
	e.buf = append(e.buf, b...)
}

// key names the key of the next op: the index of the argument holding it, or its bytes when it is
// not an argument (arg < 0).
func (e *effects) key(arg int, key []byte) {
	if arg >= 0 {
		e.op(C.GORAI_KEY_ARG, int64(arg))
		return
	}
	e.bytes(key)
	e.buf = append(e.buf, C.GORAI_KEY_BYTES)
}

// setTensor queues storing t at the key, taking over the reference.
func (e *effects) setTensor(t dlpack.Tensor) {
	e.op(C.GORAI_SET_TENSOR, int64(uintptr(t.Pointer())))
	e.tensors = append(e.tensors, t)
}

// setModel queues storing m at the key, taking over the reference.
func (e *effects) setModel(m *C.gorai_model) {
	e.op(C.GORAI_SET_MODEL, int64(uintptr(unsafe.Pointer(m))))
	e.models = append(e.models, m)
}

// setScript queues storing s at the key, taking over the reference.
func (e *effects) setScript(s *C.gorai_script) {
	e.op(C.GORAI_SET_SCRIPT, int64(uintptr(unsafe.Pointer(s))))
	e.scripts = append(e.scripts, s)
}

func (e *effects) deleteKey() { e.buf = append(e.buf, C.GORAI_DELETE) }

// replicateTensor queues sending AI.TENSORSET key TYPE dims... BLOB data to replicas and the AOF;
// t must stay alive until the effects are applied.
func (e *effects) replicateTensor(t dlpack.Tensor) {
	e.op(C.GORAI_REPLICATE_TENSOR, int64(uintptr(t.Pointer())))
}

func (e *effects) replicateVerbatim() { e.buf = append(e.buf, C.GORAI_REPLICATE_VERBATIM) }

// The commands.Reply methods.

func (e *effects) OK() { e.buf = append(e.buf, C.GORAI_REPLY_OK) }

// Simple sends a simple string.
func (e *effects) Simple(s string) {
	e.op(C.GORAI_REPLY_SIMPLE, int64(len(s)))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
}
func (e *effects) Null()            { e.buf = append(e.buf, C.GORAI_REPLY_NULL) }
func (e *effects) Array(n int)      { e.op(C.GORAI_REPLY_ARRAY, int64(n)) }
func (e *effects) Int(v int64)      { e.op(C.GORAI_REPLY_INT, v) }
func (e *effects) Double(v float64) { e.op(C.GORAI_REPLY_DOUBLE, int64(math.Float64bits(v))) }

func (e *effects) Bulk(s string) {
	e.op(C.GORAI_REPLY_BULK, int64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *effects) BulkBytes(b []byte) {
	e.op(C.GORAI_REPLY_BULK, int64(len(b)))
	e.buf = append(e.buf, b...)
}

// TensorData refers to the tensor's C memory, holding a reference until the reply is sent (a write
// queued before it may replace the tensor in the keyspace).
func (e *effects) TensorData(t dlpack.Tensor) {
	t.Retain()
	e.held = append(e.held, t)
	d := t.Data()
	var p uintptr
	if len(d) > 0 {
		p = uintptr(unsafe.Pointer(&d[0]))
	}
	e.op(C.GORAI_REPLY_BULK_PTR, int64(p))
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(len(d)))
}

// Error adds an error reply, as an element of an array (a DAG's failed op).
func (e *effects) Error(text string) {
	e.op(C.GORAI_REPLY_ERROR, int64(len(text)))
	e.buf = append(e.buf, text...)
	e.buf = append(e.buf, 0)
}

// fail drops everything queued and replies with an error instead.
func (e *effects) fail(text string) {
	e.discard()
	e.Error(text)
}

// failArity drops everything queued and replies with Redis' wrong-arity error.
func (e *effects) failArity() {
	e.discard()
	e.buf = append(e.buf, C.GORAI_REPLY_ARITY)
}

func (e *effects) discard() {
	for _, t := range e.tensors {
		t.Release()
	}
	for _, m := range e.models {
		C.gorai_model_release(m)
	}
	for _, s := range e.scripts {
		C.gorai_script_release(s)
	}
	e.reset()
}

// reset empties the effects once applied or discarded, dropping the held references.
func (e *effects) reset() {
	for _, t := range e.held {
		t.Release()
	}
	e.buf = e.buf[:0]
	clear(e.tensors)
	e.tensors = e.tensors[:0]
	clear(e.models)
	e.models = e.models[:0]
	clear(e.scripts)
	e.scripts = e.scripts[:0]
	clear(e.held)
	e.held = e.held[:0]
}

// apply sends the effects; keys given as argument indexes refer to argv.
func (e *effects) apply(ctx *C.RedisModuleCtx, argv []*C.RedisModuleString) {
	if len(e.buf) > 0 {
		C.gorai_apply(ctx, unsafe.SliceData(argv), (*C.uchar)(unsafe.Pointer(&e.buf[0])), C.size_t(len(e.buf)))
	}
	e.reset()
}
