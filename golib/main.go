// Command golib is gorai_go.so, the Go library the module (module/, gorai.so, in C) loads at first
// need (module/go_library.h): the command handlers, the engine, the backends, INFO and the low-level
// API's models and runs. Built with -buildmode=c-shared and linked against gorai.so, whose C it calls.
package main

/*
#cgo CFLAGS: -O2 -Wall -Wextra -I${SRCDIR}/../module -I${SRCDIR}/../tensor -I${SRCDIR}/../commands -DGORAI_GO_LIBRARY_BUILD
// The module's C is gorai.so's: the library records it as a dependency, which the dynamic loader
// finds already loaded (by its soname) when the module opens the library. Every C symbol must
// resolve when the library is linked, not when the module opens it.
#cgo LDFLAGS: -L${SRCDIR}/../build -l:gorai.so -Wl,--no-undefined
// The hot-path calls keep no Go pointers. Neither is nocallback: gorai_apply may free a model, and
// gorai_key_value's lookup may find a model or script key past its expiry time and delete it, whose
// free closes its session in Go.
#cgo noescape gorai_key_value
#cgo noescape gorai_apply
#include <stdlib.h>
#include "go_library.h"
#include "module.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"gorai/commands"
	"gorai/server"
)

func main() {}

// buildID is the build of the module this library was built with (the Makefile sets it).
var buildID = "unset"

// goraiInit sets the library up with the module's arguments, which the module has checked already
// (commands/load_args.c), but for the backends they name, which this checks and opens. It runs once,
// on whichever thread first needs the library, with no context: it logs without one.
//
//export goraiInit
func goraiInit(ptrs **C.char, lens *C.size_t, argc C.int, moduleDir *C.char) (rc C.int) {
	defer recoverEntry(nil, "while loading", func() { rc = C.REDISMODULE_ERR })
	C.gorai_use_redis_allocator()
	if module := C.GoString(C.gorai_build_id()); module != buildID {
		logf(nil, "warning", "gorai: gorai_go.so (build %s) is not the Go library of this module's build (%s): install the gorai.so and gorai_go.so of one build together",
			buildID, module)
		return C.REDISMODULE_ERR
	}
	n := int(argc)
	args := make([][]byte, n)
	for i, p := range unsafe.Slice(ptrs, n) {
		args[i] = C.GoBytes(unsafe.Pointer(p), C.int(unsafe.Slice(lens, n)[i]))
	}
	if err := checkEffectOps(); err != nil {
		logf(nil, "warning", "gorai: %v", err)
		return C.REDISMODULE_ERR
	}
	cfg, err := commands.ParseLoadArgs(C.GoString(moduleDir), args)
	if err != nil {
		logf(nil, "warning", "%s", err)
		return C.REDISMODULE_ERR
	}
	// Redis' main thread needs a P each time it calls into Go; workers hold theirs through long
	// backend calls. Without a spare P, a command waits until the scheduler takes one back.
	runtime.GOMAXPROCS(runtime.NumCPU() + 1 + int(cfg.ThreadsPerQueue))
	ai = server.New(cfg, func(level, format string, args ...any) { logf(nil, level, format, args...) })
	// The model type's save callbacks (C, run in Redis' fork for a BGSAVE) read their own copy of
	// MODEL_CHUNK_SIZE, which the module set at load; AI.CONFIG keeps it in step.
	ai.Config.OnChange = func(c *commands.Config) { C.gorai_model_chunk_size = C.size_t(c.ModelChunkSize) }
	shareBackends()
	ai.LoadConfiguredBackends()
	return C.REDISMODULE_OK
}

// goraiShutdown holds the server's exit until no worker or build is inside a backend: exit runs the
// backends' static destructors, and tearing libtorch down under a run crashed the server.
//
//export goraiShutdown
func goraiShutdown() {
	defer recoverEntry(nil, "at shutdown", nil)
	ai.Stop()
}

// goraiStarted runs once the server has started, on a thread of the module's, when
// PRELOAD_BACKENDS is on.
//
//export goraiStarted
func goraiStarted() {
	defer recoverEntry(nil, "after the start", nil)
	ai.Preload()
}

// recoverEntry is deferred by every function that C calls, and by the workers: a panic is logged
// with its stack, and onPanic (if any) sets the failure result, instead of ending redis-server.
func recoverEntry(ctx *C.RedisModuleCtx, what string, onPanic func()) {
	if p := recover(); p != nil {
		logf(ctx, "warning", "gorai: panic %s: %v\n%s", what, p, debug.Stack())
		if onPanic != nil {
			onPanic()
		}
	}
}

// logf writes a line to Redis' log.
func logf(ctx *C.RedisModuleCtx, level, format string, a ...any) {
	cl, cm := C.CString(level), C.CString(fmt.Sprintf(format, a...))
	defer C.free(unsafe.Pointer(cl))
	defer C.free(unsafe.Pointer(cm))
	C.gorai_log(ctx, cl, cm)
}
