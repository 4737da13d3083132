package tensor

import (
	"errors"
	"slices"
)

// Errors of the batch helpers. Batching checks shapes before it concatenates, so these only guard
// against a caller's mistake and carry no RedisAI wording.
var (
	errConcatEmpty = errors.New("tensor: concat of no tensors")
	errConcatShape = errors.New("tensor: concat of tensors with different dtypes, ranks or trailing dims")
	errSliceScalar = errors.New("tensor: slice of a scalar")
	errSliceRange  = errors.New("tensor: slice bounds out of range")
)

// BatchSize is dim 0, the number of rows a batched run takes from or gives back to a request; 0 for
// a scalar.
func (t Tensor) BatchSize() int64 {
	if s := t.Shape(); len(s) > 0 {
		return s[0]
	}
	return 0
}

// Concat joins tensors of one dtype and rank ≥ 1, equal in every dim but dim 0, along dim 0 into a
// new tensor: the inputs of a batched model run.
func Concat(ts []Tensor) (Tensor, error) {
	if len(ts) == 0 {
		return Tensor{}, errConcatEmpty
	}
	first := ts[0]
	shape := slices.Clone(first.Shape())
	if len(shape) == 0 {
		return Tensor{}, errConcatShape
	}
	var rows, n int64
	var nbytes int
	for _, t := range ts {
		s := t.Shape()
		if t.DType() != first.DType() || len(s) != len(shape) || !slices.Equal(s[1:], shape[1:]) {
			return Tensor{}, errConcatShape
		}
		rows += s[0]
		n += int64(t.Len())
		nbytes += len(t.Data())
	}
	shape[0] = rows
	out, err := newTensor(first.DType(), shape, n, nbytes, false)
	if err != nil {
		return Tensor{}, err
	}
	data, pos, elem := out.Data(), 0, 0
	for _, t := range ts {
		if t.DType().IsString() {
			// Each part's offsets are relative to its own data, which now starts at pos.
			off := out.offsets()
			for _, o := range t.offsets() {
				off[elem] = o + uint64(pos)
				elem++
			}
		}
		pos += copy(data[pos:], t.Data())
	}
	return out, nil
}

// Slice copies rows [from, to) of dim 0 into a new tensor: one request's share of a batched output.
func (t Tensor) Slice(from, to int64) (Tensor, error) {
	shape := slices.Clone(t.Shape())
	if len(shape) == 0 {
		return Tensor{}, errSliceScalar
	}
	if from < 0 || from >= to || to > shape[0] {
		return Tensor{}, errSliceRange
	}
	row := int64(t.Len()) / shape[0] // elements per row
	lo, hi := from*row, to*row       // element range
	shape[0] = to - from
	dt := t.DType()
	var start, end int // byte range
	if dt.IsString() {
		// Rows run up to the next row's first offset, the last to the end of the data.
		off := t.offsets()
		start, end = int(off[lo]), len(t.Data())
		if hi < int64(len(off)) {
			end = int(off[hi])
		}
	} else {
		start, end = int(lo)*dt.ElemSize(), int(hi)*dt.ElemSize()
	}
	out, err := newTensor(dt, shape, hi-lo, end-start, false)
	if err != nil {
		return Tensor{}, err
	}
	copy(out.Data(), t.Data()[start:end])
	if dt.IsString() {
		// Rebase on the slice's first byte (RedisAI 1.2.7 keeps the source offsets, wrong for from > 0).
		off := out.offsets()
		for i, o := range t.offsets()[lo:hi] {
			off[i] = o - uint64(start)
		}
	}
	return out, nil
}
