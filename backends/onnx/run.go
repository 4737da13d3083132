package onnx

/*
#cgo CFLAGS: -O2 -Wall -I${SRCDIR}/../../tensor
#include <stdlib.h>
#include "run.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"gorai/backends"
	"gorai/tensor"
)

// cNames are names in C memory, for ORT's Run: made once per model.
type cNames []*C.char

func newCNames(names []string) cNames {
	c := make(cNames, len(names))
	for i, n := range names {
		c[i] = C.CString(n)
	}
	return c
}

func (c cNames) free() {
	for _, p := range c {
		C.free(unsafe.Pointer(p))
	}
}

// The binding keeps the ORT objects behind its own unexported: these read them, as the binding of the
// version in go.mod lays them out (every run goes through them: a change shows in every test).
func sessionPointer(s *ort.DynamicAdvancedSession) unsafe.Pointer {
	type advancedSession struct{ ortSession unsafe.Pointer }
	type dynamicSession struct{ s *advancedSession }
	return (*dynamicSession)(unsafe.Pointer(s)).s.ortSession
}

func valuePointer(v ort.Value) unsafe.Pointer {
	return (*struct{ ortValue unsafe.Pointer })(unsafe.Pointer(v.GetInternals())).ortValue
}

func optionsPointer(o *ort.RunOptions) unsafe.Pointer {
	if o == nil {
		return nil
	}
	return (*struct{ o unsafe.Pointer })(unsafe.Pointer(o)).o
}

// ortRun runs the session on in, writing the outputs into out where they are given; ORT allocates the
// others, which come back in made (to convert with takeOutput, or release). A run that ORT made, but
// during which an integer division faulted (tensor.Faults), fails, faulted set.
func ortRun(session unsafe.Pointer, opts *ort.RunOptions, inNames, outNames cNames, in, out []ort.Value) (made []unsafe.Pointer, faulted bool, err error) {
	inputs := make([]unsafe.Pointer, len(in))
	for i, v := range in {
		inputs[i] = valuePointer(v)
	}
	outputs := make([]unsafe.Pointer, len(out))
	for i, v := range out {
		if v != nil {
			outputs[i] = valuePointer(v)
		}
	}
	faults := tensor.Faults()
	st := C.gorai_ort_run(session, optionsPointer(opts), first(inNames), first(inputs), C.size_t(len(in)), first(outNames),
		C.size_t(len(out)), first(outputs))
	if st != nil {
		return nil, false, statusError(st)
	}
	made = make([]unsafe.Pointer, len(out))
	for i, v := range out {
		if v == nil {
			made[i] = outputs[i]
		}
	}
	if tensor.Faults() != faults {
		releaseMade(made)
		return nil, true, backends.FaultError("ONNX", "ONNX Runtime")
	}
	return made, false, nil
}

// first is where a list's elements are for C: NULL for none (a model without inputs or outputs).
func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// statusError is ORT's message (innermost's), as the binding words a failed run; the status is released.
func statusError(st unsafe.Pointer) error {
	defer C.gorai_ort_release_status(st)
	return fmt.Errorf("Error running network: %w", errors.New(strings.TrimSpace(C.GoString(C.gorai_ort_status_message(st)))))
}

// releaseMade releases the outputs ORT allocated that are still there.
func releaseMade(made []unsafe.Pointer) {
	for i, v := range made {
		if v != nil {
			C.gorai_ort_release_value(v)
			made[i] = nil
		}
	}
}

// takeOutput copies an output ORT allocated into a new tensor (one copy, from ORT's memory into the
// tensor's) and releases it. A value that is not a tensor (a sequence or a map, such as scikit-learn's
// ZipMap) gives the zero Tensor, as RedisAI skips those.
func takeOutput(v unsafe.Pointer) (tensor.Tensor, error) {
	defer C.gorai_ort_release_value(v)
	switch ort.ONNXType(C.gorai_ort_value_type(v)) {
	case ort.ONNXTypeTensor:
	case ort.ONNXTypeSequence, ort.ONNXTypeMap:
		return tensor.Tensor{}, nil
	default:
		return tensor.Tensor{}, errors.New("the value is not a tensor")
	}
	var et C.int
	var ndims C.size_t
	var data unsafe.Pointer
	dims := make([]int64, 8)
	for {
		if st := C.gorai_ort_tensor_info(v, &et, &ndims, (*C.int64_t)(&dims[0]), C.size_t(len(dims)), &data); st != nil {
			return tensor.Tensor{}, innermost(statusError(st))
		}
		if int(ndims) <= len(dims) {
			break
		}
		dims = make([]int64, ndims)
	}
	shape := dims[:ndims]
	if err := checkShape(shape); err != nil {
		return tensor.Tensor{}, err
	}
	elem := ort.TensorElementDataType(et)
	if elem == ort.TensorElementDataTypeString {
		return takeStrings(v, shape)
	}
	dt, ok := dtypeOf[elem]
	if !ok {
		return tensor.Tensor{}, fmt.Errorf("type %s has no tensor data type", elem)
	}
	n, err := tensor.ElementCount(shape, 1<<62)
	if err != nil {
		return tensor.Tensor{}, err
	}
	return tensor.FromBlob(dt, shape, unsafe.Slice((*byte)(data), n*int64(dt.Bits/8)))
}

// takeStrings copies a STRING output: tensors keep each element NUL-terminated, so an element that
// holds a NUL cannot be stored.
func takeStrings(v unsafe.Pointer, shape []int64) (tensor.Tensor, error) {
	n, err := tensor.ElementCount(shape, 1<<40)
	if err != nil {
		return tensor.Tensor{}, err
	}
	var size C.size_t
	if st := C.gorai_ort_string_length(v, &size); st != nil {
		return tensor.Tensor{}, innermost(statusError(st))
	}
	content := make([]byte, size+1) // never empty: C gets a valid pointer
	offsets := make([]C.size_t, n)
	if st := C.gorai_ort_strings(v, unsafe.Pointer(&content[0]), size, &offsets[0], C.size_t(n)); st != nil {
		return tensor.Tensor{}, innermost(statusError(st))
	}
	var blob bytes.Buffer
	for i := range offsets {
		end := size
		if i+1 < len(offsets) {
			end = offsets[i+1]
		}
		s := content[offsets[i]:end]
		if bytes.IndexByte(s, 0) >= 0 {
			return tensor.Tensor{}, errors.New("a string element holds a NUL byte")
		}
		blob.Write(s)
		blob.WriteByte(0)
	}
	return tensor.FromBlob(tensor.String, shape, blob.Bytes())
}

// dtypeOf maps ORT's element types to tensor dtypes (ortTypes, inverted).
var dtypeOf = func() map[ort.TensorElementDataType]tensor.DType {
	m := make(map[ort.TensorElementDataType]tensor.DType, len(ortTypes))
	for dt, et := range ortTypes {
		m[et] = dt
	}
	return m
}()
