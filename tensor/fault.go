package tensor

/*
#include <stdlib.h>
#include "fault.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// CatchFaults makes an integer division fault in the code of the loaded libraries whose file name contains
// name (a backend's) finish instead of ending Redis, counted by Faults (fault.h). Each backend calls it
// when it opens its library; the first call installs the handler.
func CatchFaults(name string) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	C.gorai_fault_catch(cname)
}

// faults is fault.c's count, read without a cgo call: each ONNX and TORCH run reads it twice.
var faults = (*uint64)(unsafe.Pointer(C.gorai_fault_counter()))

// Faults is the number of integer division faults finished so far: a run during which it changed
// fails (backends.FaultError).
func Faults() uint64 { return atomic.LoadUint64(faults) }
