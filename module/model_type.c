/* The AI__MODEL data type (RedisAI's name, two underscores; encoding version 4). rdb_save and
 * aof_rewrite run in forked children and are plain C; rdb_load and the last release call into Go,
 * to open and close the session, in the main process. */
#include <string.h>

#include "go_library.h"
#include "model.h"
#include "stored.h"

RedisModuleType *gorai_model_type;
size_t gorai_model_chunk_size = 511 * 1024 * 1024;

const char **gorai_backend_names;
unsigned char *gorai_backend_node_names;
uint64_t gorai_backend_count;

gorai_model *gorai_model_new(void) {
    gorai_model *m = RedisModule_Alloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->refcount = 1;
    return m;
}

void gorai_model_retain(gorai_model *m) { __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED); }

/* free_model frees the C parts; the session is the caller's business. */
static void free_model(gorai_model *m) {
    RedisModule_Free(m->device);
    RedisModule_Free(m->tag);
    gorai_free_names(m->inputs, m->ninputs);
    gorai_free_names(m->outputs, m->noutputs);
    RedisModule_Free(m->blob);
    RedisModule_Free(m);
}

void gorai_model_release(gorai_model *m) {
    if (m == NULL || __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (m->session != 0) gorai_go_loaded()->goraiSessionClose(m->session);
    free_model(m);
}

/* RDB. */
/* load_blob reads the model: one buffer (encoding 0) or its length and chunks (1 and later). The
 * length and chunk count are claims checked against the chunks as they arrive; nothing is allocated
 * from them (a DUMP payload saying 2^63 bytes would make Redis abort for out of memory). */
static int load_blob(RedisModuleIO *io, int encver, gorai_model *m) {
    if (encver == 0) {
        m->blob = gorai_load_string(io, &m->bloblen);
        return m->blob != NULL;
    }
    uint64_t total = RedisModule_LoadUnsigned(io);
    uint64_t nchunks = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io) || nchunks == 0) return 0;
    for (uint64_t i = 0; i < nchunks; i++) {
        size_t n;
        char *chunk = gorai_load_string(io, &n);
        if (chunk == NULL) return 0;
        if (n > total - m->bloblen) {
            RedisModule_Free(chunk);
            return 0;
        }
        if (m->blob == NULL) {
            m->blob = chunk; /* the usual single chunk is adopted, not copied */
            m->bloblen = n;
            continue;
        }
        if (n > 0) { /* Redis' realloc to 0 bytes frees */
            m->blob = RedisModule_Realloc(m->blob, m->bloblen + n);
            memcpy(m->blob + m->bloblen, chunk, n);
            m->bloblen += n;
        }
        RedisModule_Free(chunk);
    }
    return m->bloblen == total;
}

static void *model_rdb_load(RedisModuleIO *io, int encver) {
    if (encver < 0 || encver > 4) {
        RedisModule_LogIOError(io, "warning", "AI__MODEL: encoding version %d is newer than gorai reads", encver);
        return NULL;
    }
    /* Loading a model: its backends are Go's. */
    const gorai_go_library *go = gorai_go();
    if (go == NULL) {
        RedisModule_LogIOError(io, "warning", "AI__MODEL: the Go library could not be loaded");
        return NULL;
    }
    gorai_model *m = gorai_model_new();
    int ok = 0;
    m->backend = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io) || m->backend >= gorai_backend_count || gorai_backend_names[m->backend] == NULL)
        goto done;
    if ((m->device = gorai_load_cstring(io)) == NULL) goto done;
    if (encver == 0) {
        m->tag = gorai_load_cstring(io);
        m->taglen = m->tag ? strlen(m->tag) : 0;
    } else {
        char *tag = gorai_load_string(io, &m->taglen);
        if (tag != NULL) {
            m->tag = gorai_strdup(tag, m->taglen);
            RedisModule_Free(tag);
        }
    }
    if (m->tag == NULL) goto done;
    m->batchsize = RedisModule_LoadUnsigned(io);
    m->minbatchsize = RedisModule_LoadUnsigned(io);
    if (encver >= 2) m->minbatchtimeout = RedisModule_LoadUnsigned(io);
    if ((m->inputs = gorai_load_names(io, &m->ninputs)) == NULL) goto done;
    if ((m->outputs = gorai_load_names(io, &m->noutputs)) == NULL) goto done;
    if (!load_blob(io, encver, m)) goto done;
    size_t keylen = 0;
    const RedisModuleString *key = RedisModule_GetKeyNameFromIO(io);
    const char *keyname = key ? RedisModule_StringPtrLen(key, &keylen) : "";
    ok = go->goraiModelRestore(m, (char *)keyname, keylen, gorai_io_loading(io));
