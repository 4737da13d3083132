/* The low-level API's handles as gorai implements them (redisai.h declares them opaque): tensors,
 * models and scripts are gorai's own, a run context is C, a DAG and its ops live in Go behind a
 * handle. Shared by the llapi*.c files and the Go that runs what they describe (llapi*.go). */
#ifndef GORAI_LLAPI_H
#define GORAI_LLAPI_H

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#include "module.h"

#define REDISAI_H_INCLUDE
#define GORAI_LLAPI_PROVIDER
#define REDISAI_EXTERN /* the function pointers are the users' */
typedef struct gorai_tensor RAI_Tensor;
typedef struct gorai_model RAI_Model;
typedef struct gorai_script RAI_Script;
typedef struct gorai_llapi_run RAI_ModelRunCtx;
typedef struct gorai_llapi_run RAI_ScriptRunCtx;
typedef struct gorai_llapi_dag RAI_DAGRunCtx;
typedef struct gorai_llapi_op RAI_DAGRunOp;
typedef struct gorai_llapi_error RAI_Error;
typedef struct gorai_llapi_finish RAI_OnFinishCtx;
#include "redisai.h"

struct gorai_llapi_error {
    RedisAI_ErrorCode code;
    char *detail;  /* NULL when the code is OK */
    char *oneline; /* detail up to its first line break, made on demand */
};

/* A model's or script's run: RedisAI_ModelRunCtx and RedisAI_ScriptRunCtx. Inputs are bound by
 * position (the names a model run is given are not used, as RedisAI's ONNX and TORCH backends do
 * not); outputs are filled when the run is over. Every tensor is one reference. */
typedef struct gorai_llapi_run {
    gorai_model *model;   /* one reference; NULL for a script run */
    gorai_script *script; /* one reference; NULL for a model run */
    char *function;       /* a script run's function, NUL-terminated */
    gorai_tensor **inputs;
    size_t ninputs, inputs_cap;
    gorai_tensor **outputs; /* NULL entries until the run fills them */
    size_t noutputs, outputs_cap;
} gorai_llapi_run;

/* A DAG (RedisAI_DAGRunCtx): the Go builder's handle, and once a run is over its TENSORGET ops'
 * tensors (one reference each, dropped by DAGFree). */
typedef struct gorai_llapi_dag {
    uintptr_t builder;
    gorai_tensor **outputs;
    size_t noutputs;
} gorai_llapi_dag;

/* An op not yet added to a DAG (RedisAI_DAGRunOp): the Go op's handle. */
typedef struct gorai_llapi_op {
    uintptr_t op;
} gorai_llapi_op;

/* What a run's OnFinish callback gets: the run (a model or script run) or the DAG, and the error,
 * on the stack of the worker that calls it. */
typedef struct gorai_llapi_finish {
    gorai_llapi_run *run;
    gorai_llapi_dag *dag;
    RAI_Error err;
} gorai_llapi_finish;

/* The implementations, llapi_<Name>, declared from the header's list so that each definition is
 * checked against RedisAI's signature; hidden, so that only Redis' shared API hands them out. */
#define GORAI_LLAPI_DECLARE(ret, name, params) __attribute__((visibility("hidden"))) ret llapi_##name params;
REDISAI_LLAPI(GORAI_LLAPI_DECLARE)
REDISAI_LLAPI_DLPACK(GORAI_LLAPI_DECLARE)
#undef GORAI_LLAPI_DECLARE

/* Exports the functions with RedisModule_ExportSharedAPI (at load). */
int gorai_llapi_register(RedisModuleCtx *ctx);

/* For Go. */
void gorai_llapi_set_error(RAI_Error *err, int code, const char *msg, size_t len);
/* gorai_llapi_finish_call calls cb with a finish context for run or dag and the error (code OK when
 * none). */
void gorai_llapi_finish_call(RAI_OnFinishCB cb, void *private_data, gorai_llapi_run *run, gorai_llapi_dag *dag,
                             int code, const char *msg, size_t len);
/* gorai_llapi_keyspace is a context to read keys with, for another module's call from any thread;
 * gorai_unlock ends it. RedisAI took no lock there: its caller held Redis' lock, or was Redis' main
 * thread, which holds it. Off the main thread it takes the lock (*took) when the lock is free, so a
 * caller that holds it is not deadlocked, and one that forgot it is covered while Redis is idle. */
RedisModuleCtx *gorai_llapi_keyspace(int *took);

#endif
