package tensor

/*
#include "fault.h"
*/
import "C"

// CatchFaults makes an integer division fault inside a backend's guarded run stop that run instead of
// Redis (fault.h). Each backend that guards its runs calls it when it opens its library: the first call
// installs the handler. (gorai_fault_catch's int result keeps cgo's wrapper free of an unused parameter.)
func CatchFaults() { C.gorai_fault_catch() }
