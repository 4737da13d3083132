/* gorai's low-level API for other Redis modules: the functions RedisAI 1.2.7 exports under the same
 * names ("RedisAI_<Name>", RedisModule_ExportSharedAPI), with the same arguments and meaning, so that
 * a module written for RedisAI works with gorai unchanged. A module includes this header (which
 * includes its redismodule.h) and calls RedisAI_Initialize(ctx) in its OnLoad; gorai must be loaded
 * first.
 *
 * The handles are opaque. The rules on memory are RedisAI's:
 * - Tensors are reference counted. TensorCreate, TensorCreateByConcatenatingTensors,
 *   TensorCreateBySlicingTensor and TensorGetShallowCopy give the caller one reference, which
 *   TensorFree drops. A tensor read from a key (RedisModule_ModuleTypeGetValue on an AI_TENSOR key)
 *   is the keyspace's: take a shallow copy to keep it. A tensor the caller created may be stored in a
 *   key with RedisModule_ModuleTypeSetValue(key, RedisAI_TensorRedisType(), t), which takes the
 *   caller's reference; AI.TENSORGET then reads it. TensorSetData and TensorSetValueFrom* refuse a
 *   tensor that is shared (more than one reference): a shared tensor is immutable.
 * - Models and scripts likewise: ModelCreate/ScriptCreate give one reference, the Free functions drop
 *   one, GetShallowCopy adds one; Get*FromKeyspace gives the keyspace's without a new reference.
 * - Run contexts hold a reference to their model or script and to each input; outputs belong to the
 *   context until it is freed (take a shallow copy to keep one).
 * - A DAG holds references to what it was given; an op added with DAGAddRunOp belongs to the DAG, an
 *   op that was not added is freed with DAGRunOpFree. DAGOutputTensor's tensors belong to the DAG
 *   until DAGFree.
 * - The async runs (ModelRunAsync, ScriptRunAsync, DAGRun) go through gorai's queues like the
 *   commands (batching, AI.INFO's statistics); the callback runs on a worker thread, with a context
 *   that is valid only during the call.
 * - Functions returning int return REDISMODULE_OK/REDISMODULE_ERR, except the tensor setters and
 *   getters, which return 1 on success and 0 on failure, as RedisAI's do. */
#ifndef GORAI_REDISAI_H
#define GORAI_REDISAI_H

#include <stdbool.h>
#include <stddef.h>

#include "redismodule.h"

#define REDISAI_LLAPI_VERSION 1
#define MODULE_API_FUNC(x) (*x)

/* Where the function pointers live. RedisAI's rule: a file that defines REDISAI_EXTERN before
 * including this header only declares them; any other file defines them. A module of several files
 * written for RedisAI's header builds unchanged. The definitions made that way are weak, so that
 * gorai's own rule (REDISAI_MAIN in one file, which defines them, and nothing in the others) links
 * too: the linker keeps one copy. */
#if defined(REDISAI_EXTERN)
#define REDISAI_API extern
#elif defined(REDISAI_MAIN)
#define REDISAI_API
#elif !defined(REDISAI_API)
#define REDISAI_API __attribute__((weak))
#endif

#ifndef REDISAI_H_INCLUDE
typedef struct RAI_Tensor RAI_Tensor;
typedef struct RAI_Model RAI_Model;
typedef struct RAI_Script RAI_Script;
typedef struct RAI_ModelRunCtx RAI_ModelRunCtx;
typedef struct RAI_ScriptRunCtx RAI_ScriptRunCtx;
typedef struct RAI_DAGRunCtx RAI_DAGRunCtx;
typedef struct RAI_DAGRunOp RAI_DAGRunOp;
typedef struct RAI_Error RAI_Error;
typedef struct RAI_OnFinishCtx RAI_OnFinishCtx;
#endif

/* A model's options, passed by value to ModelCreate (RedisAI 1.2.7's layout). The thread counts are
 * the server's (THREADS_PER_QUEUE, INTRA/INTER_OP_PARALLELISM): gorai's backends read them from its
 * configuration, as for AI.MODELSTORE. */
typedef struct RAI_ModelOpts {
    size_t batchsize;
    size_t minbatchsize;
    size_t minbatchtimeout;
    long long backends_intra_op_parallelism;
    long long backends_inter_op_parallelism;
} RAI_ModelOpts;

typedef void (*RAI_OnFinishCB)(RAI_OnFinishCtx *ctx, void *private_data);

/* The backends by their RedisAI numbers (also their number in RDB files). */
#define REDISAI_BACKEND_TENSORFLOW 0
#define REDISAI_BACKEND_TFLITE 1
#define REDISAI_BACKEND_TORCH 2
#define REDISAI_BACKEND_ONNXRUNTIME 3

