// Package effects is what a command does to Redis: its keyspace writes, its replication and its
// reply, queued as one byte program that the module applies with one C call (gorai_apply). Handlers
// only queue; the program is applied once the handler has succeeded, so a command that fails changes
// nothing. Bytes from Go are copied into the program: C never sees Go pointers, only the addresses of
// tensors, models and scripts, which live in C memory. The module lends the program memory of its C
// trampoline (WriteInto), which applies the program once Go has returned, so the hot path makes no
// call from Go into C for it; a program outgrowing that memory moves to the Go heap.
//
// Each op is one byte (the values module.h gives them, which the module checks at load) followed by
// a little-endian 64-bit operand where it has one.
package effects

import (
	"encoding/binary"
	"unsafe"

	"gorai/tensor"
)

// The ops, as module.h names them (GORAI_*).
const (
	OpBytes             = 'b' // length, bytes: the operand of the next op
	OpKeyArg            = 'k' // argv index: the key of the next op
	OpKeyBytes          = 'K' // the key of the next op is in the preceding bytes
	OpSetTensor         = 'T' // tensor address: stored at the key
	OpSetModel          = 'M' // model address: stored at the key
	OpSetScript         = 'C' // script address: stored at the key
	OpDelete            = 'X' // the key is deleted
	OpReplicateTensor   = 'R' // tensor address: AI.TENSORSET key TYPE dims... BLOB data is replicated
	OpReplicateVerbatim = 'V'
	OpReplySimple       = 'S' // length, bytes, NUL
	OpReplyOK           = 'O'
	OpReplyArray        = 'A' // length
	OpReplyBulk         = 'B' // length, bytes
	OpReplyInt          = 'I' // value
	OpReplyNull         = 'N'
	OpReplyError        = 'E' // length, bytes, NUL
	OpReplyArity        = 'W' // Redis' wrong-arity error
	OpReplyTensor       = 'G' // tensor address, format: the tensor as AI.TENSORGET replies it
	OpReleaseTensor     = 'U' // tensor address: a reference held for the reply is dropped
)

// Effects is one command's program. It is a commands.Reply; the keyspace side is queued by the
// module's Keyspace methods. The zero value is ready; Reset makes it so again, keeping its own
// buffers (not lent memory).
type Effects struct {
	buf     []byte
	lent    []byte          // memory lent by WriteInto, which buf stays in while the program fits
	tensors []tensor.Tensor // queued tensor writes, whose references are dropped if the command fails
	stored  []func()        // the releases of queued model and script writes, likewise
	held    []tensor.Tensor // tensors whose data the reply refers to, held until it is sent
}

func (e *Effects) op(op byte, v int64) {
	e.buf = append(e.buf, op)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(v))
}

func (e *Effects) text(op byte, s string) {
	e.op(op, int64(len(s)))
	e.buf = append(e.buf, s...)
}

// Key names the key of the next op: the index of the argument holding it, or its bytes when it is
// not an argument (arg < 0).
func (e *Effects) Key(arg int, key []byte) {
	if arg >= 0 {
		e.op(OpKeyArg, int64(arg))
		return
	}
	e.op(OpBytes, int64(len(key)))
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, OpKeyBytes)
}

// SetTensor queues storing t at the key, taking over the reference.
func (e *Effects) SetTensor(t tensor.Tensor) {
	e.op(OpSetTensor, int64(uintptr(t.Pointer())))
	e.tensors = append(e.tensors, t)
}

// SetStored queues storing a model (OpSetModel) or a script (OpSetScript) at the key, taking over
// its reference; release drops it if the command fails.
func (e *Effects) SetStored(op byte, p unsafe.Pointer, release func()) {
	e.op(op, int64(uintptr(p)))
	e.stored = append(e.stored, release)
}

// Delete queues deleting the key.
func (e *Effects) Delete() { e.buf = append(e.buf, OpDelete) }

