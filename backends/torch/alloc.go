package torch

/*
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"runtime/cgo"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// run is one Run in flight: the outputs made so far, why the last allocation failed, and the
// context its script's Redis callbacks get.
type run struct {
	outs []tensor.Tensor
	err  error
	ctx  context.Context
}

// collect makes a run for n outputs and calls the shim through call with its handle (for
// goraiTorchAlloc and the Redis callbacks) and an error out-parameter: the outputs, or the error
// (the allocator's own failure first, else the shim's text; a run that succeeded while an integer
// division faulted, tensor.Faults, fails with FaultError), with what was allocated released.
func collect(ctx context.Context, n int, call func(run C.uintptr_t, cerr **C.char) C.int) ([]tensor.Tensor, error) {
	r := &run{outs: make([]tensor.Tensor, n), ctx: ctx}
	h := cgo.NewHandle(r)
	defer h.Delete()
	var cerr *C.char
	faults := tensor.Faults()
	if rc := call(C.uintptr_t(h), &cerr); rc < 0 {
		r.release()
		if r.err != nil {
			if cerr != nil {
				C.gorai_torch_lib_free_string(cerr)
			}
			return nil, r.err
		}
		return nil, takeError(cerr)
	}
	if tensor.Faults() != faults {
		r.release()
		return nil, backends.FaultError("Torch", "libtorch")
	}
	return r.outs, nil
}

func (r *run) release() {
	for i, t := range r.outs {
		if !t.IsZero() {
			t.Release()
			r.outs[i] = tensor.Tensor{}
		}
	}
}

// goraiTorchAlloc is the shim's output allocator (through loader.c): it makes output index of the run
// as a tensor of the given type and shape, and returns where the shim copies its nbytes of data. NULL
// fails the run, with the reason in run.err. It runs on the thread of the Run that called the shim.
//
//export goraiTorchAlloc
func goraiTorchAlloc(handle C.uintptr_t, index C.int, code, bits C.uint8_t, ndim C.int, shape *C.int64_t, nbytes C.size_t) (p unsafe.Pointer) {
	r := cgo.Handle(handle).Value().(*run)
	defer func() {
		// A panic must not unwind through libtorch's C++ frames.
		if v := recover(); v != nil {
			r.err = fmt.Errorf("ERR Torch output %d: %v", int(index), v)
			p = nil
		}
	}()
	i := int(index)
	if i < 0 || i >= len(r.outs) || !r.outs[i].IsZero() {
		r.err = fmt.Errorf("ERR Torch output %d: unexpected", i)
		return nil
	}
	dims := make([]int64, int(ndim))
	if ndim > 0 {
		copy(dims, unsafe.Slice((*int64)(unsafe.Pointer(shape)), int(ndim)))
	}
	for _, d := range dims {
		if d <= 0 {
			r.err = fmt.Errorf("ERR Torch output %d: shape %v is empty; tensors need dimensions > 0", i, dims)
			return nil
		}
	}
	t, err := tensor.Zeros(tensor.DType{Code: uint8(code), Bits: uint8(bits)}, dims, math.MaxInt64)
	if err != nil {
		r.err = fmt.Errorf("ERR Torch output %d: %v", i, err)
		return nil
	}
	d := t.Data()
	if len(d) != int(nbytes) || len(d) == 0 {
		t.Release()
		r.err = fmt.Errorf("ERR Torch output %d: %d bytes for shape %v, expected %d", i, int(nbytes), dims, len(d))
		return nil
	}
	r.outs[i] = t
	return unsafe.Pointer(&d[0])
}
