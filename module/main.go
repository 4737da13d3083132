// Command module is gorai.so: the Redis module, built with -buildmode=c-shared. It is the only
// package that talks to Redis: loading, the command table, keys, replies, the data types and INFO.
package main

/*
#cgo CFLAGS: -O2 -Wall -Wextra -I${SRCDIR}/../tensor
// Every C symbol must resolve when gorai.so is linked, not when Redis loads it.
#cgo LDFLAGS: -Wl,--no-undefined
// The hot-path calls neither call back into Go nor keep Go pointers.
#cgo noescape gorai_key_value
#cgo nocallback gorai_key_value
// gorai_apply may free a model, which closes its session in Go: no nocallback.
#cgo noescape gorai_apply
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"unsafe"

	"gorai/commands"
	"gorai/server"
)

func main() {}

//export goraiOnLoad
func goraiOnLoad(ctx *C.RedisModuleCtx, argv **C.RedisModuleString, argc C.int) (rc C.int) {
	defer recoverEntry(ctx, "while loading", func() { rc = C.REDISMODULE_ERR })
	args := make([][]byte, int(argc))
	for i, s := range unsafe.Slice(argv, int(argc)) {
		var n C.size_t
		p := C.gorai_string_ptr(s, &n)
		args[i] = C.GoBytes(unsafe.Pointer(p), C.int(n))
	}
	if err := checkEffectOps(); err != nil {
		logf(ctx, "warning", "gorai: %v", err)
		return C.REDISMODULE_ERR
	}
	cfg, err := commands.ParseLoadArgs(filepath.Dir(C.GoString(C.gorai_module_path())), args)
	if err != nil {
		logf(ctx, "warning", "%s", err)
		return C.REDISMODULE_ERR
	}
	// Redis' main thread needs a P each time it calls into Go; workers hold theirs through long
	// backend calls. Without a spare P, a command waits until the scheduler takes one back.
	runtime.GOMAXPROCS(runtime.NumCPU() + 1 + int(cfg.ThreadsPerQueue))
	ai = server.New(cfg, func(level, format string, args ...any) { logf(nil, level, format, args...) })
	// The model type's save callbacks (C, run in Redis' fork for a BGSAVE) read their own copy of
	// MODEL_CHUNK_SIZE; AI.CONFIG keeps it in step.
	ai.Config.OnChange = func(c *commands.Config) { C.gorai_model_chunk_size = C.size_t(c.ModelChunkSize) }
	C.gorai_model_chunk_size = C.size_t(cfg.ModelChunkSize)
	shareBackends()
	ai.LoadConfiguredBackends()
	if C.gorai_create_types(ctx) != C.REDISMODULE_OK || C.gorai_create_model_type(ctx) != C.REDISMODULE_OK ||
		C.gorai_create_script_type(ctx) != C.REDISMODULE_OK {
		logf(ctx, "warning", "gorai: could not create the data types")
		return C.REDISMODULE_ERR
	}
	if C.gorai_register_commands(ctx) != C.REDISMODULE_OK {
		return C.REDISMODULE_ERR
	}
	if C.gorai_register_info(ctx) != C.REDISMODULE_OK || C.gorai_subscribe_shutdown(ctx) != C.REDISMODULE_OK {
		return C.REDISMODULE_ERR
	}
	disableCrashMemcheck(ctx)
	C.gorai_when_started(ctx)
	return C.REDISMODULE_OK
}

// goraiShutdown holds the server's exit until no worker or build is inside a backend: exit runs the
// backends' static destructors, and tearing libtorch down under a run crashed the server.
//
//export goraiShutdown
func goraiShutdown(ctx *C.RedisModuleCtx) {
	defer recoverEntry(ctx, "at shutdown", nil)
	ai.Stop()
}

// goraiStarted runs on the main thread once the server has started.
//
//export goraiStarted
func goraiStarted(ctx *C.RedisModuleCtx) {
	defer recoverEntry(ctx, "after the start", nil)
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
