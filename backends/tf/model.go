package tf

/*
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// model is one graph and its session. TF sessions may run from many threads at once; Native only keeps
// Close from freeing the session under a Run.
type model struct {
	backends.Native[*C.gorai_tf_model]
	bounded bool // see ShapeBound
}

// ShapeBound reports whether every op of the graph is of shapeBoundOps (backends.ShapeBound).
func (m *model) ShapeBound() bool { return m.bounded }

var errClosed = errors.New("ERR TF model was freed")

// tfTypes maps tensor dtypes to TensorFlow's; every RedisAI dtype has one.
var tfTypes = map[tensor.DType]C.int{
	tensor.Float:  C.GORAI_TF_FLOAT,
	tensor.Double: C.GORAI_TF_DOUBLE,
	tensor.Int8:   C.GORAI_TF_INT8,
	tensor.Int16:  C.GORAI_TF_INT16,
	tensor.Int32:  C.GORAI_TF_INT32,
	tensor.Int64:  C.GORAI_TF_INT64,
	tensor.UInt8:  C.GORAI_TF_UINT8,
	tensor.UInt16: C.GORAI_TF_UINT16,
	tensor.Bool:   C.GORAI_TF_BOOL,
	tensor.String: C.GORAI_TF_STRING,
}

// errBatchSize is RedisAI's TF backend's error for a batch whose outputs are not the batch's size.
var errBatchSize = errors.New("ERR Tensorflow batching error: model did not generate the expected batch size")

// BatchSizeError: see backends.BatchSizeWorded.
func (m *model) BatchSizeError() error { return errBatchSize }

// Run binds the inputs to the graph's input nodes by name, in order, and hands TensorFlow their C memory
// without copying it (TensorFlow does not write to fed tensors); each output, port 0 of its node, is copied
// into a new tensor.
func (m *model) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	if err := m.CheckInputs(len(inputs)); err != nil {
		return nil, err
	}
	in := make([]C.gorai_tf_input, len(inputs))
	for i, t := range inputs {
		if t.IsZero() {
			return nil, fmt.Errorf("ERR TF input %s: no tensor", m.Inputs[i])
		}
		dt, ok := tfTypes[t.DType()]
		if !ok {
			return nil, fmt.Errorf("ERR TF input %s: unsupported data type", m.Inputs[i])
		}
		d := t.Data()
		in[i] = C.gorai_tf_input{dtype: dt, ndim: C.int(len(t.Shape())), nbytes: C.size_t(len(d)), nelems: C.int64_t(t.Len())}
		if s := t.Shape(); len(s) > 0 {
			in[i].dims = (*C.int64_t)(unsafe.Pointer(&s[0])) // C memory, like the data
		}
		if len(d) > 0 {
			in[i].data = unsafe.Pointer(&d[0])
		}
	}
	var first *C.gorai_tf_input
	if len(in) > 0 {
		first = &in[0] // Go memory holding C pointers only, read during the call
	}

	h, ok := m.Acquire()
	if !ok {
		return nil, errClosed
	}
	defer m.Release()
	// The output handles are written by C: C memory, so that Go memory never holds them across the call.
	n := len(m.Outputs)
	cout := (*unsafe.Pointer)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	if cout == nil {
		return nil, tensor.ErrOutOfMemory
	}
	defer C.free(unsafe.Pointer(cout))
	outs := unsafe.Slice(cout, n)
	var cerr *C.char
	if C.gorai_tf_model_run(h, first, C.int(len(in)), cout, &cerr) != 0 {
		return nil, takeError(cerr)
	}
	// Every output is copied before any is freed: two may share a buffer, and any may share an input's.
	defer func() {
		for _, o := range outs {
			if o != nil {
				C.gorai_tf_tensor_free(o)
			}
		}
	}()
	results := make([]tensor.Tensor, n)
	for i, o := range outs {
		t, err := fromTF(o)
		if err != nil {
			for _, r := range results[:i] {
				if !r.IsZero() {
					r.Release()
				}
			}
			return nil, fmt.Errorf("ERR TF output %s: %v", m.Outputs[i], err)
		}
		results[i] = t
	}
	return results, nil
}

// dtypes maps TensorFlow's types back.
var dtypes = map[C.int]tensor.DType{}

func init() {
	for dt, t := range tfTypes {
		dtypes[t] = dt
	}
}

// fromTF copies an output into a new tensor.
func fromTF(o unsafe.Pointer) (tensor.Tensor, error) {
	if o == nil {
		return tensor.Tensor{}, errors.New("no tensor")
	}
	code := C.gorai_tf_tensor_type(o)
	dt, ok := dtypes[code]
	if !ok {
		return tensor.Tensor{}, fmt.Errorf("TensorFlow type %d has no tensor data type", int(code))
	}
	shape := make([]int64, int(C.gorai_tf_tensor_ndim(o)))
	for i := range shape {
		shape[i] = int64(C.gorai_tf_tensor_dim(o, C.int(i)))
	}
	for _, d := range shape {
		if d <= 0 { // tensors cannot hold an empty output
			return tensor.Tensor{}, fmt.Errorf("shape %v is empty; tensors need dimensions > 0", shape)
		}
	}
	if dt.IsString() {
		return stringsFrom(o, shape)
	}
	var data []byte
	if nb := int(C.gorai_tf_tensor_nbytes(o)); nb > 0 {
		data = unsafe.Slice((*byte)(C.gorai_tf_tensor_data(o)), nb)
	}
	return tensor.FromBlob(dt, shape, data)
}

// stringsFrom copies a STRING output: tensors keep each element NUL-terminated, so an element that holds a
// NUL cannot be stored, but for one at its end, which RedisAI keeps as the terminator.
func stringsFrom(o unsafe.Pointer, shape []int64) (tensor.Tensor, error) {
	n := int64(C.gorai_tf_tensor_nelems(o))
	var blob bytes.Buffer
	for i := int64(0); i < n; i++ {
		var l C.size_t
		p := C.gorai_tf_tensor_string(o, C.int64_t(i), &l)
		var s []byte
		if l > 0 {
			s = unsafe.Slice((*byte)(unsafe.Pointer(p)), int(l))
		}
		s = bytes.TrimSuffix(s, []byte{0})
		if bytes.IndexByte(s, 0) >= 0 {
			return tensor.Tensor{}, errors.New("a string element holds a NUL byte")
		}
		blob.Write(s)
		blob.WriteByte(0)
	}
	return tensor.FromBlob(tensor.String, shape, blob.Bytes())
}