// ReplicateTensor queues sending AI.TENSORSET key TYPE dims... BLOB data to replicas and the AOF;
// t must stay alive until the program is applied.
func (e *Effects) ReplicateTensor(t tensor.Tensor) {
	e.op(OpReplicateTensor, int64(uintptr(t.Pointer())))
}

// ReplicateVerbatim queues sending the command as it came.
func (e *Effects) ReplicateVerbatim() { e.buf = append(e.buf, OpReplicateVerbatim) }

// The commands.Reply methods.

func (e *Effects) OK()           { e.buf = append(e.buf, OpReplyOK) }
func (e *Effects) Null()         { e.buf = append(e.buf, OpReplyNull) }
func (e *Effects) Array(n int)   { e.op(OpReplyArray, int64(n)) }
func (e *Effects) Int(v int64)   { e.op(OpReplyInt, v) }
func (e *Effects) Bulk(s string) { e.text(OpReplyBulk, s) }

func (e *Effects) BulkBytes(b []byte) {
	e.op(OpReplyBulk, int64(len(b)))
	e.buf = append(e.buf, b...)
}

// Simple sends a simple string.
func (e *Effects) Simple(s string) {
	e.text(OpReplySimple, s)
	e.buf = append(e.buf, 0)
}

// Error adds an error reply, as an element of an array (a DAG's failed op) or as the reply.
func (e *Effects) Error(text string) {
	e.text(OpReplyError, text)
	e.buf = append(e.buf, 0)
}

// Tensor replies with t in format f, holding a reference until the reply is sent (a write queued
// before it may replace the tensor in the keyspace).
func (e *Effects) Tensor(t tensor.Tensor, f tensor.Format) {
	t.Retain()
	e.held = append(e.held, t)
	e.op(OpReplyTensor, int64(uintptr(t.Pointer())))
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(f))
}

// Fail drops everything queued and replies with an error instead.
func (e *Effects) Fail(text string) {
	e.Discard()
	e.Error(text)
}

// FailArity drops everything queued and replies with Redis' wrong-arity error.
func (e *Effects) FailArity() {
	e.Discard()
	e.buf = append(e.buf, OpReplyArity)
}

// Discard drops everything queued, releasing the writes' references.
func (e *Effects) Discard() {
	for _, t := range e.tensors {
		t.Release()
	}
	for _, release := range e.stored {
		release()
	}
	e.truncate()
}

// WriteInto has the program written into b (memory the caller lends, such as a C trampoline's stack)
// for as long as it fits; Reset forgets b.
func (e *Effects) WriteInto(b []byte) { e.buf, e.lent = b[:0], b }

// InLentMemory reports whether the program is in the memory given to WriteInto.
func (e *Effects) InLentMemory() bool {
	return cap(e.lent) > 0 && cap(e.buf) > 0 && unsafe.SliceData(e.buf) == unsafe.SliceData(e.lent)
}

// Finish ends the program with the release of the references held for its reply, which it takes
// over, and returns it to apply; nil when nothing is queued.
func (e *Effects) Finish() []byte {
	for _, t := range e.held {
		e.op(OpReleaseTensor, int64(uintptr(t.Pointer())))
	}
	clear(e.held)
	e.held = e.held[:0]
	return e.buf
}

// Reset empties the effects once applied or discarded, dropping the held references that Finish did
// not hand over, and forgets lent memory.
func (e *Effects) Reset() {
	e.truncate()
	if e.lent != nil {
		e.buf, e.lent = nil, nil
	}
}

// truncate empties the program, keeping its memory, and drops the held references.
func (e *Effects) truncate() {
	for _, t := range e.held {
		t.Release()
	}
	e.buf = e.buf[:0]
	clear(e.tensors)
	e.tensors = e.tensors[:0]
	clear(e.stored)
	e.stored = e.stored[:0]
	clear(e.held)
	e.held = e.held[:0]
}
