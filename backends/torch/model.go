package torch

/*
#include "loader.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"gorai/dlpack"
)

// model is one loaded TorchScript module. TorchScript methods may run from many threads at once; the
// lock only keeps Close from freeing the module under a Run.
type model struct {
	mu      sync.RWMutex
	h       unsafe.Pointer // the shim's model; nil once closed
	inputs  []string
	outputs []string
}

var errClosed = errors.New("ERR torch model was freed")

func (m *model) InputNames() []string  { return m.inputs }
func (m *model) OutputNames() []string { return m.outputs }

func (m *model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h != nil {
		C.gorai_torch_lib_model_free(m.h)
		m.h = nil
	}
}

// Run hands libtorch the inputs' C memory without copying it, and the shim copies each output into a
// new tensor that alloc.go makes for it.
func (m *model) Run(inputs []dlpack.Tensor) ([]dlpack.Tensor, error) {
	if len(inputs) != len(m.inputs) {
		return nil, fmt.Errorf("ERR Expected %d inputs but got %d", len(m.inputs), len(inputs))
	}
	in, err := describe(inputs, func(i int) string { return m.inputs[i] })
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed
	}
	return collect(context.Background(), len(m.outputs), func(run C.uintptr_t, cerr **C.char) C.int {
		return C.gorai_torch_lib_model_run(m.h, C.int(len(in)), first(in), C.int(len(m.outputs)), run, cerr)
	})
}

// describe is the shim's view of the inputs: their C memory, wrapped by libtorch without a copy. name
// says which input a zero Tensor is.
func describe(inputs []dlpack.Tensor, name func(i int) string) ([]C.gorai_torch_tensor, error) {
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
func dataPointer(t dlpack.Tensor) unsafe.Pointer {
	if d := t.Data(); len(d) > 0 {
		return unsafe.Pointer(&d[0])
	}
	return nil
}