#define REDISAI_DEVICE_CPU 0
#define REDISAI_DEVICE_GPU 1

typedef enum RedisAI_ErrorCode {
    RedisAI_ErrorCode_OK = 0,
    RedisAI_ErrorCode_EMODELIMPORT,
    RedisAI_ErrorCode_EMODELCONFIGURE,
    RedisAI_ErrorCode_EMODELCREATE,
    RedisAI_ErrorCode_EMODELRUN,
    RedisAI_ErrorCode_EMODELSERIALIZE,
    RedisAI_ErrorCode_EMODELFREE,
    RedisAI_ErrorCode_ESCRIPTIMPORT,
    RedisAI_ErrorCode_ESCRIPTCONFIGURE,
    RedisAI_ErrorCode_ESCRIPTCREATE,
    RedisAI_ErrorCode_ESCRIPTRUN,
    RedisAI_ErrorCode_EUNSUPPORTEDBACKEND,
    RedisAI_ErrorCode_EBACKENDNOTLOADED,
    RedisAI_ErrorCode_ESCRIPTFREE,
    RedisAI_ErrorCode_ETENSORSET,
    RedisAI_ErrorCode_ETENSORGET,
    RedisAI_ErrorCode_EDAGBUILDER,
    RedisAI_ErrorCode_EDAGRUN,
    RedisAI_ErrorCode_EFINISHCTX
} RedisAI_ErrorCode;

