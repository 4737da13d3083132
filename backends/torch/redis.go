package torch

/*
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/cgo"
	"slices"
	"strconv"
	"sync/atomic"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// The Redis extension: scripts call redis.execute(cmd, args), redis.asList(x) and
// redisAI.model_execute(key, inputs, n), builtins of the shim that call back into Go here, where the
// module's hooks serve them.

type redisHooks struct {
	execute      func(ctx context.Context, cmd string, args []string) (any, error)
	modelExecute func(ctx context.Context, key string, inputs []tensor.Tensor, nOutputs int) ([]tensor.Tensor, error)
}

var hooks atomic.Pointer[redisHooks]

// SetRedisCallbacks sets what the scripts' Redis builtins call (process-wide; a nil function makes its
// builtin fail with "... is not available"). Both run on the goroutine of the script's Run, possibly on
// many at once, while the script waits. Both get the ctx the script's Run was given (a background
// context for a call from a thread the script forked, where the run is not known).
//
// execute serves redis.execute: it runs a Redis command and returns its reply as nil (None), a string or
// []byte (str), an int or int64 (int; RedisAI 1.2.7 truncated integers to 32 bits, gorai keeps 64), a
// bool (int 0/1), a float64 (str), or a []any or []string (List[Any]) of those; an error (returned, or
// inside an array) is the command's error reply, which the script raises as "Redis command returned an
// error: <text>".
//
// modelExecute serves redisAI.model_execute: it runs the model stored at key on the inputs (tensors it
// does not own: it must Retain what it keeps) and returns nOutputs new tensors, which it gives to the
// script (they are released when libtorch is done with them); its error is what the script raises.
func SetRedisCallbacks(execute func(ctx context.Context, cmd string, args []string) (any, error),
	modelExecute func(ctx context.Context, key string, inputs []tensor.Tensor, nOutputs int) ([]tensor.Tensor, error)) {
	hooks.Store(&redisHooks{execute: execute, modelExecute: modelExecute})
}

// useHost serves the builtins with the module's Host (backends.SetHost); nil makes them fail.
func useHost(h backends.Host) {
	if h == nil {
		SetRedisCallbacks(nil, nil)
		return
	}
	SetRedisCallbacks(h.Execute, h.ModelExecute)
}

// setError gives the shim an error text (malloc'd, freed by the shim).
func setError(cerr **C.char, err error) C.int {
	*cerr = C.CString(oneLine(err.Error()))
	return -1
}

// runContext is the context of the script run whose handle loader.c gives a callback.
func runContext(handle C.uintptr_t) context.Context {
	if handle == 0 {
		return context.Background()
	}
	return cgo.Handle(handle).Value().(*run).ctx
}

// goraiTorchExecute is the shim's execute callback (gorai_torch_execute_fn, through loader.c), for
// the script run in flight on this thread.
//
//export goraiTorchExecute
func goraiTorchExecute(handle C.uintptr_t, cmd *C.char, cmdlen C.size_t, argv **C.char, argvlen *C.size_t, argc C.int,
	reply *C.gorai_torch_reply, cerr **C.char) (rc C.int) {
	defer func() {
		// A panic must not unwind through libtorch's C++ frames.
		if v := recover(); v != nil {
			rc = setError(cerr, fmt.Errorf("redis.execute: %v", v))
		}
	}()
	h := hooks.Load()
	if h == nil || h.execute == nil {
		return setError(cerr, errors.New("redis.execute is not available"))
	}
	name := C.GoStringN(cmd, C.int(cmdlen))
	args := make([]string, int(argc))
	if argc > 0 {
		ptrs, lens := unsafe.Slice(argv, int(argc)), unsafe.Slice(argvlen, int(argc))
		for i := range args {
			args[i] = C.GoStringN(ptrs[i], C.int(lens[i]))
		}
	}
	v, err := h.execute(runContext(handle), name, args)
	if err == nil {
		err = fillReply(reply, v, 0)
	}
	if err != nil {
		return setError(cerr, err)
	}
	return 0
}

// maxReplyDepth bounds the nesting of arrays in a reply.
const maxReplyDepth = 64

// fillReply writes v into r in malloc'd memory, which the shim frees (also after a failure).
func fillReply(r *C.gorai_torch_reply, v any, depth int) error {
	if depth > maxReplyDepth {
		return errors.New("reply nested too deeply")
	}
	switch v := v.(type) {
	case nil:
		r._type = C.GORAI_TORCH_REPLY_NIL
	case string:
		r._type = C.GORAI_TORCH_REPLY_STRING
		r.str, r.len = cString(v), C.size_t(len(v))
	case []byte:
		r._type = C.GORAI_TORCH_REPLY_STRING
		r.str, r.len = cString(string(v)), C.size_t(len(v))
	case int64:
		r._type, r.integer = C.GORAI_TORCH_REPLY_INT, C.int64_t(v)
	case int:
		r._type, r.integer = C.GORAI_TORCH_REPLY_INT, C.int64_t(v)
	case bool:
		r._type = C.GORAI_TORCH_REPLY_INT
		if v {
			r.integer = 1
		}
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		r._type = C.GORAI_TORCH_REPLY_STRING
		r.str, r.len = cString(s), C.size_t(len(s))
	case []string:
		elems := newArray(r, len(v))
		for i, s := range v {
			elems[i]._type = C.GORAI_TORCH_REPLY_STRING
			elems[i].str, elems[i].len = cString(s), C.size_t(len(s))
		}
	case []any:
		elems := newArray(r, len(v))
		for i, e := range v {
			if err := fillReply(&elems[i], e, depth+1); err != nil {
				return err
			}
		}
	case error:
		return v
	default:
		return fmt.Errorf("unsupported reply type %T", v)
	}
	return nil
}

// newArray makes r an array of n zeroed (NIL) elements in malloc'd memory.
func newArray(r *C.gorai_torch_reply, n int) []C.gorai_torch_reply {
	r._type = C.GORAI_TORCH_REPLY_ARRAY
	if n == 0 {
		return nil
	}
	r.elements = (*C.gorai_torch_reply)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.gorai_torch_reply{}))))
	r.n = C.size_t(n)
	return unsafe.Slice(r.elements, n)
}

// cString is s in malloc'd memory (binary safe; NUL-terminated as a courtesy).
func cString(s string) *C.char {
	p := (*C.char)(C.malloc(C.size_t(len(s) + 1)))
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), len(s)+1)
	copy(b, s)
	b[len(s)] = 0
	return p
}

// goraiTorchModelExecute is the shim's model_execute callback (gorai_torch_model_execute_fn, through
// loader.c). The inputs are copied into new tensors (libtorch owns their memory); the outputs go to the
// shim without a copy, each owned by the shim until it calls goraiTorchRelease.
//
//export goraiTorchModelExecute
func goraiTorchModelExecute(handle C.uintptr_t, key *C.char, keylen C.size_t, inputs *C.gorai_torch_tensor, ninputs C.int, noutputs C.int,
	outputs *C.gorai_torch_tensor, owners *unsafe.Pointer, cerr **C.char) (rc C.int) {
	var ins, outs []tensor.Tensor
	defer func() {
		if v := recover(); v != nil {
			releaseAll(outs)
			rc = setError(cerr, fmt.Errorf("redisAI.model_execute: %v", v))
		}
		releaseAll(ins)
	}()
	h := hooks.Load()
	if h == nil || h.modelExecute == nil {
		return setError(cerr, errors.New("redisAI.model_execute is not available"))
	}
	if ninputs > 0 {
		for i, in := range unsafe.Slice(inputs, int(ninputs)) {
			t, err := copyInput(in)
			if err != nil {
				return setError(cerr, fmt.Errorf("redisAI.model_execute input %d: %v", i, err))
			}
			ins = append(ins, t)
		}
	}
	outs, err := h.modelExecute(runContext(handle), C.GoStringN(key, C.int(keylen)), ins, int(noutputs))
	if err == nil && len(outs) != int(noutputs) {
		err = fmt.Errorf("redisAI.model_execute: the model gave %d outputs, expected %d", len(outs), int(noutputs))
	}
	for i := 0; err == nil && i < len(outs); i++ {
		if outs[i].IsZero() {
			err = fmt.Errorf("redisAI.model_execute: output %d is no tensor", i)
		} else if outs[i].DType().IsString() {
			err = fmt.Errorf("redisAI.model_execute: output %d is a STRING tensor, which torch cannot hold", i)
		}
	}
	if err != nil {
		releaseAll(outs)
		return setError(cerr, err)
	}
	if noutputs > 0 {
		cout, cown := unsafe.Slice(outputs, int(noutputs)), unsafe.Slice(owners, int(noutputs))
		for i, t := range outs {
			dt := t.DType()
			cout[i] = C.gorai_torch_tensor{data: dataPointer(t), ndim: C.int32_t(len(t.Shape())), code: C.uint8_t(dt.Code), bits: C.uint8_t(dt.Bits)}
			if s := t.Shape(); len(s) > 0 {
				cout[i].shape = (*C.int64_t)(unsafe.Pointer(&s[0])) // C memory, in the tensor's block
			}
			cown[i] = t.Pointer() // C memory: the tensor, released by goraiTorchRelease
		}
	}
	return 0
}

// errEmptyInput refuses an input with a dim of 0, which no tensor of gorai's has (AI.TENSORSET refuses one).
var errEmptyInput = errors.New("tensor is empty")

// copyInput copies a tensor of libtorch's into a new tensor.
func copyInput(in C.gorai_torch_tensor) (tensor.Tensor, error) {
	dt := tensor.DType{Code: uint8(in.code), Bits: uint8(in.bits)}
	shape := make([]int64, int(in.ndim))
	if in.ndim > 0 {
		copy(shape, unsafe.Slice((*int64)(unsafe.Pointer(in.shape)), int(in.ndim)))
	}
	if slices.Contains(shape, 0) {
		return tensor.Tensor{}, errEmptyInput
	}
	n, err := tensor.ElementCount(shape, math.MaxInt64)
	if err != nil {
		return tensor.Tensor{}, err
	}
	var blob []byte
	if nbytes := int(n) * dt.ElemSize(); nbytes > 0 {
		blob = unsafe.Slice((*byte)(in.data), nbytes)
	} else {
		blob = []byte{}
	}
	return tensor.FromBlob(dt, shape, blob)
}

func releaseAll(ts []tensor.Tensor) {
	for _, t := range ts {
		if !t.IsZero() {
			t.Release()
		}
	}
}

// goraiTorchRelease is the shim's release callback: libtorch is done with a tensor that
// goraiTorchModelExecute gave it. It may run on any thread.
//
//export goraiTorchRelease
func goraiTorchRelease(owner unsafe.Pointer) {
	if owner != nil {
		tensor.FromPointer(owner).Release()
	}
}
