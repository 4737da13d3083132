package onnx

import (
	"math"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"gorai/tensor"
)

// boundOutput is an output whose declared shape is fully known: a run hands ORT a tensor of ours
// (Redis' memory) to write it into, instead of letting ORT allocate it and copying it twice (into
// the binding's Go value, then into a tensor).
type boundOutput struct {
	dtype tensor.DType
	et    ort.TensorElementDataType
	shape []int64
	// off is set for good after a run that failed with the output bound succeeded without: the
	// model computes another shape than it declares.
	off atomic.Bool
}

// boundOutputs lists, by output, those that can be bound (nil for the others): numeric tensors with
// every dimension declared.
func boundOutputs(infos []ort.InputOutputInfo) []*boundOutput {
	bound := make([]*boundOutput, len(infos))
	for i, info := range infos {
		if info.OrtValueType != ort.ONNXTypeTensor || len(info.Dimensions) == 0 {
			continue
		}
		known := true
		for _, d := range info.Dimensions {
			known = known && d > 0
		}
		for dt, et := range ortTypes {
			if known && et == info.DataType && !dt.IsString() {
				bound[i] = &boundOutput{dtype: dt, et: et, shape: info.Dimensions}
			}
		}
	}
	return bound
}

// bind makes the output's tensor and its ORT view, or reports that the output is not bound now.
func (b *boundOutput) bind() (tensor.Tensor, ort.Value, bool, error) {
	if b == nil || b.off.Load() {
		return tensor.Tensor{}, nil, false, nil
	}
	t, err := tensor.Zeros(b.dtype, b.shape, math.MaxInt64)
	if err != nil {
		return tensor.Tensor{}, nil, false, err
	}
	v, err := value(ort.NewCustomDataTensor(ort.Shape(b.shape), t.Data(), b.et))
	if err != nil {
		t.Release()
		return tensor.Tensor{}, nil, false, err
	}
	return t, v, true, nil
}

// anyBound reports whether a run would bind an output.
func anyBound(bound []*boundOutput) bool {
	for _, b := range bound {
		if b != nil && !b.off.Load() {
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
