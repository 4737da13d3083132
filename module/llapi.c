/* The low-level API for other modules (redisai.h): its registration, errors, finish contexts, and
 * what it reads from the keyspace. Tensors are in llapi_tensor.c, runs in llapi_run.c, DAGs in
 * llapi_dag.c. */
#include <string.h>

#include "llapi.h"

int llapi_GetLLAPIVersion(void) { return REDISAI_LLAPI_VERSION; }

/* Errors. */

int llapi_InitError(RAI_Error **err) {
    *err = RedisModule_Alloc(sizeof(RAI_Error));
    memset(*err, 0, sizeof(RAI_Error));
    return REDISMODULE_OK;
}

void llapi_ClearError(RAI_Error *err) {
    if (err == NULL) return;
    RedisModule_Free(err->detail);
    RedisModule_Free(err->oneline);
    memset(err, 0, sizeof(*err));
}

void llapi_FreeError(RAI_Error *err) {
    llapi_ClearError(err);
    RedisModule_Free(err);
}

const char *llapi_GetError(RAI_Error *err) { return err->detail; }

const char *llapi_GetErrorOneLine(RAI_Error *err) {
    if (err->detail == NULL) return NULL;
    if (err->oneline == NULL) err->oneline = gorai_strdup(err->detail, strcspn(err->detail, "\r\n"));
    return err->oneline;
}

RedisAI_ErrorCode llapi_GetErrorCode(RAI_Error *err) { return err->code; }

void gorai_llapi_set_error(RAI_Error *err, int code, const char *msg, size_t len) {
    if (err == NULL) return;
    llapi_ClearError(err);
    err->code = (RedisAI_ErrorCode)code;
    err->detail = gorai_strdup(msg, len);
}

void llapi_CloneError(RAI_Error *dest, const RAI_Error *src) {
    if (src->detail == NULL) {
        llapi_ClearError(dest);
        dest->code = src->code;
        return;
    }
    gorai_llapi_set_error(dest, src->code, src->detail, strlen(src->detail));
}

/* Finish contexts: what the OnFinish callbacks read. */

void gorai_llapi_finish_call(RAI_OnFinishCB cb, void *private_data, gorai_llapi_run *run, gorai_llapi_dag *dag,
                             int code, const char *msg, size_t len) {
    gorai_llapi_finish f = {.run = run, .dag = dag};
    if (code != RedisAI_ErrorCode_OK) gorai_llapi_set_error(&f.err, code, msg, len);
    cb(&f, private_data);
    llapi_ClearError(&f.err);
}

/* as is the run of a finish context if it is a model run (want_model) or a script run, or NULL with
 * err set: RedisAI's texts. */
static gorai_llapi_run *as_run(RAI_OnFinishCtx *ctx, RAI_Error *err, int want_model) {
    gorai_llapi_run *run = ctx->run;
    if (run == NULL || (run->model != NULL) != want_model) {
        const char *msg = want_model ? "Finish ctx is not a model run ctx" : "Finish ctx is not a script run ctx";
        gorai_llapi_set_error(err, RedisAI_ErrorCode_EFINISHCTX, msg, strlen(msg));
        return NULL;
    }
    if (ctx->err.code != RedisAI_ErrorCode_OK) {
        llapi_CloneError(err, &ctx->err);
        return NULL;
    }
    return run;
}

RAI_ModelRunCtx *llapi_GetAsModelRunCtx(RAI_OnFinishCtx *ctx, RAI_Error *err) { return as_run(ctx, err, 1); }
RAI_ScriptRunCtx *llapi_GetAsScriptRunCtx(RAI_OnFinishCtx *ctx, RAI_Error *err) { return as_run(ctx, err, 0); }

size_t llapi_DAGNumOutputs(RAI_OnFinishCtx *ctx) { return ctx->dag != NULL ? ctx->dag->noutputs : 0; }

const RAI_Tensor *llapi_DAGOutputTensor(RAI_OnFinishCtx *ctx, size_t index) {
    if (ctx->dag == NULL || index >= ctx->dag->noutputs) return NULL;
    return ctx->dag->outputs[index];
}