done:
    if (!ok) {
        if (RedisModule_IsIOError(io) == 0) RedisModule_LogIOError(io, "warning", "AI__MODEL: could not load a model");
        free_model(m); /* no session was opened */
        return NULL;
    }
    return m;
}

static void model_rdb_save(RedisModuleIO *io, void *value) {
    gorai_model *m = value;
    RedisModule_SaveUnsigned(io, m->backend);
    gorai_save_cstring(io, m->device);
    RedisModule_SaveStringBuffer(io, m->tag, m->taglen);
    RedisModule_SaveUnsigned(io, m->batchsize);
    RedisModule_SaveUnsigned(io, m->minbatchsize);
    RedisModule_SaveUnsigned(io, m->minbatchtimeout);
    RedisModule_SaveUnsigned(io, m->ninputs);
    for (uint64_t i = 0; i < m->ninputs; i++) gorai_save_cstring(io, m->inputs[i]);
    RedisModule_SaveUnsigned(io, m->noutputs);
    for (uint64_t i = 0; i < m->noutputs; i++) gorai_save_cstring(io, m->outputs[i]);
    size_t chunk = gorai_model_chunk_size;
    uint64_t nchunks = m->bloblen / chunk + 1; /* as RedisAI: an exact multiple ends with an empty chunk */
    RedisModule_SaveUnsigned(io, m->bloblen);
    RedisModule_SaveUnsigned(io, nchunks);
    for (uint64_t i = 0; i < nchunks; i++) {
        size_t at = i * chunk, n = m->bloblen - at < chunk ? m->bloblen - at : chunk;
        RedisModule_SaveStringBuffer(io, m->blob + at, n);
    }
}

/* AOF: AI.MODELSTORE key backend device TAG t BATCHSIZE n MINBATCHSIZE m MINBATCHTIMEOUT t
 * [INPUTS n names... OUTPUTS m names...] (TF: gorai_backend_node_names) BLOB chunks...; AI.MODELSET, whose INPUTS and
 * OUTPUTS have no counts, for a model whose device only AI.MODELSET takes (MODELSTORE would refuse
 * it at replay and the model would be lost). */
static void model_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    gorai_model *m = value;
    size_t chunk = gorai_model_chunk_size;
    size_t nchunks = m->bloblen / chunk + 1;
    int tf = gorai_backend_node_names[m->backend];
    size_t nargs = 12 + (tf ? 4 + m->ninputs + m->noutputs : 0) + nchunks;
    RedisModuleString **args = RedisModule_Alloc(sizeof(*args) * nargs);
    size_t n = 0;
#define ARG(p, len) args[n++] = RedisModule_CreateString(NULL, (p), (len))
#define CARG(s) ARG((s), strlen(s))
#define NARG(v) args[n++] = RedisModule_CreateStringFromLongLong(NULL, (long long)(v))
    CARG(gorai_backend_names[m->backend]);
    CARG(m->device);
    CARG("TAG");
    ARG(m->tag, m->taglen);
    CARG("BATCHSIZE");
    NARG(m->batchsize);
    CARG("MINBATCHSIZE");
    NARG(m->minbatchsize);
    CARG("MINBATCHTIMEOUT");
    NARG(m->minbatchtimeout);
    if (tf) {
        CARG("INPUTS");
        if (!m->aof_modelset) NARG(m->ninputs);
        for (uint64_t i = 0; i < m->ninputs; i++) CARG(m->inputs[i]);
        CARG("OUTPUTS");
        if (!m->aof_modelset) NARG(m->noutputs);
        for (uint64_t i = 0; i < m->noutputs; i++) CARG(m->outputs[i]);
    }
    CARG("BLOB");
    for (size_t i = 0; i < nchunks; i++) {
        size_t at = i * chunk, len = m->bloblen - at < chunk ? m->bloblen - at : chunk;
        ARG(m->blob + at, len);
    }
