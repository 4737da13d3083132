/* The low-level API's models, scripts and their runs. A run context is C: the caller fills it, Go
 * runs it (llapi.go: the same plans, queues and statistics as the commands') and fills its outputs. */
#include <string.h>

#include "go_library.h"
#include "llapi.h"

/* go_or_error is the Go library, loaded by a model's or script's creation if need be; NULL with err
 * set to code when it cannot be. */
static const gorai_go_library *go_or_error(RAI_Error *err, int code) {
    const gorai_go_library *go = gorai_go();
    if (go == NULL) gorai_llapi_set_error(err, code, GORAI_ERR_NO_GO_LIBRARY, strlen(GORAI_ERR_NO_GO_LIBRARY));
    return go;
}

RAI_Model *llapi_ModelCreate(int backend, char *devicestr, char *tag, RAI_ModelOpts opts, size_t ninputs,
                             const char **inputs, size_t noutputs, const char **outputs, const char *modeldef,
                             size_t modellen, RAI_Error *err) {
    const gorai_go_library *go = go_or_error(err, RedisAI_ErrorCode_EMODELCREATE);
    if (go == NULL) return NULL;
    return go->goraiLLAPIModelCreate(backend, devicestr, tag, &opts, ninputs, (char **)inputs, noutputs, (char **)outputs,
                                 (char *)modeldef, modellen, err);
}

RAI_Script *llapi_ScriptCreate(char *devicestr, char *tag, const char *scriptdef, RAI_Error *err) {
    const gorai_go_library *go = go_or_error(err, RedisAI_ErrorCode_ESCRIPTCREATE);
    if (go == NULL) return NULL;
    return go->goraiLLAPIScriptCreate(devicestr, tag, (char *)scriptdef, err);
}

static gorai_llapi_run *new_run(gorai_model *model, gorai_script *script, const char *function) {
    gorai_llapi_run *run = RedisModule_Alloc(sizeof(*run));
    memset(run, 0, sizeof(*run));
    run->model = model;
    run->script = script;
    if (function != NULL) run->function = gorai_strdup(function, strlen(function));
    return run;
}

/* A NULL model, script or tensor is refused (RedisAI would crash on it). */

RAI_ModelRunCtx *llapi_ModelRunCtxCreate(RAI_Model *model) {
    if (model == NULL) return NULL;
    gorai_model_retain(model);
    return new_run(model, NULL, NULL);
}

RAI_ScriptRunCtx *llapi_ScriptRunCtxCreate(RAI_Script *script, const char *fnname) {
    if (script == NULL) return NULL;
    gorai_script_retain(script);
    return new_run(NULL, script, fnname != NULL ? fnname : "");
}

/* append adds t (or NULL) to a growing array of tensors. */
static void append(gorai_tensor ***ts, size_t *n, size_t *cap, gorai_tensor *t) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *ts = RedisModule_Realloc(*ts, sizeof(**ts) * *cap);
    }
    (*ts)[(*n)++] = t;
}

static void add_input(gorai_llapi_run *run, gorai_tensor *t) {
    gorai_tensor_retain(t);
    append(&run->inputs, &run->ninputs, &run->inputs_cap, t);
}

static void add_output(gorai_llapi_run *run) { append(&run->outputs, &run->noutputs, &run->outputs_cap, NULL); }

int llapi_ModelRunCtxAddInput(RAI_ModelRunCtx *mctx, const char *inputName, RAI_Tensor *inputTensor) {
    (void)inputName;
    if (inputTensor == NULL) return 0;
    add_input(mctx, inputTensor);
    return 1;
}

int llapi_ModelRunCtxAddOutput(RAI_ModelRunCtx *mctx, const char *outputName) {
    (void)outputName;
    add_output(mctx);
    return 1;
}

int llapi_ScriptRunCtxAddTensorInput(RAI_ScriptRunCtx *sctx, RAI_Tensor *inputTensor) {
    if (inputTensor == NULL) return 0;
    add_input(sctx, inputTensor);
    return 1;
}

int llapi_ScriptRunCtxAddInput(RAI_ScriptRunCtx *sctx, RAI_Tensor *inputTensor, RAI_Error *err) {
    (void)err;
    return llapi_ScriptRunCtxAddTensorInput(sctx, inputTensor);
}

/* A list is its tensors in order: a script's legacy function takes the trailing ones as a
 * List[Tensor] parameter. */
int llapi_ScriptRunCtxAddTensorInputList(RAI_ScriptRunCtx *sctx, RAI_Tensor **inputTensors, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (inputTensors[i] == NULL) return 0;
    for (size_t i = 0; i < count; i++) add_input(sctx, inputTensors[i]);
    return 1;
}

int llapi_ScriptRunCtxAddInputList(RAI_ScriptRunCtx *sctx, RAI_Tensor **inputTensors, size_t len, RAI_Error *err) {
    (void)err;
    return llapi_ScriptRunCtxAddTensorInputList(sctx, inputTensors, len);
}

int llapi_ScriptRunCtxAddOutput(RAI_ScriptRunCtx *sctx) {
    add_output(sctx);
    return 1;
}

size_t llapi_ModelRunCtxNumOutputs(RAI_ModelRunCtx *mctx) { return mctx->noutputs; }
size_t llapi_ScriptRunCtxNumOutputs(RAI_ScriptRunCtx *sctx) { return sctx->noutputs; }

RAI_Tensor *llapi_ModelRunCtxOutputTensor(RAI_ModelRunCtx *mctx, size_t index) {
    return index < mctx->noutputs ? mctx->outputs[index] : NULL;
}

RAI_Tensor *llapi_ScriptRunCtxOutputTensor(RAI_ScriptRunCtx *sctx, size_t index) {
    return llapi_ModelRunCtxOutputTensor(sctx, index);
}

void llapi_ModelRunCtxFree(RAI_ModelRunCtx *run) {
    if (run == NULL) return;
    for (size_t i = 0; i < run->ninputs; i++) gorai_tensor_release(run->inputs[i]);
    for (size_t i = 0; i < run->noutputs; i++) gorai_tensor_release(run->outputs[i]);
    RedisModule_Free(run->inputs);
    RedisModule_Free(run->outputs);
    RedisModule_Free(run->function);
    if (run->model != NULL) gorai_model_release(run->model);
    if (run->script != NULL) gorai_script_release(run->script);
    RedisModule_Free(run);
}

void llapi_ScriptRunCtxFree(RAI_ScriptRunCtx *sctx) { llapi_ModelRunCtxFree(sctx); }

int llapi_ModelRun(RAI_ModelRunCtx **mctxs, long long n, RAI_Error *err) {
    for (long long i = 0; i < n; i++) {
        if (gorai_go_loaded()->goraiLLAPIRun(mctxs[i], err) != REDISMODULE_OK) return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}

int llapi_ScriptRun(RAI_ScriptRunCtx *sctx, RAI_Error *err) { return gorai_go_loaded()->goraiLLAPIRun(sctx, err); }

int llapi_ModelRunAsync(RAI_ModelRunCtx *mctx, RAI_OnFinishCB cb, void *private_data) {
    return gorai_go_loaded()->goraiLLAPIRunAsync(mctx, cb, private_data);
}

int llapi_ScriptRunAsync(RAI_ScriptRunCtx *sctx, RAI_OnFinishCB cb, void *private_data) {
    return gorai_go_loaded()->goraiLLAPIRunAsync(sctx, cb, private_data);
}
