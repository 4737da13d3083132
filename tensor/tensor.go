// Package tensor is gorai's tensor: a DLPack DLTensor header over row-major data kept in C memory from
// the module allocator (Redis' own allocator inside redis-server), with the dtype table and the
// BLOB and VALUES codecs. Go never keeps pointers to Go memory in a tensor.
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
	"errors"
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

// ErrOutOfMemory is returned when the allocator has no room for a tensor.
var ErrOutOfMemory = errors.New("could not allocate tensor")

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

// RefCount is the number of references held: for checks that a holder released its own.
func (t Tensor) RefCount() int64 { return atomic.LoadInt64(t.refcount()) }
