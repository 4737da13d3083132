package onnx

/*
#cgo CXXFLAGS: -O2 -Wall -Wextra -std=c++17 -I${SRCDIR}/../../tensor
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "allocator.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// registerAllocator makes ORT's environment (the binding's, opened from path) offer gorai's
// allocator (allocator.cc) to the sessions that ask for it (see useEnvAllocator).
func registerAllocator(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [512]C.char
	if C.gorai_ort_allocator_register(cpath, &msg[0], C.size_t(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}

// setMemoryLimit caps ORT's memory at bytes (0: no cap): BACKEND_MEMORY_LIMIT.
func setMemoryLimit(bytes int64) { C.gorai_ort_allocator_limit(C.uint64_t(max(bytes, 0))) }

// memoryInUse is what ORT holds from the allocator, in bytes (INFO's onnxruntime_memory).
func memoryInUse() int64 { return int64(C.gorai_ort_memory()) }

// memoryAccesses counts the allocator's allocations and frees (onnxruntime_memory_access_num).
func memoryAccesses() int64 { return int64(C.gorai_ort_memory_access()) }
