package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import "unsafe"

// disableCrashMemcheck turns Redis' crash-report memory test off (crash-memcheck-enabled no). The
// test rewrites every writable mapping of the process in place, the Go runtime's heaps and stacks
// among them, while Go's threads (GC, scheduler, workers) keep running: they fault on the patterns,
// and the report that should explain the first crash dies half-written. Not turned off, the report
// ends at "FAST MEMORY TEST" with no "REDIS BUG REPORT END". An operator who sets it back to yes
// with CONFIG SET takes that risk.
func disableCrashMemcheck(ctx *C.RedisModuleCtx) {
	name, no := C.CString("crash-memcheck-enabled"), C.CString("no")
	defer C.free(unsafe.Pointer(name))
	defer C.free(unsafe.Pointer(no))
	if C.gorai_config_set(ctx, name, no) == 0 {
		logf(ctx, "warning", "gorai: could not set crash-memcheck-enabled to no: a crash report's memory test may crash the report")
		return
	}
	logf(ctx, "notice", "gorai: crash-memcheck-enabled set to no (the crash report's memory test would run over the Go runtime's memory while it runs)")
}
