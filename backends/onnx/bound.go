package onnx

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"gorai/tensor"
)

// boundOutput is an output whose declared shape is known, but for a free dim 0: a run hands ORT a
// tensor of ours (Redis' memory) to write it into, instead of letting ORT allocate it and copying it
// twice (into the binding's Go value, then into a tensor).
type boundOutput struct {
	dtype tensor.DType
	et    ort.TensorElementDataType
	shape []int64
	// batch: dim 0 is free, and taken to be the inputs' dim 0 (the batch of the usual exported
	// model, and of every batched run); a model that computes another is caught as below.
	batch bool
	// off is set for good after a run that failed with the output bound succeeded without: the
	// model computes another shape than it declares.
	off atomic.Bool
}

// boundOutputs lists, by output, those that can be bound (nil for the others): numeric tensors with
// every dimension past the first declared (ORT shows a free one as -1), that ORT computes (see
// handedOver).
func boundOutputs(infos []ort.InputOutputInfo, handed []bool) []*boundOutput {
	bound := make([]*boundOutput, len(infos))
	for i, info := range infos {
		dims := info.Dimensions
		if handed[i] || info.OrtValueType != ort.ONNXTypeTensor || len(dims) == 0 || dims[0] == 0 {
			continue
		}
		known := true
		for _, d := range dims[1:] {
			known = known && d > 0
		}
		for dt, et := range ortTypes {
			if known && et == info.DataType && !dt.IsString() {
				bound[i] = &boundOutput{dtype: dt, et: et, shape: dims, batch: dims[0] < 0}
			}
		}
	}
	return bound
}

// handedOver reports, by output, those that ORT does not write into a value it is given but replaces
// with another: a graph input (the input's value) and a name listed more than once (the value
// of its last listing). A tensor of ours given for them would come back as it went, zeros.
func handedOver(inputs, outputs []string) []bool {
	handed := make([]bool, len(outputs))
	for i, name := range outputs {
		handed[i] = slices.Contains(inputs, name) || slices.Contains(outputs[i+1:], name)
	}
	return handed
}

// bind makes the output's tensor and its ORT view, or reports that the output is not bound now.
// rows is the inputs' dim 0, the size of a free dim 0 (0: none, so such an output is not bound).
func (b *boundOutput) bind(rows int64) (tensor.Tensor, ort.Value, bool, error) {
	if !b.active(rows) {
		return tensor.Tensor{}, nil, false, nil
	}
	shape := b.shape
	if b.batch {
		shape = slices.Clone(shape)
		shape[0] = rows
	}
	t, err := tensor.Zeros(b.dtype, shape, math.MaxInt64)
	if err != nil { // more than the memory left, for one (see tensor/memory.h's gorai_memory_fits)
		return tensor.Tensor{}, nil, false, fmt.Errorf("ERR ONNX output of shape %v: %v", shape, err)
	}
	v, err := value(ort.NewCustomDataTensor(ort.Shape(shape), t.Data(), b.et))
	if err != nil {
		t.Release()
		return tensor.Tensor{}, nil, false, err
	}
	return t, v, true, nil
}

// batchRows is the dim 0 of the first input that has one, the size given to free output dims 0.
func batchRows(inputs []tensor.Tensor) int64 {
	for _, t := range inputs {
		if n := t.BatchSize(); n > 0 {
			return n
		}
	}
	return 0
}

// active reports whether a run whose inputs have dim 0 rows binds the output.
func (b *boundOutput) active(rows int64) bool {
	return b != nil && !b.off.Load() && (!b.batch || rows > 0)
}

// anyBound reports whether a run whose inputs have dim 0 rows would bind an output.
func anyBound(bound []*boundOutput, rows int64) bool {
	for _, b := range bound {
		if b.active(rows) {
			return true
		}
	}
	return false
}

// unbindAll turns binding off for every output.
func unbindAll(bound []*boundOutput) {
	for _, b := range bound {
		if b != nil {
			b.off.Store(true)
		}
	}
}

// releaseAll releases the tensors that are set.
func releaseAll(ts []tensor.Tensor) {
	for _, t := range ts {
		if !t.IsZero() {
			t.Release()
		}
	}
}
