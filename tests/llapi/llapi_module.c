/* A module that uses gorai's low-level API (module/redisai.h) as another module would: loaded after
 * gorai, it gets every function with RedisModule_GetSharedAPI and exercises each group from its own
 * commands, each replying +OK or an error naming the first check that failed. tests/llapi_test.go
 * builds it with the C compiler and drives it. The keys it expects: a{1} and b{1}, FLOAT tensors of
 * 2 3 2 3; m{1}, RedisAI's graph.pb (TF, c = a * b); myscript{1}, a script whose bar(a, b) is a + b. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <dlpack/dlpack.h>

#define GORAI_REDISMODULE_MAIN
#include "redismodule.h"
#include "redisai.h" /* built with REDISAI_MAIN or without: see llapi_second_file.c */

int llapi_version_from_second_file(void);

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            char msg_[256];                                                               \
            snprintf(msg_, sizeof msg_, "ERR check failed at line %d: %s", __LINE__, #cond); \
            return RedisModule_ReplyWithError(ctx, msg_);                                 \
        }                                                                                 \
    } while (0)

static void *key_value(RedisModuleCtx *ctx, const char *name) {
    RedisModuleString *s = RedisModule_CreateString(ctx, name, strlen(name));
    RedisModuleKey *key = RedisModule_OpenKey(ctx, s, REDISMODULE_READ);
    void *v = RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE ? RedisModule_ModuleTypeGetValue(key) : NULL;
    RedisModule_CloseKey(key);
    RedisModule_FreeString(ctx, s);
    return v;
}

static int tensor_equals(RAI_Tensor *t, const double *want, int n) {
    if (t == NULL || (int)RedisAI_TensorLength(t) != n) return 0;
    for (int i = 0; i < n; i++) {
        double v;
        if (!RedisAI_TensorGetValueAsDouble(t, i, &v) || v != want[i]) return 0;
    }
    return 1;
}

/* An async run's end, waited for on the command's thread as RedisAI's own test module does. */
typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    RAI_Error *err; /* the run's error, copied in the callback */
    RAI_Tensor *outputs[4];
    size_t noutputs;
    int kind; /* 'm' model, 's' script, 'd' DAG */
} waiter;

static void waiter_init(waiter *w, int kind) {
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    RedisAI_InitError(&w->err);
    w->kind = kind;
}

