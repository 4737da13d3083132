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

// replyBuffer implements commands.Reply by encoding the reply into one buffer that C sends with a
// single call (module.h lists the ops). Bytes from Go are copied in: C never sees Go pointers.
type replyBuffer struct{ buf []byte }

func (r *replyBuffer) op(op byte, v int64) {
	r.buf = append(r.buf, op)
	r.buf = binary.LittleEndian.AppendUint64(r.buf, uint64(v))
}

func (r *replyBuffer) OK()         { r.buf = append(r.buf, C.GORAI_REPLY_OK) }
func (r *replyBuffer) Null()       { r.buf = append(r.buf, C.GORAI_REPLY_NULL) }
func (r *replyBuffer) Array(n int) { r.op(C.GORAI_REPLY_ARRAY, int64(n)) }
func (r *replyBuffer) Int(v int64) { r.op(C.GORAI_REPLY_INT, v) }
func (r *replyBuffer) Double(v float64) {
	r.op(C.GORAI_REPLY_DOUBLE, int64(math.Float64bits(v)))
}

func (r *replyBuffer) Bulk(s string) {
	r.op(C.GORAI_REPLY_BULK, int64(len(s)))
	r.buf = append(r.buf, s...)
}

func (r *replyBuffer) BulkBytes(b []byte) {
	r.op(C.GORAI_REPLY_BULK, int64(len(b)))
	r.buf = append(r.buf, b...)
}

// TensorData refers to the tensor's C memory, which the keyspace keeps alive until the reply is sent.
func (r *replyBuffer) TensorData(t dlpack.Tensor) {
	d := t.Data()
	var p uintptr
	if len(d) > 0 {
		p = uintptr(unsafe.Pointer(&d[0]))
	}
	r.op(C.GORAI_REPLY_BULK_PTR, int64(p))
	r.buf = binary.LittleEndian.AppendUint64(r.buf, uint64(len(d)))
}

func (r *replyBuffer) err(text string) {
	r.op(C.GORAI_REPLY_ERROR, int64(len(text)))
	r.buf = append(r.buf, text...)
	r.buf = append(r.buf, 0)
}

func (r *replyBuffer) arity() { r.buf = append(r.buf, C.GORAI_REPLY_ARITY) }
func (r *replyBuffer) reset() { r.buf = r.buf[:0] }

func (r *replyBuffer) flush(ctx *C.RedisModuleCtx) {
	if len(r.buf) > 0 {
		C.gorai_reply(ctx, (*C.uchar)(unsafe.Pointer(&r.buf[0])), C.size_t(len(r.buf)))
	}
}
