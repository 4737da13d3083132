package torch

/*
#include "loader.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// model is one loaded TorchScript module (the shim's model). TorchScript methods may run from many
// threads at once; Native only keeps Close from freeing the module under a Run.
type model struct {
	backends.Native[unsafe.Pointer]
}

var errClosed = errors.New("ERR torch model was freed")

// Run hands libtorch the inputs' C memory without copying it, and the shim copies each output into a
// new tensor that alloc.go makes for it.
func (m *model) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	if err := m.CheckInputs(len(inputs)); err != nil {
		return nil, err
	}
	in, err := describe(inputs, func(i int) string { return m.Inputs[i] })
	if err != nil {
		return nil, err
	}
	h, ok := m.Acquire()
	if !ok {
		return nil, errClosed
	}
	defer m.Release()
	return collect(context.Background(), len(m.Outputs), func(run C.uintptr_t, cerr **C.char) C.int {
		return C.gorai_torch_lib_model_run(h, C.int(len(in)), first(in), C.int(len(m.Outputs)), run, cerr)
	})
}

// describe is the shim's view of the inputs: their C memory, wrapped by libtorch without a copy. name
// says which input a zero Tensor is.
func describe(inputs []tensor.Tensor, name func(i int) string) ([]C.gorai_torch_tensor, error) {
	in := make([]C.gorai_torch_tensor, len(inputs))
	for i, t := range inputs {
		if t.IsZero() {
			return nil, fmt.Errorf("ERR Torch input %s: no tensor", name(i))
		}
		dt := t.DType()
		in[i] = C.gorai_torch_tensor{data: dataPointer(t), ndim: C.int32_t(len(t.Shape())), code: C.uint8_t(dt.Code), bits: C.uint8_t(dt.Bits)}
		if s := t.Shape(); len(s) > 0 {
			in[i].shape = (*C.int64_t)(unsafe.Pointer(&s[0])) // C memory, like the data
		}
	}
	return in, nil
}

// first is where a slice of descriptions starts, nil when empty: Go memory holding only C pointers,
// read by the shim during the call.
func first(in []C.gorai_torch_tensor) *C.gorai_torch_tensor {
	if len(in) == 0 {
		return nil
	}
	return &in[0]
}

// dataPointer is a tensor's data in C memory, nil when it has none.
func dataPointer(t tensor.Tensor) unsafe.Pointer {
	if d := t.Data(); len(d) > 0 {
		return unsafe.Pointer(&d[0])
	}
	return nil
}
