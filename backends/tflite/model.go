package tflite

/*
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// model is one compiled model. loader.c serializes its runs; Native only keeps Close from freeing it under
// a Run.
type model struct {
	backends.Native[*C.gorai_tfl_model]
	tried tried // the input shapes it was tried at (trial.go)
}

var errClosed = errors.New("ERR TFLITE model was freed")

// tflTypes maps tensor dtypes to LiteRT's, for the types RedisAI's TFLITE took; any other input is reported
// as not matching the model (type 0 matches no tensor), as RedisAI did.
var tflTypes = map[tensor.DType]C.int{
	tensor.Float: C.GORAI_TFL_FLOAT32,
	tensor.Int8:  C.GORAI_TFL_INT8,
	tensor.Int16: C.GORAI_TFL_INT16,
	tensor.Int32: C.GORAI_TFL_INT32,
	tensor.Int64: C.GORAI_TFL_INT64,
	tensor.UInt8: C.GORAI_TFL_UINT8,
	tensor.Bool:  C.GORAI_TFL_BOOL,
}

// dtypes maps LiteRT's types back.
var dtypes = map[C.int]tensor.DType{}

func init() {
	for dt, t := range tflTypes {
		dtypes[t] = dt
	}
}

// Run copies the inputs into LiteRT's buffers by position (resizing the model's inputs to their shapes) and
// each output into a new tensor.
func (m *model) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	if err := m.CheckInputs(len(inputs)); err != nil {
		return nil, err
	}
	// C memory: the array holds pointers to the tensors' C memory, which Go memory may not pass to C.
	n := max(len(inputs), 1)
	in := unsafe.Slice((*C.gorai_tfl_input)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.gorai_tfl_input{})))), n)
	defer C.free(unsafe.Pointer(&in[0]))
	for i, t := range inputs {
		if t.IsZero() {
			return nil, fmt.Errorf("ERR TFLITE input %s: no tensor", m.Inputs[i])
		}
		d, s := t.Data(), t.Shape()
		in[i] = C.gorai_tfl_input{dtype: tflTypes[t.DType()], ndim: C.int(len(s)), nbytes: C.size_t(len(d))}
		if len(s) > 0 {
			in[i].dims = (*C.int64_t)(unsafe.Pointer(&s[0])) // C memory, like the data
		}
		if len(d) > 0 {
			in[i].data = unsafe.Pointer(&d[0])
		}
	}

	h, ok := m.Acquire()
	if !ok {
		return nil, errClosed
	}
	defer m.Release()
	if err := m.tryRun(h, inputs); err != nil {
		return nil, err
	}
	nout := max(len(m.Outputs), 1)
	out := unsafe.Slice((*C.gorai_tfl_output)(C.calloc(C.size_t(nout), C.size_t(unsafe.Sizeof(C.gorai_tfl_output{})))), nout)
	defer C.free(unsafe.Pointer(&out[0]))
	var cerr *C.char
	if C.gorai_tfl_model_run(h, &in[0], C.int(len(inputs)), &out[0], &cerr) != 0 {
		return nil, takeError(cerr)
	}
	out = out[:len(m.Outputs)]
	defer func() {
		for _, o := range out {
			C.free(o.data)
		}
	}()
	results := make([]tensor.Tensor, len(out))
	for i := range out {
		t, err := fromLiteRT(&out[i])
		if err != nil {
			for _, r := range results[:i] {
				r.Release()
			}
			return nil, fmt.Errorf("ERR TFLITE output %s: %v", m.Outputs[i], err)
		}
		results[i] = t
	}
	return results, nil
}

// fromLiteRT copies an output into a new tensor.
func fromLiteRT(o *C.gorai_tfl_output) (tensor.Tensor, error) {
	dt, ok := dtypes[o.dtype]
	if !ok {
		return tensor.Tensor{}, fmt.Errorf("LiteRT type %d has no tensor data type", int(o.dtype))
	}
	shape := make([]int64, int(o.ndim))
	for i := range shape {
		shape[i] = int64(o.dims[i])
		if shape[i] <= 0 { // tensors cannot hold an empty output
			return tensor.Tensor{}, fmt.Errorf("shape %v is empty; tensors need dimensions > 0", shape[:i+1])
		}
	}
	var data []byte
	if o.nbytes > 0 {
		data = unsafe.Slice((*byte)(o.data), int(o.nbytes))
	}
	return tensor.FromBlob(dt, shape, data)
}
