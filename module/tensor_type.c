/* The AI_TENSOR data type. Every callback is C: rdb_save and aof_rewrite run in forked children,
 * where Go must never run: the child has only the forking thread, and a call into Go's runtime there
 * waits for threads that do not exist, so the save hangs. */
#include <string.h>

#include "module.h"
#include "tensor_rdb.h"

RedisModuleType *gorai_tensor_type;

static uint64_t io_load_unsigned(void *io) { return RedisModule_LoadUnsigned(io); }
static int64_t io_load_signed(void *io) { return RedisModule_LoadSigned(io); }
static char *io_load_string_buffer(void *io, size_t *len) { return RedisModule_LoadStringBuffer(io, len); }
static void io_free_buffer(void *io, char *buf) {
    (void)io;
    RedisModule_Free(buf);
}
static int io_failed(void *io) { return RedisModule_IsIOError(io); }
static void io_save_unsigned(void *io, uint64_t v) { RedisModule_SaveUnsigned(io, v); }
static void io_save_signed(void *io, int64_t v) { RedisModule_SaveSigned(io, v); }
static void io_save_string_buffer(void *io, const char *buf, size_t len) { RedisModule_SaveStringBuffer(io, buf, len); }

static void *tensor_rdb_load(RedisModuleIO *io, int encver) {
    gorai_rdb_reader r = {io, io_load_unsigned, io_load_signed, io_load_string_buffer, io_free_buffer, io_failed};
    const char *err = NULL;
    gorai_tensor *t = gorai_tensor_rdb_load(&r, encver, &err);
    if (t == NULL) RedisModule_LogIOError(io, "warning", "AI_TENSOR: %s", err ? err : "invalid tensor");
    return t;
}

static void tensor_rdb_save(RedisModuleIO *io, void *value) {
    gorai_rdb_writer w = {io, io_save_unsigned, io_save_signed, io_save_string_buffer};
    gorai_tensor_rdb_save(&w, value);
}

RedisModuleString **gorai_tensor_dims(const gorai_tensor *t) {
    int ndim = t->dl.ndim;
    RedisModuleString **dims = RedisModule_Alloc(sizeof(*dims) * (size_t)(ndim > 0 ? ndim : 1));
    for (int i = 0; i < ndim; i++) dims[i] = RedisModule_CreateStringFromLongLong(NULL, t->dl.shape[i]);
    return dims;
}

void gorai_free_tensor_dims(const gorai_tensor *t, RedisModuleString **dims) {
    for (int i = 0; i < t->dl.ndim; i++) RedisModule_FreeString(NULL, dims[i]);
    RedisModule_Free(dims);
}

/* AOF: AI.TENSORSET key TYPE dims... BLOB data */
static void tensor_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    gorai_tensor *t = value;
    RedisModuleString **dims = gorai_tensor_dims(t);
    RedisModule_EmitAOF(aof, "AI.TENSORSET", GORAI_TENSORSET_FORMAT, key, gorai_dtype_name(t->dl.dtype), dims,
                        (size_t)t->dl.ndim, "BLOB", (const char *)t->dl.data, t->nbytes);
    gorai_free_tensor_dims(t, dims);
}

static size_t tensor_mem_usage(const void *value) { return gorai_tensor_mem_usage(value); }

static void tensor_digest(RedisModuleDigest *md, void *value) {
    gorai_tensor *t = value;
    RedisModule_DigestAddLongLong(md, t->dl.dtype.code);
    RedisModule_DigestAddLongLong(md, t->dl.dtype.bits);
    for (int i = 0; i < t->dl.ndim; i++) RedisModule_DigestAddLongLong(md, t->dl.shape[i]);
    RedisModule_DigestAddStringBuffer(md, (const char *)t->dl.data, t->nbytes);
    RedisModule_DigestEndSequence(md);
}

static void tensor_free(void *value) { gorai_tensor_release(value); }

/* Tensors are immutable, so a copy is one more reference. */
static void *tensor_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    gorai_tensor_retain((gorai_tensor *)value);
    return (void *)value;
}

int gorai_create_types(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm;
    memset(&tm, 0, sizeof tm);
    tm.version = REDISMODULE_TYPE_METHOD_VERSION;
    tm.rdb_load = tensor_rdb_load;
    tm.rdb_save = tensor_rdb_save;
    tm.aof_rewrite = tensor_aof_rewrite;
    tm.mem_usage = tensor_mem_usage;
    tm.digest = tensor_digest;
    tm.free = tensor_free;
    tm.copy = tensor_copy;
    gorai_tensor_type = RedisModule_CreateDataType(ctx, "AI_TENSOR", GORAI_RDB_TENSOR_ENCVER, &tm);
    return gorai_tensor_type == NULL ? REDISMODULE_ERR : REDISMODULE_OK;
}
