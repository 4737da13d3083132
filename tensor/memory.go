package tensor

/*
#cgo CXXFLAGS: -O2 -Wall -Wextra -std=c++17
#cgo LDFLAGS: -lstdc++
#include <stdlib.h>
#include "memory.h"
*/
import "C"

import "unsafe"

// Fits says whether a block of n bytes may be taken now, as the memory guard judges one (memory.c).
func Fits(n uint64) bool { return C.gorai_memory_fits(C.size_t(n)) != 0 }

// GuardLibraries makes the loaded libraries whose file name contains name fail, as an allocator does, an
// allocation larger than the memory left (memory_guard.c): for a runtime whose C API takes no allocator,
// whose large blocks Redis' allocator would hand out unreserved. It returns how many call sites it
// redirected.
func GuardLibraries(name string) int {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return int(C.gorai_memory_guard_libraries(cname))
}