static void waiter_wait(waiter *w) {
    pthread_mutex_lock(&w->lock);
    while (!w->done) pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void waiter_free(waiter *w) {
    for (size_t i = 0; i < w->noutputs; i++) RedisAI_TensorFree(w->outputs[i]);
    RedisAI_FreeError(w->err);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
}

/* on_finish keeps what each kind of run gives: a shallow copy of every output. */
static void on_finish(RAI_OnFinishCtx *ctx, void *private_data) {
    waiter *w = private_data;
    if (w->kind == 'd') {
        if (RedisAI_DAGRunError(ctx)) {
            RedisAI_CloneError(w->err, RedisAI_DAGGetError(ctx));
        } else {
            size_t n = RedisAI_DAGNumOutputs(ctx);
            for (size_t i = 0; i < n && i < 4; i++)
                w->outputs[w->noutputs++] = RedisAI_TensorGetShallowCopy((RAI_Tensor *)RedisAI_DAGOutputTensor(ctx, i));
            if (RedisAI_DAGOutputTensor(ctx, n) != NULL) w->noutputs = 99; /* out of range must be NULL */
        }
    } else if (w->kind == 'm') {
        RAI_ModelRunCtx *mctx = RedisAI_GetAsModelRunCtx(ctx, w->err);
        if (mctx != NULL) {
            for (size_t i = 0; i < RedisAI_ModelRunCtxNumOutputs(mctx) && i < 4; i++)
                w->outputs[w->noutputs++] = RedisAI_TensorGetShallowCopy(RedisAI_ModelRunCtxOutputTensor(mctx, i));
        }
    } else {
        RAI_ScriptRunCtx *sctx = RedisAI_GetAsScriptRunCtx(ctx, w->err);
        if (sctx != NULL) {
            for (size_t i = 0; i < RedisAI_ScriptRunCtxNumOutputs(sctx) && i < 4; i++)
                w->outputs[w->noutputs++] = RedisAI_TensorGetShallowCopy(RedisAI_ScriptRunCtxOutputTensor(sctx, i));
        }
    }
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* LLAPI.BASIC: the version, the errors, the data types. */
static int cmd_basic(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    CHECK(RedisAI_GetLLAPIVersion() == REDISAI_LLAPI_VERSION);
    CHECK(llapi_version_from_second_file() == REDISAI_LLAPI_VERSION);
    RAI_Error *err, *copy;
    RedisAI_InitError(&err);
    RedisAI_InitError(&copy);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK);
    RAI_Model *m = NULL;
    RedisModuleString *missing = RedisModule_CreateString(ctx, "no-such-key", 11);
    CHECK(RedisAI_GetModelFromKeyspace(ctx, missing, &m, REDISMODULE_READ, err) == REDISMODULE_ERR && m == NULL);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EMODELRUN);
    CHECK(strcmp(RedisAI_GetError(err), "ERR model key is empty") == 0);
    CHECK(strcmp(RedisAI_GetErrorOneLine(err), "ERR model key is empty") == 0);
    RedisAI_CloneError(copy, err);
    CHECK(RedisAI_GetErrorCode(copy) == RedisAI_ErrorCode_EMODELRUN);
    CHECK(strcmp(RedisAI_GetError(copy), RedisAI_GetError(err)) == 0);
    RedisAI_ClearError(err);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK);
    RAI_Script *s = NULL;
    CHECK(RedisAI_GetScriptFromKeyspace(ctx, missing, &s, REDISMODULE_READ, err) == REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "ERR script key is empty") == 0);
    RedisAI_ClearError(err);
    RedisModuleString *a = RedisModule_CreateString(ctx, "a{1}", 4);
    CHECK(RedisAI_GetModelFromKeyspace(ctx, a, &m, REDISMODULE_READ, err) == REDISMODULE_ERR);
    CHECK(strncmp(RedisAI_GetError(err), "WRONGTYPE", 9) == 0);
    RedisModuleString *mkey = RedisModule_CreateString(ctx, "m{1}", 4);
    CHECK(RedisAI_GetModelFromKeyspace(ctx, mkey, &m, REDISMODULE_READ, err) == REDISMODULE_OK && m == key_value(ctx, "m{1}"));
    RedisModuleKey *k = RedisModule_OpenKey(ctx, a, REDISMODULE_READ);
    CHECK(RedisModule_ModuleTypeGetType(k) == RedisAI_TensorRedisType());
    RedisModule_CloseKey(k);
    k = RedisModule_OpenKey(ctx, mkey, REDISMODULE_READ);
    CHECK(RedisModule_ModuleTypeGetType(k) == RedisAI_ModelRedisType());
    RedisModule_CloseKey(k);
    CHECK(RedisAI_ScriptRedisType() != NULL && RedisAI_ScriptRedisType() != RedisAI_ModelRedisType());
    RedisModule_FreeString(ctx, missing);
    RedisModule_FreeString(ctx, a);
    RedisModule_FreeString(ctx, mkey);
    RedisAI_FreeError(err);
    RedisAI_FreeError(copy);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.TENSORS: create, set, get, copy, concatenate and slice. */
