package main

/*
#include "module.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorai/effects"
)

// lendProgram has c's effects program written into the memory program points to (n bytes, on the
// stack of the C trampoline that called Go).
func (c *redisCall) lendProgram(program *C.uchar, n C.size_t) {
	c.effects.WriteInto(unsafe.Slice((*byte)(program), int(n)))
}

// finish ends c's effects program (keyspace writes, replication, reply). A program in the memory
// lent by the trampoline is left for it to apply once Go has returned: finish gives its length.
// A longer one is applied here, with one C call, and finish gives 0. Keys given as argument
// indexes refer to argv.
func (c *redisCall) finish() C.size_t {
	p := c.effects.Finish()
	if c.effects.InLentMemory() {
		return C.size_t(len(p))
	}
	if len(p) > 0 {
		C.gorai_apply(c.ctx, unsafe.SliceData(c.argv), (*C.uchar)(unsafe.Pointer(&p[0])), C.size_t(len(p)))
	}
	return 0
}

// checkEffectOps makes sure the effects package and gorai_apply agree on every op's byte.
func checkEffectOps() error {
	for _, op := range []struct {
		name   string
		goOp   byte
		cValue C.int
	}{
		{"BYTES", effects.OpBytes, C.GORAI_BYTES}, {"KEY_ARG", effects.OpKeyArg, C.GORAI_KEY_ARG},
		{"KEY_BYTES", effects.OpKeyBytes, C.GORAI_KEY_BYTES}, {"SET_TENSOR", effects.OpSetTensor, C.GORAI_SET_TENSOR},
		{"SET_MODEL", effects.OpSetModel, C.GORAI_SET_MODEL}, {"SET_SCRIPT", effects.OpSetScript, C.GORAI_SET_SCRIPT},
		{"DELETE", effects.OpDelete, C.GORAI_DELETE}, {"REPLICATE_TENSOR", effects.OpReplicateTensor, C.GORAI_REPLICATE_TENSOR},
		{"REPLICATE_VERBATIM", effects.OpReplicateVerbatim, C.GORAI_REPLICATE_VERBATIM},
		{"REPLY_SIMPLE", effects.OpReplySimple, C.GORAI_REPLY_SIMPLE}, {"REPLY_OK", effects.OpReplyOK, C.GORAI_REPLY_OK},
		{"REPLY_ARRAY", effects.OpReplyArray, C.GORAI_REPLY_ARRAY}, {"REPLY_BULK", effects.OpReplyBulk, C.GORAI_REPLY_BULK},
		{"REPLY_INT", effects.OpReplyInt, C.GORAI_REPLY_INT}, {"REPLY_NULL", effects.OpReplyNull, C.GORAI_REPLY_NULL},
		{"REPLY_TENSOR", effects.OpReplyTensor, C.GORAI_REPLY_TENSOR},
		{"REPLY_ERROR", effects.OpReplyError, C.GORAI_REPLY_ERROR}, {"REPLY_ARITY", effects.OpReplyArity, C.GORAI_REPLY_ARITY},
		{"RELEASE_TENSOR", effects.OpReleaseTensor, C.GORAI_RELEASE_TENSOR},
	} {
		if C.int(op.goOp) != op.cValue {
			return fmt.Errorf("effects op %s is %q in Go and %q in module.h", op.name, op.goOp, rune(op.cValue))
		}
	}
	return nil
}