#undef ARG
#undef CARG
#undef NARG
    RedisModule_EmitAOF(aof, m->aof_modelset ? "AI.MODELSET" : "AI.MODELSTORE", "sv", key, args, n);
    for (size_t i = 0; i < n; i++) RedisModule_FreeString(NULL, args[i]);
    RedisModule_Free(args);
}

static size_t model_mem_usage(const void *value) {
    const gorai_model *m = value;
    return sizeof *m + m->bloblen + m->taglen + strlen(m->device);
}

static void model_free(void *value) { gorai_model_release(value); }

/* DEBUG DIGEST-VALUE: everything that defines the model. */
static void model_digest(RedisModuleDigest *md, void *value) {
    gorai_model *m = value;
    RedisModule_DigestAddLongLong(md, (long long)m->backend);
    RedisModule_DigestAddStringBuffer(md, m->device, strlen(m->device));
    RedisModule_DigestAddStringBuffer(md, m->tag, m->taglen);
    RedisModule_DigestAddLongLong(md, (long long)m->batchsize);
    RedisModule_DigestAddLongLong(md, (long long)m->minbatchsize);
    RedisModule_DigestAddLongLong(md, (long long)m->minbatchtimeout);
    gorai_digest_names(md, m->inputs, m->ninputs);
    gorai_digest_names(md, m->outputs, m->noutputs);
    RedisModule_DigestAddStringBuffer(md, m->blob, m->bloblen);
    RedisModule_DigestEndSequence(md);
}

/* COPY makes a model of its own (its statistics live under the new key, as after a RESTORE to that
 * name) that shares the backend's loaded model with the source; the blob's bytes are copied, so that
 * each key owns what MEMORY USAGE reports. */
static void *model_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    const gorai_model *src = value;
    gorai_model *m = gorai_model_new();
    m->backend = src->backend;
    m->device = gorai_strdup(src->device, strlen(src->device));
    m->aof_modelset = src->aof_modelset;
    m->tag = gorai_strdup(src->tag, src->taglen);
    m->taglen = src->taglen;
    m->batchsize = src->batchsize;
    m->minbatchsize = src->minbatchsize;
    m->minbatchtimeout = src->minbatchtimeout;
    m->ninputs = src->ninputs;
    m->inputs = gorai_dup_names(src->inputs, src->ninputs);
    m->noutputs = src->noutputs;
    m->outputs = gorai_dup_names(src->outputs, src->noutputs);
    m->blob = gorai_alloc_bytes(src->bloblen);
    memcpy(m->blob, src->blob, src->bloblen);
    m->bloblen = src->bloblen;
    size_t keylen;
    const char *key = RedisModule_StringPtrLen(to, &keylen);
    m->session = gorai_go_loaded()->goraiSessionCopy(src->session, (char *)key, keylen);
    if (m->session == 0) { /* COPY fails: Redis replies that the type cannot be copied */
        free_model(m);
        return NULL;
    }
    return m;
}

int gorai_create_model_type(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm;
    memset(&tm, 0, sizeof tm);
    tm.version = REDISMODULE_TYPE_METHOD_VERSION;
    tm.rdb_load = model_rdb_load;
    tm.rdb_save = model_rdb_save;
    tm.aof_rewrite = model_aof_rewrite;
    tm.mem_usage = model_mem_usage;
    tm.free = model_free;
    tm.digest = model_digest;
    tm.copy = model_copy;
    gorai_model_type = RedisModule_CreateDataType(ctx, "AI__MODEL", 4, &tm);
    return gorai_model_type == NULL ? REDISMODULE_ERR : REDISMODULE_OK;
}
