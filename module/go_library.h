/* The Go library, gorai_go.so beside the module's file: the command handlers, the engine, the
 * backends. The module loads it at first need (the first command other than AI.TENSORSET and
 * AI.TENSORGET, an RDB holding models or scripts, INFO, the low-level API, the backends' preload
 * after the start), so that a server that has not used gorai yet has not started a Go runtime: the
 * start and the memory at start are those of a C module. Its functions are reached through the
 * table below, filled by dlsym; the library resolves the module's own C (module.h) through its
 * dependency on gorai.so. */
#ifndef GORAI_GO_LIBRARY_H
#define GORAI_GO_LIBRARY_H

#include "llapi.h"
#include "module.h"

/* The functions the Go library exports (//export), with cgo's C types: X(return type, name,
 * parameters). The library's own build declares them from here too, so a Go signature that no
 * longer matches fails its compile. */
#define GORAI_GO_CALLS(X)                                                                                              \
    X(int, goraiInit, (char **args, size_t *lens, int argc, char *moduleDir))                                         \
    X(size_t, goraiCommand,                                                                                            \
      (RedisModuleCtx * ctx, RedisModuleString **argv, char **ptrs, size_t *lens, int argc, int slot,                  \
       unsigned char *program, size_t programCap))                                                                     \
    X(size_t, goraiJobReply, (RedisModuleCtx * ctx, RedisModuleBlockedClient *bc, unsigned char *program,              \
                              size_t programCap))                                                                      \
    X(void, goraiJobFree, (RedisModuleBlockedClient * bc))                                                             \
    X(void, goraiJobDisconnected, (RedisModuleBlockedClient * bc))                                                     \
    X(void, goraiInfo, (RedisModuleInfoCtx * ctx, int forCrashReport))                                                 \
    X(void, goraiShutdown, (void))                                                                                     \
    X(void, goraiStarted, (void))                                                                                      \
    X(uintptr_t, goraiSessionCopy, (uintptr_t h, char *key, size_t keylen))                                            \
    X(void, goraiSessionClose, (uintptr_t h))                                                                          \
    X(int, goraiModelRestore, (gorai_model * c, char *key, size_t keylen, int loading))                                \
    X(int, goraiScriptRestore, (gorai_script * c, char *key, size_t keylen, int loading))                              \
    X(gorai_tensor *, goraiLLAPIConcat, (gorai_tensor * *ts, long long int n))                                         \
    X(gorai_tensor *, goraiLLAPISlice, (gorai_tensor * t, long long int offset, long long int n))                      \
    X(gorai_model *, goraiLLAPIModelCreate,                                                                            \
      (int backend, char *device, char *tag, RAI_ModelOpts *opts, size_t ninputs, char **inputs, size_t noutputs,     \
       char **outputs, char *blob, size_t bloblen, RAI_Error *cerr))                                                   \
    X(gorai_script *, goraiLLAPIScriptCreate, (char *device, char *tag, char *source, RAI_Error *cerr))              \
    X(int, goraiLLAPIRun, (gorai_llapi_run * run, RAI_Error *cerr))                                                    \
    X(int, goraiLLAPIRunAsync, (gorai_llapi_run * run, RAI_OnFinishCB cb, void *private))                              \
    X(uintptr_t, goraiLLAPIDAGNew, (void))                                                                             \
    X(void, goraiLLAPIDAGFree, (uintptr_t h))                                                                          \
    X(uintptr_t, goraiLLAPIOpNew, (gorai_model * model, gorai_script *script, char *function))                        \
    X(void, goraiLLAPIOpAddName, (uintptr_t h, char *name, int output))                                                \
    X(void, goraiLLAPIOpFree, (uintptr_t h))                                                                           \
    X(int, goraiLLAPIDAGAddOp, (uintptr_t dag, uintptr_t op, RAI_Error *cerr))                                        \
    X(int, goraiLLAPIDAGLoad, (uintptr_t dag, char *name, gorai_tensor *t))                                            \
    X(int, goraiLLAPIDAGTensorSet, (uintptr_t dag, char *name, gorai_tensor *t))                                       \
    X(int, goraiLLAPIDAGTensorGet, (uintptr_t dag, char *name))                                                        \
    X(int, goraiLLAPIDAGAddOpsFromString, (uintptr_t dag, char *ops, RAI_Error *cerr))                                 \
    X(size_t, goraiLLAPIDAGNumOps, (uintptr_t dag))                                                                    \
    X(int, goraiLLAPIDAGRun, (gorai_llapi_dag * dag, RAI_OnFinishCB cb, void *private, RAI_Error *cerr))

#ifdef GORAI_GO_LIBRARY_BUILD
#define GORAI_GO_PROTOTYPE(ret, name, params) extern ret name params;
GORAI_GO_CALLS(GORAI_GO_PROTOTYPE)
#undef GORAI_GO_PROTOTYPE
#endif

typedef struct gorai_go_library {
#define GORAI_GO_FIELD(ret, name, params) ret(*name) params;
    GORAI_GO_CALLS(GORAI_GO_FIELD)
#undef GORAI_GO_FIELD
} gorai_go_library;

/* gorai_build_id is this build's identity (the Makefile's build/build-id), which goraiInit compares
 * with its own: a library of another build refuses to serve the module. */
const char *gorai_build_id(void);

/* gorai_go_prepare, at load, finds the library beside the module's file and keeps the module's
 * arguments for goraiInit: REDISMODULE_ERR (logged) when the file is not there. */
int gorai_go_prepare(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* gorai_go is the library, loaded and initialised by the first call (on any thread; a concurrent
 * caller waits for it). NULL, logged, when it cannot be loaded; later calls try no more. */
const gorai_go_library *gorai_go(void);

/* gorai_go_loaded is the library once gorai_go has loaded it, else NULL: for code that runs only on
 * what Go made (a blocked client, a model's session), and for code that has nothing to do until Go
 * is loaded (the shutdown). */
const gorai_go_library *gorai_go_loaded(void);

/* The reply of a command that needs the library when it cannot be loaded. */
#define GORAI_ERR_NO_GO_LIBRARY "ERR gorai: its Go library (gorai_go.so) could not be loaded: see the server's log"

#endif
