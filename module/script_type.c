/* The AI_SCRIPT data type (encoding version 4). As for models: rdb_save and aof_rewrite are plain
 * C (they run in forked children); rdb_load and the last release call Go in the main process. */
#include <string.h>

#include "go_library.h"
#include "script.h"
#include "stored.h"

RedisModuleType *gorai_script_type;

gorai_script *gorai_script_new(void) {
    gorai_script *s = RedisModule_Alloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->refcount = 1;
    return s;
}

void gorai_script_retain(gorai_script *s) { __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED); }

static void free_script(gorai_script *s) {
    RedisModule_Free(s->device);
    RedisModule_Free(s->tag);
    RedisModule_Free(s->source);
    gorai_free_names(s->entry_points, s->nentry_points);
    RedisModule_Free(s);
}

void gorai_script_release(gorai_script *s) {
    if (s == NULL || __atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (s->session != 0) gorai_go_loaded()->goraiSessionClose(s->session);
    free_script(s);
}

/* RDB: device\0, tag, source\0, and from encoding 3 on the entry points (count, names\0). The tag
 * was a C string (with its NUL) in encoding 0. */
static void *script_rdb_load(RedisModuleIO *io, int encver) {
    if (encver < 0 || encver > 4) {
        RedisModule_LogIOError(io, "warning", "AI_SCRIPT: encoding version %d is newer than gorai reads", encver);
        return NULL;
    }
    /* Loading a script: TorchScript is compiled by Go's backend. */
    const gorai_go_library *go = gorai_go();
    if (go == NULL) {
        RedisModule_LogIOError(io, "warning", "AI_SCRIPT: the Go library could not be loaded");
        return NULL;
    }
    gorai_script *s = gorai_script_new();
    int ok = 0;
    if ((s->device = gorai_load_cstring(io)) == NULL) goto done;
    if (encver == 0) {
        s->tag = gorai_load_cstring(io);
        s->taglen = s->tag ? strlen(s->tag) : 0;
    } else {
        char *tag = gorai_load_string(io, &s->taglen);
        if (tag != NULL) {
            s->tag = gorai_strdup(tag, s->taglen);
            RedisModule_Free(tag);
        }
    }
    if (s->tag == NULL) goto done;
    if ((s->source = gorai_load_cstring(io)) == NULL) goto done;
    s->sourcelen = strlen(s->source);
    if (encver >= 3) {
        if ((s->entry_points = gorai_load_names(io, &s->nentry_points)) == NULL) goto done;
    }
    size_t keylen = 0;
    const RedisModuleString *key = RedisModule_GetKeyNameFromIO(io);
    const char *keyname = key ? RedisModule_StringPtrLen(key, &keylen) : "";
    ok = go->goraiScriptRestore(s, (char *)keyname, keylen, gorai_io_loading(io));
done:
    if (!ok) {
        if (RedisModule_IsIOError(io) == 0) RedisModule_LogIOError(io, "warning", "AI_SCRIPT: could not load a script");
        free_script(s); /* nothing was compiled */
        return NULL;
    }
    return s;
}

static void script_rdb_save(RedisModuleIO *io, void *value) {
    gorai_script *s = value;
    gorai_save_cstring(io, s->device);
    RedisModule_SaveStringBuffer(io, s->tag, s->taglen);
    RedisModule_SaveStringBuffer(io, s->source, s->sourcelen + 1);
    RedisModule_SaveUnsigned(io, s->nentry_points);
    for (uint64_t i = 0; i < s->nentry_points; i++) gorai_save_cstring(io, s->entry_points[i]);
}

/* AOF: AI.SCRIPTSTORE key device TAG tag ENTRY_POINTS n names... SOURCE src. A script stored with
 * AI.SCRIPTSET has no entry points, which AI.SCRIPTSTORE refuses: it is written as AI.SCRIPTSET
 * (RedisAI writes AI.SCRIPTSTORE without ENTRY_POINTS, which does not replay). */
static void script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    gorai_script *s = value;
    size_t nargs = 7 + s->nentry_points;
    RedisModuleString **args = RedisModule_Alloc(sizeof(*args) * nargs);
    size_t n = 0;
    args[n++] = RedisModule_CreateString(NULL, s->device, strlen(s->device));
    args[n++] = RedisModule_CreateString(NULL, "TAG", 3);
    args[n++] = RedisModule_CreateString(NULL, s->tag, s->taglen);
    if (s->nentry_points > 0) {
        args[n++] = RedisModule_CreateString(NULL, "ENTRY_POINTS", 12);
        args[n++] = RedisModule_CreateStringFromLongLong(NULL, (long long)s->nentry_points);
        for (uint64_t i = 0; i < s->nentry_points; i++)
            args[n++] = RedisModule_CreateString(NULL, s->entry_points[i], strlen(s->entry_points[i]));
    }
    args[n++] = RedisModule_CreateString(NULL, "SOURCE", 6);
    args[n++] = RedisModule_CreateString(NULL, s->source, s->sourcelen);
    RedisModule_EmitAOF(aof, s->nentry_points > 0 ? "AI.SCRIPTSTORE" : "AI.SCRIPTSET", "sv", key, args, n);
    for (size_t i = 0; i < n; i++) RedisModule_FreeString(NULL, args[i]);
    RedisModule_Free(args);
}

static size_t script_mem_usage(const void *value) {
    const gorai_script *s = value;
    return sizeof *s + s->sourcelen + s->taglen + strlen(s->device);
}

static void script_free(void *value) { gorai_script_release(value); }

/* DEBUG DIGEST-VALUE: everything that defines the script. */
static void script_digest(RedisModuleDigest *md, void *value) {
    gorai_script *s = value;
    RedisModule_DigestAddStringBuffer(md, s->device, strlen(s->device));
    RedisModule_DigestAddStringBuffer(md, s->tag, s->taglen);
    RedisModule_DigestAddStringBuffer(md, s->source, s->sourcelen);
    gorai_digest_names(md, s->entry_points, s->nentry_points);
    RedisModule_DigestEndSequence(md);
}

/* COPY: as for models, a script of its own (statistics under the new key) sharing the compiled
 * script with the source. */
static void *script_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    const gorai_script *src = value;
    gorai_script *s = gorai_script_new();
    s->device = gorai_strdup(src->device, strlen(src->device));
    s->tag = gorai_strdup(src->tag, src->taglen);
    s->taglen = src->taglen;
    s->source = gorai_strdup(src->source, src->sourcelen);
    s->sourcelen = src->sourcelen;
    s->nentry_points = src->nentry_points;
    s->entry_points = gorai_dup_names(src->entry_points, src->nentry_points);
    size_t keylen;
    const char *key = RedisModule_StringPtrLen(to, &keylen);
    s->session = gorai_go_loaded()->goraiSessionCopy(src->session, (char *)key, keylen);
    if (s->session == 0) { /* COPY fails: Redis replies that the type cannot be copied */
        free_script(s);
        return NULL;
    }
    return s;
}

int gorai_create_script_type(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm;
    memset(&tm, 0, sizeof tm);
    tm.version = REDISMODULE_TYPE_METHOD_VERSION;
    tm.rdb_load = script_rdb_load;
    tm.rdb_save = script_rdb_save;
    tm.aof_rewrite = script_aof_rewrite;
    tm.mem_usage = script_mem_usage;
    tm.free = script_free;
    tm.digest = script_digest;
    tm.copy = script_copy;
    gorai_script_type = RedisModule_CreateDataType(ctx, "AI_SCRIPT", 4, &tm);
    return gorai_script_type == NULL ? REDISMODULE_ERR : REDISMODULE_OK;
}