/* The list of the API, X(return type, name without "RedisAI_", parameters), in RedisAI's order. */
#define REDISAI_LLAPI(X)                                                                                   \
    X(int, GetLLAPIVersion, (void))                                                                        \
    /* Errors: InitError allocates one (code OK), FreeError frees it, ClearError resets it. GetError is */ \
    /* the message, GetErrorOneLine its first line. */                                                     \
    X(int, InitError, (RAI_Error * *err))                                                                  \
    X(void, ClearError, (RAI_Error * err))                                                                 \
    X(void, FreeError, (RAI_Error * err))                                                                  \
    X(const char *, GetError, (RAI_Error * err))                                                           \
    X(const char *, GetErrorOneLine, (RAI_Error * err))                                                    \
    X(RedisAI_ErrorCode, GetErrorCode, (RAI_Error * err))                                                  \
    X(void, CloneError, (RAI_Error * dest, const RAI_Error *src))                                          \
    /* Tensors. TensorCreate: zeroed, NULL for an unknown dtype name. */                                   \
    X(RAI_Tensor *, TensorCreate, (const char *dataTypeStr, long long *dims, int ndims))                   \
    X(RAI_Tensor *, TensorCreateByConcatenatingTensors, (RAI_Tensor * *ts, long long n))                   \
    X(RAI_Tensor *, TensorCreateBySlicingTensor, (RAI_Tensor * t, long long offset, long long len))        \
    X(size_t, TensorLength, (RAI_Tensor * t))                                                              \
    X(size_t, TensorDataSize, (RAI_Tensor * t))                                                            \
    X(size_t, TensorDataType, (RAI_Tensor * t))                                                            \
    X(void, TensorFree, (RAI_Tensor * t))                                                                  \
    X(int, TensorSetData, (RAI_Tensor * tensor, const char *data, size_t len))                             \
    X(int, TensorSetValueFromLongLong, (RAI_Tensor * tensor, long long i, long long val))                  \
    X(int, TensorSetValueFromDouble, (RAI_Tensor * tensor, long long i, double val))                       \
    X(int, TensorGetValueAsDouble, (RAI_Tensor * t, long long i, double *val))                             \
    X(int, TensorGetValueAsLongLong, (RAI_Tensor * t, long long i, long long *val))                        \
    X(RAI_Tensor *, TensorGetShallowCopy, (RAI_Tensor * t))                                                \
    X(int, TensorNumDims, (RAI_Tensor * t))                                                                \
    X(long long, TensorDim, (RAI_Tensor * t, int dim))                                                     \
    X(size_t, TensorByteSize, (RAI_Tensor * t))                                                            \
    X(char *, TensorData, (RAI_Tensor * t))                                                                \
    X(RedisModuleType *, TensorRedisType, (void))                                                          \
    /* Models. */                                                                                          \
    X(RAI_Model *, ModelCreate,                                                                            \
      (int backend, char *devicestr, char *tag, RAI_ModelOpts opts, size_t ninputs, const char **inputs,   \
       size_t noutputs, const char **outputs, const char *modeldef, size_t modellen, RAI_Error *err))      \
    X(void, ModelFree, (RAI_Model * model, RAI_Error * err))                                               \
    X(RAI_ModelRunCtx *, ModelRunCtxCreate, (RAI_Model * model))                                           \
    X(int, GetModelFromKeyspace,                                                                           \
      (RedisModuleCtx * ctx, RedisModuleString * keyName, RAI_Model * *model, int mode, RAI_Error * err))  \
    X(int, ModelRunCtxAddInput, (RAI_ModelRunCtx * mctx, const char *inputName, RAI_Tensor *inputTensor))  \
    X(int, ModelRunCtxAddOutput, (RAI_ModelRunCtx * mctx, const char *outputName))                         \
    X(size_t, ModelRunCtxNumOutputs, (RAI_ModelRunCtx * mctx))                                             \
    X(RAI_Tensor *, ModelRunCtxOutputTensor, (RAI_ModelRunCtx * mctx, size_t index))                       \
    X(void, ModelRunCtxFree, (RAI_ModelRunCtx * mctx))                                                     \
    /* ModelRun runs n contexts of one model on the calling thread. */                                     \
    X(int, ModelRun, (RAI_ModelRunCtx * *mctxs, long long n, RAI_Error *err))                              \
    /* ModelSerialize: *buffer from RedisModule_Alloc, freed by the caller with RedisModule_Free. */       \
    X(int, ModelSerialize, (RAI_Model * model, char **buffer, size_t *len, RAI_Error *err))                \
    X(RAI_Model *, ModelGetShallowCopy, (RAI_Model * model))                                               \
    X(RedisModuleType *, ModelRedisType, (void))                                                           \
    X(int, ModelRunAsync, (RAI_ModelRunCtx * mctx, RAI_OnFinishCB DAGAsyncFinish, void *private_data))     \
    X(RAI_ModelRunCtx *, GetAsModelRunCtx, (RAI_OnFinishCtx * ctx, RAI_Error * err))                       \
    /* Scripts (TorchScript source; a script made here has no entry points: any function runs with */     \
    /* the inputs as its arguments, as for AI.SCRIPTSET/AI.SCRIPTRUN). */                                  \
    X(RAI_Script *, ScriptCreate, (char *devicestr, char *tag, const char *scriptdef, RAI_Error *err))     \
    X(int, GetScriptFromKeyspace,                                                                          \
      (RedisModuleCtx * ctx, RedisModuleString * keyName, RAI_Script * *script, int mode, RAI_Error * err)) \
    X(void, ScriptFree, (RAI_Script * script, RAI_Error * err))                                            \
    X(RAI_ScriptRunCtx *, ScriptRunCtxCreate, (RAI_Script * script, const char *fnname))                   \
    /* Deprecated in RedisAI for ScriptRunCtxAddTensorInput(List); the same here. */                       \
    X(int, ScriptRunCtxAddInput, (RAI_ScriptRunCtx * sctx, RAI_Tensor * inputTensor, RAI_Error * err))     \
    X(int, ScriptRunCtxAddTensorInput, (RAI_ScriptRunCtx * sctx, RAI_Tensor * inputTensor))                \
    X(int, ScriptRunCtxAddInputList,                                                                       \
      (RAI_ScriptRunCtx * sctx, RAI_Tensor * *inputTensors, size_t len, RAI_Error * err))                  \
    X(int, ScriptRunCtxAddTensorInputList, (RAI_ScriptRunCtx * sctx, RAI_Tensor * *inputTensors, size_t count)) \
    X(int, ScriptRunCtxAddOutput, (RAI_ScriptRunCtx * sctx))                                               \
    X(size_t, ScriptRunCtxNumOutputs, (RAI_ScriptRunCtx * sctx))                                           \
    X(RAI_Tensor *, ScriptRunCtxOutputTensor, (RAI_ScriptRunCtx * sctx, size_t index))                     \
    X(void, ScriptRunCtxFree, (RAI_ScriptRunCtx * sctx))                                                   \
    X(int, ScriptRun, (RAI_ScriptRunCtx * sctx, RAI_Error * err))                                          \
    X(RAI_Script *, ScriptGetShallowCopy, (RAI_Script * script))                                           \
    X(RedisModuleType *, ScriptRedisType, (void))                                                          \
    X(int, ScriptRunAsync, (RAI_ScriptRunCtx * sctx, RAI_OnFinishCB DAGAsyncFinish, void *private_data))   \
    X(RAI_ScriptRunCtx *, GetAsScriptRunCtx, (RAI_OnFinishCtx * ctx, RAI_Error * err))                     \
    /* DAGs: tensors loaded under names, ops over names, run as AI.DAGEXECUTE runs. */                     \
    X(RAI_DAGRunCtx *, DAGRunCtxCreate, (void))                                                            \
    X(RAI_DAGRunOp *, DAGCreateModelRunOp, (RAI_Model * model))                                            \
    X(RAI_DAGRunOp *, DAGCreateScriptRunOp, (RAI_Script * script, const char *func_name))                  \
    X(int, DAGRunOpAddInput, (RAI_DAGRunOp * DAGOp, const char *input))                                    \
    X(int, DAGRunOpAddOutput, (RAI_DAGRunOp * DAGOp, const char *output))                                  \
    X(int, DAGAddRunOp, (RAI_DAGRunCtx * run_info, RAI_DAGRunOp * DAGop, RAI_Error * err))                 \
    X(int, DAGLoadTensor, (RAI_DAGRunCtx * run_info, const char *t_name, RAI_Tensor *tensor))              \
    X(int, DAGAddTensorSet, (RAI_DAGRunCtx * run_info, const char *t_name, RAI_Tensor *tensor))            \
    X(int, DAGAddTensorGet, (RAI_DAGRunCtx * run_info, const char *t_name))                                \
    /* DAGAddOpsFromString: "|> AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b" (words */      \
    /* split at spaces; models and scripts looked up in database 0 now). */                                \
    X(int, DAGAddOpsFromString, (RAI_DAGRunCtx * run_info, const char *dag, RAI_Error *err))               \
    X(size_t, DAGNumOps, (RAI_DAGRunCtx * run_info))                                                       \
    X(int, DAGRun, (RAI_DAGRunCtx * run_info, RAI_OnFinishCB DAGAsyncFinish, void *private_data,          \
                    RAI_Error *err))                                                                       \
    X(size_t, DAGNumOutputs, (RAI_OnFinishCtx * finish_ctx))                                               \
    X(const RAI_Tensor *, DAGOutputTensor, (RAI_OnFinishCtx * finish_ctx, size_t index))                   \
    X(int, DAGRunError, (RAI_OnFinishCtx * finish_ctx))                                                    \
    X(const RAI_Error *, DAGGetError, (RAI_OnFinishCtx * finish_ctx))                                      \
    X(void, DAGRunOpFree, (RAI_DAGRunOp * dagOp))                                                          \
    X(void, DAGFree, (RAI_DAGRunCtx * run_info))