static int cmd_tensors(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    long long dims[] = {2, 2};
    CHECK(RedisAI_TensorCreate("NOSUCHTYPE", dims, 2) == NULL);
    RAI_Tensor *t = RedisAI_TensorCreate("float", dims, 2);
    CHECK(t != NULL && RedisAI_TensorLength(t) == 4 && RedisAI_TensorNumDims(t) == 2 && RedisAI_TensorDim(t, 1) == 2);
    CHECK(RedisAI_TensorByteSize(t) == 16 && RedisAI_TensorDataSize(t) == 4);
    CHECK(RedisAI_TensorDataType(t) == (2 | 32 << 8 | 1 << 16)); /* DLPack's {kDLFloat, 32, 1} */
    static const char zeros[16];
    CHECK(memcmp(RedisAI_TensorData(t), zeros, 16) == 0);
    CHECK(RedisAI_TensorSetValueFromDouble(t, 0, 1.5) == 1);
    CHECK(RedisAI_TensorSetValueFromDouble(t, 4, 1) == 0); /* out of range */
    CHECK(RedisAI_TensorSetValueFromLongLong(t, 1, 7) == 0); /* RedisAI sets integers only into integer dtypes */
    float data[4] = {1, 2, 3, 4};
    CHECK(RedisAI_TensorSetData(t, (const char *)data, 16) == 1);
    CHECK(RedisAI_TensorSetData(t, (const char *)data, 12) == 0);
    double want[] = {1, 2, 3, 4};
    CHECK(tensor_equals(t, want, 4));
    long long ll;
    CHECK(RedisAI_TensorGetValueAsLongLong(t, 0, &ll) == 0);

    /* A shared tensor is immutable. */
    RAI_Tensor *copy = RedisAI_TensorGetShallowCopy(t);
    CHECK(copy == t && RedisAI_TensorSetValueFromDouble(t, 0, 9) == 0);
    RedisAI_TensorFree(copy);
    CHECK(RedisAI_TensorSetValueFromDouble(t, 0, 1) == 1);

    RAI_Tensor *i = RedisAI_TensorCreate("INT16", dims, 2);
    CHECK(RedisAI_TensorSetValueFromLongLong(i, 3, -5) == 1 && RedisAI_TensorGetValueAsLongLong(i, 3, &ll) == 1 && ll == -5);
    double d;
    CHECK(RedisAI_TensorGetValueAsDouble(i, 3, &d) == 0);
    RedisAI_TensorFree(i);

    RAI_Tensor *b = RedisAI_TensorCreate("BOOL", dims, 2);
    unsigned char bad[4] = {2, 0, 0, 0}, good[4] = {1, 0, 1, 0};
    CHECK(RedisAI_TensorSetData(b, (const char *)bad, 4) == 0);
    CHECK(RedisAI_TensorSetData(b, (const char *)good, 4) == 1);
    CHECK(RedisAI_TensorSetValueFromLongLong(b, 1, 2) == 0);
    RedisAI_TensorFree(b);

    /* Batches: [2,2] + [1,2] along dim 0, and back. */
    long long row_dims[] = {1, 2};
    RAI_Tensor *row = RedisAI_TensorCreate("FLOAT", row_dims, 2);
    float row_data[2] = {5, 6};
    RedisAI_TensorSetData(row, (const char *)row_data, 8);
    RAI_Tensor *parts[] = {t, row};
    RAI_Tensor *all = RedisAI_TensorCreateByConcatenatingTensors(parts, 2);
    double want_all[] = {1, 2, 3, 4, 5, 6};
    CHECK(all != NULL && RedisAI_TensorDim(all, 0) == 3 && tensor_equals(all, want_all, 6));
    RAI_Tensor *tail = RedisAI_TensorCreateBySlicingTensor(all, 1, 2);
    double want_tail[] = {3, 4, 5, 6};
    CHECK(tail != NULL && RedisAI_TensorDim(tail, 0) == 2 && tensor_equals(tail, want_tail, 4));
    CHECK(RedisAI_TensorCreateBySlicingTensor(all, 2, 5) == NULL);
    long long other_dims[] = {1, 3};
    RAI_Tensor *other = RedisAI_TensorCreate("FLOAT", other_dims, 2);
    RAI_Tensor *mismatched[] = {t, other};
    CHECK(RedisAI_TensorCreateByConcatenatingTensors(mismatched, 2) == NULL);
    RedisAI_TensorFree(other);
    RedisAI_TensorFree(tail);
    RedisAI_TensorFree(all);
    RedisAI_TensorFree(row);
    RedisAI_TensorFree(t);

    /* Strings: set after the create, each element NUL-terminated; concatenated and sliced. */
    long long sdims[] = {1, 2};
    RAI_Tensor *s1 = RedisAI_TensorCreate("STRING", sdims, 2);
    CHECK(RedisAI_TensorSetData(s1, "only one\0", 9) == 0);
    CHECK(RedisAI_TensorSetData(s1, "first\0second\0", 13) == 1 && RedisAI_TensorByteSize(s1) == 13);
    RAI_Tensor *s2 = RedisAI_TensorCreate("STRING", sdims, 2);
    CHECK(RedisAI_TensorSetData(s2, "A\0B\0", 4) == 1);
    RAI_Tensor *sparts[] = {s1, s2};
    RAI_Tensor *sall = RedisAI_TensorCreateByConcatenatingTensors(sparts, 2);
    CHECK(sall != NULL && RedisAI_TensorDim(sall, 0) == 2 && RedisAI_TensorByteSize(sall) == 17);
    CHECK(memcmp(RedisAI_TensorData(sall), "first\0second\0A\0B\0", 17) == 0);
    RAI_Tensor *s2again = RedisAI_TensorCreateBySlicingTensor(sall, 1, 1);
    CHECK(s2again != NULL && RedisAI_TensorByteSize(s2again) == 4 && memcmp(RedisAI_TensorData(s2again), "A\0B\0", 4) == 0);
    RedisAI_TensorFree(s2again);
    RedisAI_TensorFree(sall);
    RedisAI_TensorFree(s1);
    RedisAI_TensorFree(s2);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.STORETENSOR key: a tensor made here, stored in key for AI.TENSORGET to read. */
static int cmd_store_tensor(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    long long dims[] = {3};
    RAI_Tensor *t = RedisAI_TensorCreate("DOUBLE", dims, 1);
    for (int i = 0; i < 3; i++) RedisAI_TensorSetValueFromDouble(t, i, 0.5 + i);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    CHECK(RedisModule_ModuleTypeSetValue(key, RedisAI_TensorRedisType(), t) == REDISMODULE_OK);
    RedisModule_CloseKey(key);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static RAI_ModelRunCtx *model_run(RAI_Model *m, RAI_Tensor *a, RAI_Tensor *b) {
    RAI_ModelRunCtx *mctx = RedisAI_ModelRunCtxCreate(m);
    RedisAI_ModelRunCtxAddInput(mctx, "a", a);
    RedisAI_ModelRunCtxAddInput(mctx, "b", b);
    RedisAI_ModelRunCtxAddOutput(mctx, "mul");
    return mctx;
}

/* LLAPI.MODELRUN: m{1} run async (with a failing run first) and synchronously. */
static int cmd_model_run(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    RAI_Model *m = key_value(ctx, "m{1}");
    RAI_Tensor *a = key_value(ctx, "a{1}"), *b = key_value(ctx, "b{1}");
    CHECK(m != NULL && a != NULL && b != NULL);
    double want[] = {4, 9, 4, 9};

    waiter w;
    waiter_init(&w, 'm');
    RAI_ModelRunCtx *mctx = RedisAI_ModelRunCtxCreate(m); /* no inputs: the run fails */
    CHECK(RedisAI_ModelRunAsync(mctx, on_finish, &w) == REDISMODULE_OK);
    waiter_wait(&w);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_EMODELRUN && w.noutputs == 0);
    RedisAI_ModelRunCtxFree(mctx);
    waiter_free(&w);

    waiter_init(&w, 'm');
    mctx = model_run(m, a, b);
    CHECK(RedisAI_ModelRunAsync(mctx, on_finish, &w) == REDISMODULE_OK);
    waiter_wait(&w);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK);
    CHECK(w.noutputs == 1 && tensor_equals(w.outputs[0], want, 4));
    RedisAI_ModelRunCtxFree(mctx);
    waiter_free(&w);

    /* A script's finish context is not a model's. */
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ModelRunCtx *runs[2] = {model_run(m, a, b), model_run(m, b, a)};
    CHECK(RedisAI_ModelRun(runs, 2, err) == REDISMODULE_OK);
    for (int i = 0; i < 2; i++) {
        CHECK(RedisAI_ModelRunCtxNumOutputs(runs[i]) == 1 && tensor_equals(RedisAI_ModelRunCtxOutputTensor(runs[i], 0), want, 4));
        CHECK(RedisAI_ModelRunCtxOutputTensor(runs[i], 1) == NULL);
        RedisAI_ModelRunCtxFree(runs[i]);
    }
    RedisAI_FreeError(err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.MODELCREATE blob: graph.pb made into a model in no key, run, serialized and freed. */
static int cmd_model_create(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    size_t len;
    const char *blob = RedisModule_StringPtrLen(argv[1], &len);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_ModelOpts opts = {0};
    const char *inputs[] = {"a", "b"}, *outputs[] = {"mul"};
    CHECK(RedisAI_ModelCreate(99, "CPU", "", opts, 2, inputs, 1, outputs, blob, len, err) == NULL);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EUNSUPPORTEDBACKEND);
    RedisAI_ClearError(err);
    CHECK(RedisAI_ModelCreate(REDISAI_BACKEND_TENSORFLOW, "CPU", "", opts, 2, inputs, 1, outputs, "garbage", 7, err) == NULL);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_EMODELCREATE && RedisAI_GetError(err) != NULL);
    RedisAI_ClearError(err);
    RAI_Model *m = RedisAI_ModelCreate(REDISAI_BACKEND_TENSORFLOW, "CPU", "mytag", opts, 2, inputs, 1, outputs, blob, len, err);
    CHECK(m != NULL && RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK);
    char *buf;
    size_t buflen;
    CHECK(RedisAI_ModelSerialize(m, &buf, &buflen, err) == REDISMODULE_OK && buflen == len && memcmp(buf, blob, len) == 0);
    RedisModule_Free(buf);
    RAI_Model *copy = RedisAI_ModelGetShallowCopy(m);
    RedisAI_ModelFree(m, err); /* the copy keeps it */
    RAI_Tensor *a = key_value(ctx, "a{1}"), *b = key_value(ctx, "b{1}");
    RAI_ModelRunCtx *mctx = model_run(copy, a, b);
    CHECK(RedisAI_ModelRun(&mctx, 1, err) == REDISMODULE_OK);
    double want[] = {4, 9, 4, 9};
    CHECK(tensor_equals(RedisAI_ModelRunCtxOutputTensor(mctx, 0), want, 4));
    RedisAI_ModelRunCtxFree(mctx);
    RedisAI_ModelFree(copy, err);
    RedisAI_FreeError(err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.SCRIPTRUN: myscript{1}'s bar async (with a missing function first) and synchronously, and a
 * script made here from source. */
static int cmd_script_run(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    RAI_Script *s = key_value(ctx, "myscript{1}");
    RAI_Tensor *a = key_value(ctx, "a{1}"), *b = key_value(ctx, "b{1}");
    CHECK(s != NULL && a != NULL && b != NULL);
    double want[] = {4, 6, 4, 6};

    waiter w;
    waiter_init(&w, 's');
    RAI_ScriptRunCtx *sctx = RedisAI_ScriptRunCtxCreate(s, "no_such_function");
    RedisAI_ScriptRunCtxAddTensorInput(sctx, a);
    RedisAI_ScriptRunCtxAddOutput(sctx);
    CHECK(RedisAI_ScriptRunAsync(sctx, on_finish, &w) == REDISMODULE_OK);
    waiter_wait(&w);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_ESCRIPTRUN);
    RedisAI_ScriptRunCtxFree(sctx);
    waiter_free(&w);

    waiter_init(&w, 's');
    sctx = RedisAI_ScriptRunCtxCreate(s, "bar");
    RAI_Tensor *inputs[] = {a, b};
    RedisAI_ScriptRunCtxAddTensorInputList(sctx, inputs, 2);
    RedisAI_ScriptRunCtxAddOutput(sctx);
    CHECK(RedisAI_ScriptRunAsync(sctx, on_finish, &w) == REDISMODULE_OK);
    waiter_wait(&w);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK && w.noutputs == 1 && tensor_equals(w.outputs[0], want, 4));
    RedisAI_ScriptRunCtxFree(sctx);
    waiter_free(&w);

    /* A model run's finish context read as a script's is refused. */
    waiter_init(&w, 's');
    RAI_ModelRunCtx *mctx = model_run(key_value(ctx, "m{1}"), a, b);
    CHECK(RedisAI_ModelRunAsync(mctx, on_finish, &w) == REDISMODULE_OK);
    waiter_wait(&w);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_EFINISHCTX);
    RedisAI_ModelRunCtxFree(mctx);
    waiter_free(&w);

    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Script *mine = RedisAI_ScriptCreate("CPU", "tag", "def twice(a):\n    return a + a\n", err);
    CHECK(mine != NULL && RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_OK);
    CHECK(RedisAI_ScriptCreate("CPU", "", "def broken(:\n", err) == NULL);
    CHECK(RedisAI_GetErrorCode(err) == RedisAI_ErrorCode_ESCRIPTCREATE);
    RedisAI_ClearError(err);
    sctx = RedisAI_ScriptRunCtxCreate(mine, "twice");
    RedisAI_ScriptRunCtxAddInput(sctx, a, err);
    RedisAI_ScriptRunCtxAddOutput(sctx);
    CHECK(RedisAI_ScriptRun(sctx, err) == REDISMODULE_OK);
    CHECK(tensor_equals(RedisAI_ScriptRunCtxOutputTensor(sctx, 0), want, 4));
    RedisAI_ScriptRunCtxFree(sctx);
    RAI_Script *copy = RedisAI_ScriptGetShallowCopy(mine);
    RedisAI_ScriptFree(mine, err);
    RedisAI_ScriptFree(copy, err);
    RedisAI_FreeError(err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int run_dag(RAI_DAGRunCtx *dag, waiter *w, RAI_Error *err) {
    if (RedisAI_DAGRun(dag, on_finish, w, err) != REDISMODULE_OK) return REDISMODULE_ERR;
    waiter_wait(w);
    return REDISMODULE_OK;
}

/* LLAPI.DAG: building DAGs (and their errors) and running them. */
static int cmd_dag(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    RAI_Model *m = key_value(ctx, "m{1}");
    RAI_Script *s = key_value(ctx, "myscript{1}");
    RAI_Tensor *a = key_value(ctx, "a{1}"), *b = key_value(ctx, "b{1}");
    RAI_Error *err;
    RedisAI_InitError(&err);
    waiter w;

    /* A name is loaded once. */
    RAI_DAGRunCtx *dag = RedisAI_DAGRunCtxCreate();
    CHECK(RedisAI_DAGLoadTensor(dag, "input", a) == REDISMODULE_OK);
    CHECK(RedisAI_DAGLoadTensor(dag, "input", b) == REDISMODULE_ERR);
    /* No op: nothing to run. */
    CHECK(RedisAI_DAGRun(dag, on_finish, NULL, err) == REDISMODULE_ERR && strcmp(RedisAI_GetError(err), "ERR DAG is empty") == 0);
    RedisAI_ClearError(err);
    /* A model op must match the model's counts. */
    RAI_DAGRunOp *op = RedisAI_DAGCreateModelRunOp(m);
    RedisAI_DAGRunOpAddInput(op, "input");
    CHECK(RedisAI_DAGAddRunOp(dag, op, err) == REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "Number of keys given as INPUTS does not match model definition") == 0);
    RedisAI_DAGRunOpAddInput(op, "input");
    CHECK(RedisAI_DAGAddRunOp(dag, op, err) == REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "Number of keys given as OUTPUTS does not match model definition") == 0);
    RedisAI_ClearError(err);
    RedisAI_DAGRunOpFree(op);
    /* An input no op gives. */
    RedisAI_DAGAddTensorGet(dag, "nothing");
    CHECK(RedisAI_DAGRun(dag, on_finish, NULL, err) == REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "ERR INPUT key cannot be found in DAG") == 0);
    RedisAI_ClearError(err);
    RedisAI_DAGFree(dag);

    /* LOAD, MODELRUN, TENSORGET. */
    dag = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGLoadTensor(dag, "x", a);
    RedisAI_DAGLoadTensor(dag, "y", b);
    op = RedisAI_DAGCreateModelRunOp(m);
    RedisAI_DAGRunOpAddInput(op, "x");
    RedisAI_DAGRunOpAddInput(op, "y");
    RedisAI_DAGRunOpAddOutput(op, "z");
    CHECK(RedisAI_DAGAddRunOp(dag, op, err) == REDISMODULE_OK);
    RedisAI_DAGAddTensorGet(dag, "z");
    CHECK(RedisAI_DAGNumOps(dag) == 2);
    waiter_init(&w, 'd');
    CHECK(run_dag(dag, &w, err) == REDISMODULE_OK);
    double want_mul[] = {4, 9, 4, 9}, want_add[] = {4, 6, 4, 6};
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK && w.noutputs == 1 && tensor_equals(w.outputs[0], want_mul, 4));
    waiter_free(&w);
    RedisAI_DAGFree(dag);

    /* TENSORSET, SCRIPTRUN, TENSORGET; then a script error. */
    dag = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGAddTensorSet(dag, "x", a);
    RedisAI_DAGAddTensorSet(dag, "y", b);
    op = RedisAI_DAGCreateScriptRunOp(s, "bar");
    RedisAI_DAGRunOpAddInput(op, "x");
    RedisAI_DAGRunOpAddInput(op, "y");
    RedisAI_DAGRunOpAddOutput(op, "z");
    CHECK(RedisAI_DAGAddRunOp(dag, op, err) == REDISMODULE_OK);
    RedisAI_DAGAddTensorGet(dag, "z");
    waiter_init(&w, 'd');
    CHECK(run_dag(dag, &w, err) == REDISMODULE_OK);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK && w.noutputs == 1 && tensor_equals(w.outputs[0], want_add, 4));
    waiter_free(&w);
    RedisAI_DAGFree(dag);

    dag = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGAddTensorSet(dag, "x", a);
    op = RedisAI_DAGCreateScriptRunOp(s, "no_such_function");
    RedisAI_DAGRunOpAddInput(op, "x");
    RedisAI_DAGRunOpAddOutput(op, "z");
    CHECK(RedisAI_DAGAddRunOp(dag, op, err) == REDISMODULE_OK);
    RedisAI_DAGAddTensorGet(dag, "z");
    waiter_init(&w, 'd');
    CHECK(run_dag(dag, &w, err) == REDISMODULE_OK);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_ESCRIPTRUN && w.noutputs == 0);
    waiter_free(&w);
    RedisAI_DAGFree(dag);

    /* Ops from a string, all or none. */
    dag = RedisAI_DAGRunCtxCreate();
    RedisAI_DAGLoadTensor(dag, "in1", a);
    CHECK(RedisAI_DAGAddOpsFromString(dag, "bad string", err) == REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "DAG op should start with: '|>' ") == 0);
    RedisAI_ClearError(err);
    RedisAI_DAGAddTensorSet(dag, "in2", b);
    CHECK(RedisAI_DAGAddOpsFromString(dag, "|> AI.MODELEXECUTE m{1} INPUTS 2 in1 in2 OUTPUTS 1 out |> bad_op x", err) ==
          REDISMODULE_ERR);
    CHECK(strcmp(RedisAI_GetError(err), "Unsupported command within DAG") == 0);
    RedisAI_ClearError(err);
    CHECK(RedisAI_DAGNumOps(dag) == 1);
    CHECK(RedisAI_DAGAddOpsFromString(dag, "|> AI.MODELEXECUTE m{1} INPUTS 2 in1 in2 OUTPUTS 1 out |>  AI.TENSORGET out", err) ==
          REDISMODULE_OK);
    CHECK(RedisAI_DAGNumOps(dag) == 3);
    RedisAI_DAGAddTensorGet(dag, "in1");
    waiter_init(&w, 'd');
    CHECK(run_dag(dag, &w, err) == REDISMODULE_OK);
    CHECK(RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK && w.noutputs == 2 && tensor_equals(w.outputs[0], want_mul, 4));
    CHECK(w.outputs[1] == a);
    waiter_free(&w);
    RedisAI_DAGFree(dag);
    RedisAI_FreeError(err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.DAGFROMTHREAD: DAGAddOpsFromString from a thread of the module's own, first holding Redis'
 * lock (as RedisAI required of such a caller: gorai's taking it again deadlocked), then not holding it
 * (gorai takes it while it is free); the DAG then runs. The client is blocked meanwhile, and answered
 * +OK or the check that failed. */
typedef struct thread_call {
    RedisModuleBlockedClient *bc;
    char failed[256]; /* empty when every check passed */
} thread_call;

#define THREAD_CHECK(call, cond)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf((call)->failed, sizeof (call)->failed, "ERR check failed at line %d: %s", __LINE__, #cond); \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

static void *dag_from_thread(void *arg) {
    thread_call *call = arg;
    RedisModuleCtx *ctx = RedisModule_GetThreadSafeContext(NULL);
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_DAGRunCtx *held = RedisAI_DAGRunCtxCreate(), *free_lock = RedisAI_DAGRunCtxCreate();
    waiter w;
    waiter_init(&w, 'd');
    double want_mul[] = {4, 9, 4, 9};

    RedisModule_ThreadSafeContextLock(ctx);
    RAI_Tensor *a = key_value(ctx, "a{1}"), *b = key_value(ctx, "b{1}");
    RedisAI_DAGLoadTensor(held, "in1", a);
    RedisAI_DAGLoadTensor(held, "in2", b);
    RedisAI_DAGLoadTensor(free_lock, "in1", a);
    RedisAI_DAGLoadTensor(free_lock, "in2", b);
    int held_rc = RedisAI_DAGAddOpsFromString(held, "|> AI.MODELEXECUTE m{1} INPUTS 2 in1 in2 OUTPUTS 1 out |> AI.TENSORGET out", err);
    int missing_rc = RedisAI_DAGAddOpsFromString(held, "|> AI.MODELEXECUTE no-model INPUTS 2 in1 in2 OUTPUTS 1 x", err);
    RedisModule_ThreadSafeContextUnlock(ctx);
    THREAD_CHECK(call, held_rc == REDISMODULE_OK && RedisAI_DAGNumOps(held) == 2);
    THREAD_CHECK(call, missing_rc == REDISMODULE_ERR && strcmp(RedisAI_GetError(err), "ERR model key is empty") == 0);
    RedisAI_ClearError(err);

    THREAD_CHECK(call, RedisAI_DAGAddOpsFromString(free_lock, "|> AI.MODELEXECUTE m{1} INPUTS 2 in1 in2 OUTPUTS 1 out |> AI.TENSORGET out",
                                                   err) == REDISMODULE_OK);
    THREAD_CHECK(call, run_dag(held, &w, err) == REDISMODULE_OK);
    THREAD_CHECK(call, RedisAI_GetErrorCode(w.err) == RedisAI_ErrorCode_OK && w.noutputs == 1 && tensor_equals(w.outputs[0], want_mul, 4));
done:
    waiter_free(&w);
    RedisAI_DAGFree(held);
    RedisAI_DAGFree(free_lock);
    RedisAI_FreeError(err);
    RedisModule_FreeThreadSafeContext(ctx);
    RedisModule_UnblockClient(call->bc, call);
    return NULL;
}

static int thread_call_reply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    thread_call *call = RedisModule_GetBlockedClientPrivateData(ctx);
    if (call->failed[0] != '\0') return RedisModule_ReplyWithError(ctx, call->failed);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static void thread_call_free(RedisModuleCtx *ctx, void *privdata) {
    (void)ctx;
    RedisModule_Free(privdata);
}

static int cmd_dag_from_thread(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    thread_call *call = RedisModule_Alloc(sizeof(*call));
    memset(call, 0, sizeof(*call));
    call->bc = RedisModule_BlockClient(ctx, thread_call_reply, NULL, thread_call_free, 0);
    pthread_t thread;
    if (pthread_create(&thread, NULL, dag_from_thread, call) != 0) {
        snprintf(call->failed, sizeof call->failed, "ERR could not start a thread");
        RedisModule_UnblockClient(call->bc, call);
        return REDISMODULE_OK;
    }
    pthread_detach(thread);
    return REDISMODULE_OK;
}

/* LLAPI.SCRIPTCALLSREDIS: a synchronous ScriptRun, on Redis' main thread (inside this command), of a
 * script that calls into Redis: its SET is made (the script's call waited for the lock the main thread
 * holds, for ever). */
static int cmd_script_calls_redis(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    RAI_Error *err;
    RedisAI_InitError(&err);
    RAI_Script *script = RedisAI_ScriptCreate("CPU", "", "def f(a):\n    redis.execute('SET', 'set-by-script', '1')\n    return a\n", err);
    CHECK(script != NULL);
    RAI_ScriptRunCtx *sctx = RedisAI_ScriptRunCtxCreate(script, "f");
    RedisAI_ScriptRunCtxAddInput(sctx, key_value(ctx, "a{1}"), err);
    RedisAI_ScriptRunCtxAddOutput(sctx);
    int rc = RedisAI_ScriptRun(sctx, err);
    double want[] = {2, 3, 2, 3};
    int same = rc == REDISMODULE_OK && tensor_equals(RedisAI_ScriptRunCtxOutputTensor(sctx, 0), want, 4);
    RedisAI_ScriptRunCtxFree(sctx);
    RedisAI_ScriptFree(script, err);
    CHECK(rc == REDISMODULE_OK && same);
    RedisAI_FreeError(err);
    RedisModuleString *name = RedisModule_CreateString(ctx, "set-by-script", 13);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, name, REDISMODULE_READ);
    int set = RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_EMPTY;
    RedisModule_CloseKey(key);
    RedisModule_FreeString(ctx, name);
    CHECK(set);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int deleted;
static void count_deletion(DLManagedTensor *m) {
    (void)m;
    deleted++;
}

/* LLAPI.DLPACK: gorai's additions, a tensor from a DLPack managed tensor and a tensor's DLTensor. */
static int cmd_dlpack(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    CHECK(RedisAI_TensorCreateFromDLTensor != NULL && RedisAI_TensorGetDLTensor != NULL);
    float data[2][3] = {{1, 2, 3}, {4, 5, 6}};
    int64_t shape[] = {2, 3}, strides[] = {3, 1}, transposed[] = {1, 2};
    DLManagedTensor m = {.dl_tensor = {.data = data, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1},
                                       .shape = shape, .strides = strides},
                         .deleter = count_deletion};
    deleted = 0;
    RAI_Tensor *t = RedisAI_TensorCreateFromDLTensor(&m);
    double want[] = {1, 2, 3, 4, 5, 6};
    CHECK(t != NULL && deleted == 1 && RedisAI_TensorDim(t, 1) == 3 && tensor_equals(t, want, 6));
    data[0][0] = 9; /* a copy: the caller's buffer is the caller's */
    CHECK(tensor_equals(t, want, 6));
    DLTensor *d = RedisAI_TensorGetDLTensor(t);
    CHECK(d != NULL && d->ndim == 2 && d->shape[0] == 2 && d->shape[1] == 3 && d->dtype.code == kDLFloat &&
          d->dtype.bits == 32 && d->data == RedisAI_TensorData(t) && d->device.device_type == kDLCPU);
    RedisAI_TensorFree(t);

    m.dl_tensor.strides = transposed; /* not row-major */
    CHECK(RedisAI_TensorCreateFromDLTensor(&m) == NULL && deleted == 1);
    m.dl_tensor.strides = NULL;
    m.dl_tensor.device.device_type = kDLCUDA;
    CHECK(RedisAI_TensorCreateFromDLTensor(&m) == NULL && deleted == 1);
    m.dl_tensor.device.device_type = kDLCPU;
    m.dl_tensor.dtype.bits = 24;
    CHECK(RedisAI_TensorCreateFromDLTensor(&m) == NULL && deleted == 1);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* LLAPI.CALL command arg...: runs a command through RedisModule_Call, as a module does (its client has no
 * user: Redis runs it as root), and replies +OK, or the command's error. */
static int cmd_call(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) return RedisModule_WrongArity(ctx);
    RedisModuleCallReply *r = RedisModule_Call(ctx, RedisModule_StringPtrLen(argv[1], NULL), "v", argv + 2, (size_t)(argc - 2));
    if (r == NULL) return RedisModule_ReplyWithError(ctx, "ERR RedisModule_Call refused the command");
    int rc;
    if (RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ERROR) {
        size_t n;
        const char *text = RedisModule_CallReplyStringPtr(r, &n);
        char msg[256];
        snprintf(msg, sizeof msg, "%.*s", (int)n, text);
        rc = RedisModule_ReplyWithError(ctx, msg);
    } else {
        rc = RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    RedisModule_FreeCallReply(r);
    return rc;
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (gorai_fill_api(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    RedisModule_SetModuleAttribs(ctx, "llapitest", 1, REDISMODULE_APIVER_1);
    if (RedisAI_Initialize(ctx) != REDISMODULE_OK) {
        RedisModule_Log(ctx, "warning", "could not initialize RedisAI api");
        return REDISMODULE_ERR;
    }
    static const struct {
        const char *name;
        RedisModuleCmdFunc f;
    } cmds[] = {
        {"llapi.basic", cmd_basic},         {"llapi.tensors", cmd_tensors},     {"llapi.storetensor", cmd_store_tensor},
        {"llapi.modelrun", cmd_model_run},  {"llapi.modelcreate", cmd_model_create}, {"llapi.scriptrun", cmd_script_run},
        {"llapi.dag", cmd_dag},             {"llapi.dlpack", cmd_dlpack},       {"llapi.call", cmd_call},
        {"llapi.dagfromthread", cmd_dag_from_thread}, {"llapi.scriptcallsredis", cmd_script_calls_redis},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (RedisModule_CreateCommand(ctx, cmds[i].name, cmds[i].f, "", 0, 0, 0) != REDISMODULE_OK) return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
