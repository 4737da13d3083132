// Package tensor is gorai's tensor: a DLPack DLTensor header over row-major data kept in C memory from
// the module allocator (Redis' own allocator inside redis-server), with the dtype table and the
// BLOB and VALUES codecs (parse.c). Go never keeps pointers to Go memory in a tensor.
package tensor

/*
#cgo CFLAGS: -O2 -Wall -Wextra
#cgo nocallback gorai_tensor_new
#cgo nocallback gorai_tensor_free
#include <stdlib.h>
#include "tensor.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"math"
	"sync/atomic"
	"unsafe"
)

// Tensor is a reference to an immutable C tensor. The zero Tensor is "no tensor".
type Tensor struct{ c *C.gorai_tensor }

// FromPointer wraps a C tensor pointer (as stored in a Redis key) without taking a reference.
func FromPointer(p unsafe.Pointer) Tensor { return Tensor{(*C.gorai_tensor)(p)} }

// Pointer is the C tensor, for the module to store in a key.
func (t Tensor) Pointer() unsafe.Pointer { return unsafe.Pointer(t.c) }

// IsZero reports whether t refers to no tensor.
func (t Tensor) IsZero() bool { return t.c == nil }

// Retain takes another reference. The count is shared with C (gorai_tensor_retain/release), so it is
// changed with the same atomic operations on the same word.
func (t Tensor) Retain() { atomic.AddInt64(t.refcount(), 1) }

// Release drops a reference and frees the tensor with the last.
func (t Tensor) Release() {
	if atomic.AddInt64(t.refcount(), -1) == 0 {
		C.gorai_tensor_free(t.c)
	}
}

func (t Tensor) refcount() *int64 { return (*int64)(unsafe.Pointer(&t.c.refcount)) }

// DType is the element type.
func (t Tensor) DType() DType { return DType{uint8(t.c.dl.dtype.code), uint8(t.c.dl.dtype.bits)} }

// Shape is a view of the dims (valid while t is); empty for a scalar.
func (t Tensor) Shape() []int64 {
	n := int(t.c.dl.ndim)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(t.c.dl.shape)), n)
}

// ShapeWithin reports whether shape a has b's rank and no dim larger than b's: a shape-bound
// computation on a tensor of shape a does no more work, and needs no more memory, than on one of b.
func ShapeWithin(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for d := range a {
		if a[d] > b[d] {
			return false
		}
	}
	return true
}

// Len is the number of elements.
func (t Tensor) Len() int { return int(t.c.len) }

// Data is a view of the raw row-major bytes (valid while t is).
func (t Tensor) Data() []byte {
	if t.c.nbytes == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(t.c.dl.data), int(t.c.nbytes))
}

// offsets is a view of a STRING tensor's element offsets.
func (t Tensor) offsets() []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(t.c.offsets)), t.Len())
}

func newTensor(dt DType, shape []int64, n int64, nbytes int, zero bool) (Tensor, error) {
	z := C.int(0)
	if zero {
		z = 1
	}
	// The shape is copied here rather than passed: a call given no Go pointer has none for cgo to check.
	c := C.gorai_tensor_new(C.uint8_t(dt.Code), C.uint8_t(dt.Bits), C.int(len(shape)), nil,
		C.int64_t(n), C.size_t(nbytes), z)
	if c == nil {
		return Tensor{}, ErrOutOfMemory
	}
	t := Tensor{c}
	copy(t.Shape(), shape)
	return t, nil
}

// Float is element i of a FLOAT or DOUBLE tensor.
func (t Tensor) Float(i int) float64 {
	if t.DType().Bits == 32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data()[4*i:])))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(t.Data()[8*i:]))
}

// Int is element i of an integer or BOOL tensor.
func (t Tensor) Int(i int) int64 {
	d, dt := t.Data(), t.DType()
	switch {
	case dt.Bits == 8 && dt.IsSigned():
		return int64(int8(d[i]))
	case dt.Bits == 8:
		return int64(d[i])
	case dt.Bits == 16 && dt.IsSigned():
		return int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
	case dt.Bits == 16:
		return int64(binary.LittleEndian.Uint16(d[2*i:]))
	case dt.Bits == 32:
		return int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
	default:
		return int64(binary.LittleEndian.Uint64(d[8*i:]))
	}
}

// Str is element i of a STRING tensor, without its NUL.
func (t Tensor) Str(i int) []byte {
	d := t.Data()[t.offsets()[i]:]
	return d[:bytes.IndexByte(d, 0)]
}

// RefCount is the number of references held: for checks that a holder released its own.
func (t Tensor) RefCount() int64 { return atomic.LoadInt64(t.refcount()) }
