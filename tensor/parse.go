package tensor

/*
#include "parse.h"
*/
import "C"

import (
	"math"
	"runtime"
	"unsafe"
)

// Error is a tensor codec's error: RedisAI's text (parse.c), without the "ERR " prefix a reply adds.
type Error C.gorai_tensor_status

func (e Error) Error() string { return C.GoString(C.gorai_tensor_message(C.gorai_tensor_status(e))) }

// ErrOutOfMemory is returned when the allocator has no room for a tensor.
const ErrOutOfMemory = Error(C.GORAI_ERR_NO_MEMORY)

// commandError is a grammar error of AI.TENSORSET or AI.TENSORGET: its text is the reply.
type commandError C.gorai_tensor_status

func (e commandError) Error() string { return "ERR " + Error(e).Error() }

// Format is what AI.TENSORGET replies: META, and BLOB or VALUES (bits).
type Format int

const (
	FormatMeta   Format = C.GORAI_FORMAT_META
	FormatBlob   Format = C.GORAI_FORMAT_BLOB
	FormatValues Format = C.GORAI_FORMAT_VALUES
)

// Parse builds a tensor from AI.TENSORSET's arguments after the key: "type [dim ...] [BLOB data |
// VALUES v ...]" (parse.c, the grammar the command itself runs in C). maxBulkLen bounds what a few
// bytes of arguments could make large (a zero-filled tensor; a STRING BLOB's element offsets past 1
// MiB); it is only asked for then. Errors are reply texts.
func Parse(args [][]byte, maxBulkLen func() int64) (Tensor, error) {
	var status C.gorai_tensor_status
	parse := func(limit int64) *C.gorai_tensor {
		return withCArgs(args, func(ptrs **C.char, lens *C.size_t, n C.int) *C.gorai_tensor {
			return C.gorai_tensor_parse(ptrs, lens, n, C.int64_t(limit), &status)
		})
	}
	c := parse(-1)
	if status == C.GORAI_TENSOR_NEEDS_LIMIT {
		c = parse(max(maxBulkLen(), 0))
	}
	if c == nil {
		return Tensor{}, commandError(status)
	}
	return Tensor{c}, nil
}

// ParseFormat reads AI.TENSORGET's "[META] [BLOB | VALUES]", in any order; none means META BLOB.
// Errors are reply texts.
func ParseFormat(args [][]byte) (Format, error) {
	var format C.int
	status := withCArgs(args, func(ptrs **C.char, lens *C.size_t, n C.int) C.gorai_tensor_status {
		return C.gorai_tensor_parse_format(ptrs, lens, n, &format)
	})
	if status != C.GORAI_TENSOR_OK {
		return 0, commandError(status)
	}
	return Format(format), nil
}

// withCArgs calls f with args laid out for C, pointers and lengths; arguments in Go memory are
// pinned for the call (a command's arguments are Redis' memory, which needs nothing).
func withCArgs[T any](args [][]byte, f func(ptrs **C.char, lens *C.size_t, n C.int) T) T {
	return WithCArgs(args, func(ptrs, lens unsafe.Pointer, n int) T {
		return f((**C.char)(ptrs), (*C.size_t)(lens), C.int(n))
	})
}

// WithCArgs is withCArgs for another package's C (whose C types are its own): ptrs points to n
// const char pointers, lens to n size_t.
func WithCArgs[T any](args [][]byte, f func(ptrs, lens unsafe.Pointer, n int) T) T {
	var pinner runtime.Pinner
	defer pinner.Unpin()
	ptrs := make([]*C.char, len(args)+1) // one more, so that &ptrs[0] exists with no argument
	lens := make([]C.size_t, len(args)+1)
	for i, a := range args {
		if len(a) > 0 {
			p := unsafe.SliceData(a)
			pinner.Pin(p)
			ptrs[i] = (*C.char)(unsafe.Pointer(p))
		}
		lens[i] = C.size_t(len(a))
	}
	return f(unsafe.Pointer(&ptrs[0]), unsafe.Pointer(&lens[0]), len(args))
}

// ParseDType reads a dtype name, case-insensitively as RedisAI does.
func ParseDType(name []byte) (DType, bool) {
	var dt C.DLDataType
	if C.gorai_parse_dtype(bytesPtr(name), C.size_t(len(name)), &dt) == 0 {
		return DType{}, false
	}
	return DType{uint8(dt.code), uint8(dt.bits)}, true
}

// ParseInt reads a decimal integer exactly as Redis' string2ll does: optional '-', no '+', no
// leading zeros, no spaces, within int64. It is Go's twin of parse.c's gorai_parse_int, kept in step
// by a test: the commands parsed in Go read their counts with it, and a call into C for each cost
// AI.MODELEXECUTE's parse a quarter of a microsecond on Redis' main thread.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' || u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// ElementCount is the product of dims, refused when it overflows or exceeds limit.
func ElementCount(shape []int64, limit int64) (int64, error) {
	n := C.gorai_element_count(C.int(len(shape)), shapePtr(shape), C.int64_t(limit))
	if n < 0 {
		return 0, Error(C.GORAI_ERR_TOO_LARGE)
	}
	return int64(n), nil
}

// Zeros is a zero-filled tensor (STRING: every element ""), refused before allocating when its
// data would exceed limit bytes (a STRING element counts its offset too).
func Zeros(dt DType, shape []int64, limit int64) (Tensor, error) {
	var status C.gorai_tensor_status
	return made(C.gorai_tensor_zeros(dt.c(), C.int(len(shape)), shapePtr(shape), C.int64_t(limit), &status), status)
}

// FromBlob copies raw row-major bytes into a new tensor. A STRING blob is its elements, each
// NUL-terminated, one after another.
func FromBlob(dt DType, shape []int64, blob []byte) (Tensor, error) {
	var status C.gorai_tensor_status
	return made(C.gorai_tensor_from_blob(dt.c(), C.int(len(shape)), shapePtr(shape), bytesPtr(blob), C.size_t(len(blob)), &status), status)
}

// FromValues parses one text value per element, as AI.TENSORSET's VALUES: numbers for numeric
// dtypes (range-checked), 0 or 1 for BOOL, C strings for STRING.
func FromValues(dt DType, shape []int64, values [][]byte) (Tensor, error) {
	var status C.gorai_tensor_status
	c := withCArgs(values, func(ptrs **C.char, lens *C.size_t, n C.int) *C.gorai_tensor {
		return C.gorai_tensor_from_values(dt.c(), C.int(len(shape)), shapePtr(shape), ptrs, lens, n, &status)
	})
	return made(c, status)
}

func made(c *C.gorai_tensor, status C.gorai_tensor_status) (Tensor, error) {
	if c == nil {
		return Tensor{}, Error(status)
	}
	return Tensor{c}, nil
}

func (d DType) c() C.DLDataType {
	return C.DLDataType{code: C.uint8_t(d.Code), bits: C.uint8_t(d.Bits), lanes: 1}
}

func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b)))
}

func shapePtr(shape []int64) *C.int64_t {
	if len(shape) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(unsafe.SliceData(shape)))
}

// cDTypeName is parse.c's name for d: the test that keeps Go's dtype table in step with it reads it
// here, as test files cannot call C.
func cDTypeName(d DType) string { return C.GoString(C.gorai_dtype_name(d.c())) }

// cParseInt is parse.c's gorai_parse_int, for the test that keeps ParseInt in step with it.
func cParseInt(b []byte) (int64, bool) {
	var v C.longlong
	ok := C.gorai_parse_int(bytesPtr(b), C.size_t(len(b)), &v) != 0
	return int64(v), ok
}