/* gorai's additions: tensors as DLPack's DLTensor, which RedisAI handed its own backends but not other
 * modules. TensorCreateFromDLTensor copies a CPU tensor of one of RedisAI's dtypes (compact, row-major)
 * into a new gorai tensor and calls the managed tensor's deleter (NULL, deleter not called, when it
 * cannot); TensorGetDLTensor is the tensor's own header (read-only; valid while the tensor is).
 * RedisAI_Initialize fetches them when the server has them, without requiring them. */
#ifdef DLPACK_VERSION
#define REDISAI_LLAPI_DLPACK(X)                                                                            \
    X(RAI_Tensor *, TensorCreateFromDLTensor, (DLManagedTensor * dl_tensor))                               \
    X(DLTensor *, TensorGetDLTensor, (RAI_Tensor * tensor))
#else
#define REDISAI_LLAPI_DLPACK(X)
#endif

#define REDISAI_DECLARE_API(ret, name, params) REDISAI_API ret MODULE_API_FUNC(RedisAI_##name) params;
REDISAI_LLAPI(REDISAI_DECLARE_API)
REDISAI_LLAPI_DLPACK(REDISAI_DECLARE_API)
#undef REDISAI_DECLARE_API

#ifndef GORAI_LLAPI_PROVIDER
/* RedisAI_Initialize fills the function pointers from gorai's exports, in the module's OnLoad (its
 * other files include it too, unused). */
__attribute__((unused)) static int RedisAI_Initialize(RedisModuleCtx *ctx) {
#define REDISAI_GET_API(ret, name, params)                                                         \
    RedisAI_##name = (ret(*) params)RedisModule_GetSharedAPI(ctx, "RedisAI_" #name);               \
    if (RedisAI_##name == NULL) {                                                                  \
        RedisModule_Log(ctx, "warning", "could not initialize RedisAI_" #name);                    \
        return REDISMODULE_ERR;                                                                    \
    }
    REDISAI_LLAPI(REDISAI_GET_API)
#undef REDISAI_GET_API
#define REDISAI_GET_OPTIONAL_API(ret, name, params) \
    RedisAI_##name = (ret(*) params)RedisModule_GetSharedAPI(ctx, "RedisAI_" #name);
    REDISAI_LLAPI_DLPACK(REDISAI_GET_OPTIONAL_API)
#undef REDISAI_GET_OPTIONAL_API
    return RedisAI_GetLLAPIVersion() < REDISAI_LLAPI_VERSION ? REDISMODULE_ERR : REDISMODULE_OK;
}
#endif

#endif