int llapi_DAGRunError(RAI_OnFinishCtx *ctx) { return ctx->err.code != RedisAI_ErrorCode_OK; }
const RAI_Error *llapi_DAGGetError(RAI_OnFinishCtx *ctx) { return &ctx->err; }

/* The keyspace. */

RedisModuleCtx *gorai_llapi_keyspace(int *took) {
    RedisModuleCtx *ctx = RedisModule_GetThreadSafeContext(NULL);
    *took = !gorai_on_main_thread() && RedisModule_ThreadSafeContextTryLock(ctx) == REDISMODULE_OK;
    return ctx;
}

/* from_keyspace reads keyName's value of type, or sets err: RedisAI's texts. */
static int from_keyspace(RedisModuleCtx *ctx, RedisModuleString *keyName, RedisModuleType *type, void **value,
                         int mode, RAI_Error *err, int code, const char *empty) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyName, mode);
    const char *msg = NULL;
    if (RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_EMPTY) {
        msg = empty;
    } else if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(key) != type) {
        msg = GORAI_ERR_WRONGTYPE;
    } else {
        *value = RedisModule_ModuleTypeGetValue(key);
    }
    RedisModule_CloseKey(key);
    if (msg == NULL) return REDISMODULE_OK;
    gorai_llapi_set_error(err, code, msg, strlen(msg));
    return REDISMODULE_ERR;
}

int llapi_GetModelFromKeyspace(RedisModuleCtx *ctx, RedisModuleString *keyName, RAI_Model **model, int mode,
                                      RAI_Error *err) {
    return from_keyspace(ctx, keyName, gorai_model_type, (void **)model, mode, err, RedisAI_ErrorCode_EMODELRUN,
                         "ERR model key is empty");
}

int llapi_GetScriptFromKeyspace(RedisModuleCtx *ctx, RedisModuleString *keyName, RAI_Script **script,
                                       int mode, RAI_Error *err) {
    return from_keyspace(ctx, keyName, gorai_script_type, (void **)script, mode, err, RedisAI_ErrorCode_ESCRIPTRUN,
                         "ERR script key is empty");
}

RedisModuleType *llapi_ModelRedisType(void) { return gorai_model_type; }
RedisModuleType *llapi_ScriptRedisType(void) { return gorai_script_type; }

RAI_Model *llapi_ModelGetShallowCopy(RAI_Model *model) {
    if (model == NULL) return NULL;
    gorai_model_retain(model);
    return model;
}

RAI_Script *llapi_ScriptGetShallowCopy(RAI_Script *script) {
    if (script == NULL) return NULL;
    gorai_script_retain(script);
    return script;
}

void llapi_ModelFree(RAI_Model *model, RAI_Error *err) {
    (void)err;
    gorai_model_release(model);
}

void llapi_ScriptFree(RAI_Script *script, RAI_Error *err) {
    (void)err;
    gorai_script_release(script);
}

int llapi_ModelSerialize(RAI_Model *model, char **buffer, size_t *len, RAI_Error *err) {
    (void)err;
    *buffer = RedisModule_Alloc(model->bloblen > 0 ? model->bloblen : 1);
    memcpy(*buffer, model->blob, model->bloblen);
    *len = model->bloblen;
    return REDISMODULE_OK;
}

/* Registration: every function of the list, under RedisAI's name. */
int gorai_llapi_register(RedisModuleCtx *ctx) {
#define GORAI_EXPORT(ret, name, params)                                                              \
    if (RedisModule_ExportSharedAPI(ctx, "RedisAI_" #name, (void *)llapi_##name) != REDISMODULE_OK) \
        return REDISMODULE_ERR;
    REDISAI_LLAPI(GORAI_EXPORT)
    REDISAI_LLAPI_DLPACK(GORAI_EXPORT)
#undef GORAI_EXPORT
    return REDISMODULE_OK;
}
