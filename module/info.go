package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"gorai/backends"
)

// Versions reported in INFO: gorai speaks RedisAI 1.2.7's protocol and RDB format.
const (
	redisAIVersion     = "1.2.7"
	lowLevelAPIVersion = 1
	rdbEncodingVersion = 4
	goraiVersion       = "0.1.0"
)

// gitSHA is the commit gorai.so was built from, set by the Makefile.
var gitSHA = "unknown"

// goraiInfo writes the module's INFO sections, with RedisAI's section and field names (Redis puts
// "ai_" before each).
//
//export goraiInfo
func goraiInfo(ctx *C.RedisModuleInfoCtx, forCrashReport C.int) {
	defer recoverEntry(nil, "writing INFO", nil)
	info := infoWriter{ctx}
	info.section("versions")
	info.str("RedisAI_version", redisAIVersion)
	info.num("low_level_API_version", lowLevelAPIVersion)
	info.num("rdb_version", rdbEncodingVersion)
	// RedisAI's versions section is compared whole by its tests: gorai's own version goes apart.
	info.section("gorai")
	info.str("gorai_version", goraiVersion)
	info.section("git")
	info.str("git_sha", gitSHA)
	info.section("load_time_configs")
	info.num("threads_per_queue", ai.config.ThreadsPerQueue)
	info.num("inter_op_parallelism", ai.config.InterOpParallelism)
	info.num("intra_op_parallelism", ai.config.IntraOpParallelism)
	info.num("model_execution_timeout", ai.config.ModelExecutionTimeout)
	info.num("backend_memory_limit", ai.config.BackendMemoryLimit)
	info.section("backends_info")
	env := backends.InfoEnv{RunSessions: int64(len(ai.engine.Queues())) * ai.config.ThreadsPerQueue}
	for _, d := range backends.Drivers() {
		b := backends.Loaded(d.Name)
		if b == nil || d.Info == nil {
			continue
		}
		for _, f := range d.Info(b, env) {
			switch v := f.Value.(type) {
			case int64:
				info.num(f.Name, v)
			default:
				info.str(f.Name, fmt.Sprint(v))
			}
		}
	}
	info.section("cpu")
	for _, u := range []struct {
		who   string
		which int
	}{{"self", syscall.RUSAGE_SELF}, {"children", syscall.RUSAGE_CHILDREN}, {"main_thread", rusageThread}} {
		var r syscall.Rusage
		if syscall.Getrusage(u.which, &r) == nil {
			info.str(u.who+"_used_cpu_sys", seconds(time.Duration(r.Stime.Nano())))
			info.str(u.who+"_used_cpu_user", seconds(time.Duration(r.Utime.Nano())))
		}
	}
	queues := ai.engine.Queues()
	sort.Strings(queues)
	for _, name := range queues {
		for i, cpu := range ai.engine.Queue(name).WorkerCPU() {
			info.str(fmt.Sprintf("queue_%s_bthread_n%d_used_cpu_total", name, i+1), seconds(cpu))
		}
	}
	info.section("backends_config")
	info.str("backends_path", ai.config.BackendsPath)
	info.num("model_chunk_size", ai.config.ModelChunkSize)
	info.str("preload_backends", yesNo(ai.config.PreloadBackends))
	for _, b := range backends.Names() {
		if p, ok := ai.config.BackendPaths[b]; ok {
			info.str(strings.ToLower(b)+"_path", p)
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// rusageThread is Linux's RUSAGE_THREAD: INFO runs on Redis' main thread.
const rusageThread = 1

// seconds formats a CPU time as Redis does ("seconds.micros").
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d.%06d", d/time.Second, d%time.Second/time.Microsecond)
}

type infoWriter struct{ ctx *C.RedisModuleInfoCtx }

func (w infoWriter) section(name string) {
	c := C.CString(name)
	defer C.free(unsafe.Pointer(c))
	C.gorai_info_section(w.ctx, c)
}

func (w infoWriter) str(field, value string) {
	f, v := C.CString(field), C.CString(value)
	defer C.free(unsafe.Pointer(f))
	defer C.free(unsafe.Pointer(v))
	C.gorai_info_string(w.ctx, f, v)
}

func (w infoWriter) num(field string, value int64) {
	f := C.CString(field)
	defer C.free(unsafe.Pointer(f))
	C.gorai_info_integer(w.ctx, f, C.longlong(value))
}
