package tensor

/*
#include <stdlib.h>
#include "fault.h"
*/
import "C"

import "unsafe"

// CatchFaults makes an integer division fault in the code of the loaded libraries whose file name contains
// name (a backend's) finish instead of ending Redis, counted by Faults (fault.h). Each backend calls it
// when it opens its library; the first call installs the handler.
func CatchFaults(name string) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	C.gorai_fault_catch(cname)
}

// Faults is the number of integer division faults finished so far: a run during which it changed
// fails (backends.FaultError).
func Faults() uint64 { return uint64(C.gorai_fault_count()) }
