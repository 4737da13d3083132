package tensor

/*
#cgo CFLAGS: -O2 -Wall -Wextra -Werror
#include <stdlib.h>
#include "rdb_bytes.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// RDBEncVer is the tensor encoding version gorai writes, the AI_TENSOR type's encver.
const RDBEncVer = C.GORAI_RDB_TENSOR_ENCVER

// MaxDims is the most dimensions a tensor may have: RDB loading refuses more, so storing refuses them too.
const MaxDims = C.GORAI_RDB_MAX_NDIM

var errRDBVersion = errors.New("unsupported tensor encoding version")

// DecodeRDB decodes a tensor from a module value framed as Redis frames it: the bytes that follow the module
// id in a DUMP payload, through the module EOF opcode, without the RDB version and CRC after it. It returns a
// *C.gorai_tensor holding one reference.
func DecodeRDB(value []byte, encver int) (unsafe.Pointer, error) {
	if int(C.int(encver)) != encver {
		return nil, errRDBVersion
	}
	var why *C.char
	// C reads value only during the call and keeps no pointer to it.
	t := C.gorai_rdb_bytes_load((*C.uchar)(unsafe.Pointer(unsafe.SliceData(value))), C.size_t(len(value)),
		C.int(encver), &why)
	if t == nil {
		return nil, errors.New(C.GoString(why))
	}
	return unsafe.Pointer(t), nil
}

// EncodeRDB encodes a *C.gorai_tensor as a module value in the current encoding, EOF opcode included: what
// DecodeRDB reads with encver RDBEncVer.
func EncodeRDB(t unsafe.Pointer) []byte {
	var out C.gorai_rdb_bytes_out
	if C.gorai_rdb_bytes_save((*C.gorai_tensor)(t), &out) == 0 {
		panic("tensor: out of memory encoding a tensor")
	}
	defer C.free(unsafe.Pointer(out.buf))
	return C.GoBytes(unsafe.Pointer(out.buf), C.int(out.len))
}
