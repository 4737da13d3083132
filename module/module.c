/* RedisModule_OnLoad and OnUnload, the command trampolines, keys and replies: the C that stands
 * between Redis and the Go handlers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GORAI_REDISMODULE_MAIN
#include "module.h"
#include "command_table.h"
#include "go_library.h"
#include "llapi.h"
#include "load_args.h"

/* The version reported to Redis is RedisAI's, the system gorai replaces. */
#define GORAI_REDISAI_VERSION 10207

/* A context of the module's own for the lines logged without one (Go's, on any thread), so that they
 * are the module's ("<ai>"), not the anonymous "<module>". */
static RedisModuleCtx *log_ctx;

/* Redis' main thread: the one that loads the module. */
static pthread_t main_thread;

/* Info. A crash report asks for it from the signal handler, maybe on a worker's thread in the middle
 * of a Go call, where the Go runtime cannot be entered (nor loaded): the report goes without gorai's
 * sections. Otherwise INFO loads the Go library, which keeps the sections. */
static void info_func(RedisModuleInfoCtx *ctx, int for_crash_report) {
    if (for_crash_report) return;
    const gorai_go_library *go = gorai_go();
    if (go != NULL) go->goraiInfo(ctx, 0);
}

static int register_info(RedisModuleCtx *ctx) { return RedisModule_RegisterInfoFunc(ctx, info_func); }

/* Shutdown: the process exits right after this event; before Go is loaded there is nothing to stop. */
static void shutdown_event(RedisModuleCtx *ctx, RedisModuleEvent eid, uint64_t subevent, void *data) {
    (void)ctx, (void)eid, (void)subevent, (void)data;
    const gorai_go_library *go = gorai_go_loaded();
    if (go != NULL) go->goraiShutdown();
}

static int subscribe_shutdown(RedisModuleCtx *ctx) {
    RedisModuleEvent shutdown = {REDISMODULE_EVENT_SHUTDOWN, 1};
    return RedisModule_SubscribeToServerEvent(ctx, shutdown, shutdown_event);
}

/* preload loads the Go library, which opens the backends whose libraries are in place
 * (PRELOAD_BACKENDS), on a thread of its own: Redis' main thread goes on serving meanwhile. */
static void *preload(void *unused) {
    (void)unused;
    const gorai_go_library *go = gorai_go();
    if (go != NULL) go->goraiStarted();
    return NULL;
}

/* Started (with PRELOAD_BACKENDS): a timer of 0 ms fires on the event loop's first turn, once the server has finished
 * starting (its threads created, the RDB or AOF loaded): opening libraries earlier would hold the
 * lock that creating a thread takes while Redis creates its own. */
static void started_timer(RedisModuleCtx *ctx, void *data) {
    (void)data;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, preload, NULL) != 0)
        RedisModule_Log(ctx, "warning", "gorai: could not start the thread that preloads the backends");
    pthread_attr_destroy(&attr);
}

/* disable_crash_memcheck turns Redis' crash-report memory test off (crash-memcheck-enabled no). The
 * test rewrites every writable mapping of the process in place, the Go runtime's heaps and stacks
 * among them, while Go's threads (GC, scheduler, workers) keep running: they fault on the patterns,
 * and the report that should explain the first crash dies half-written. Not turned off, the report
 * ends at "FAST MEMORY TEST" with no "REDIS BUG REPORT END". An operator who sets it back to yes
 * with CONFIG SET takes that risk. Done at load: Go may be loaded on any thread later. */
static void disable_crash_memcheck(RedisModuleCtx *ctx) {
    if (!gorai_config_set(ctx, "crash-memcheck-enabled", "no")) {
        RedisModule_Log(ctx, "warning", "gorai: could not set crash-memcheck-enabled to no: a crash report's memory test may crash the report");
        return;
    }
    RedisModule_Log(ctx, "notice", "gorai: crash-memcheck-enabled set to no (the crash report's memory test would run over the Go runtime's memory while it runs)");
}

static int create_everything(RedisModuleCtx *ctx, int preload_backends);

static int load(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    /* A second MODULE LOAD of this file finds this very image, the loaded module's state in it: it is
     * refused without touching that state (the refusal below freed the loaded module's log context). */
    if (RedisModule_IsModuleNameBusy != NULL && RedisModule_IsModuleNameBusy("ai")) return REDISMODULE_ERR;
    if (gorai_fill_api(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    int rc = load(ctx, argv, argc);
    /* A refused load's module is freed by Redis: so is the context that names it. */
    if (rc != REDISMODULE_OK && log_ctx != NULL) {
        RedisModule_FreeThreadSafeContext(log_ctx);
        log_ctx = NULL;
    }
    return rc;
}

static int load(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_IsModuleNameBusy("ai")) return REDISMODULE_ERR;
    RedisModule_SetModuleAttribs(ctx, "ai", GORAI_REDISAI_VERSION, REDISMODULE_APIVER_1);
    /* Keys are signalled as modified (WATCH) where gorai writes them, not wherever one is opened
     * for writing: a refused command must not abort another client's transaction. */
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS | REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED);
    gorai_use_redis_allocator();
    log_ctx = RedisModule_GetDetachedThreadSafeContext(ctx);
    gorai_args view;
    gorai_args_view(&view, argv, argc);
    gorai_settings settings;
    int bad = gorai_parse_load_args(view.ptrs, view.lens, argc, &settings);
    if (bad >= 0) {
        char msg[256];
        gorai_load_args_error(msg, sizeof msg, view.ptrs, view.lens, argc, bad);
        RedisModule_Log(ctx, "warning", "%s", msg);
    }
    gorai_args_release(&view);
    if (bad >= 0 || gorai_go_prepare(ctx, argv, argc) != REDISMODULE_OK) return REDISMODULE_ERR;
    gorai_model_chunk_size = (size_t)settings.model_chunk_size;
    /* A backend named in the arguments is opened now, as RedisAI does, which needs Go; Go also
     * tells whether the name is a backend's. */
    if (settings.other_keys > 0 && gorai_go() == NULL) return REDISMODULE_ERR;
    return create_everything(ctx, settings.preload_backends);
}

/* create_everything gives Redis the module's data types, commands, low-level API, INFO sections
 * and event handlers (the start's, for PRELOAD_BACKENDS). */
static int create_everything(RedisModuleCtx *ctx, int preload_backends) {
    main_thread = pthread_self();
    if (gorai_create_types(ctx) != REDISMODULE_OK || gorai_create_model_type(ctx) != REDISMODULE_OK ||
        gorai_create_script_type(ctx) != REDISMODULE_OK) {
        RedisModule_Log(ctx, "warning", "gorai: could not create the data types");
        return REDISMODULE_ERR;
    }
    if (gorai_register_commands(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    if (gorai_llapi_register(ctx) != REDISMODULE_OK) {
        RedisModule_Log(ctx, "warning", "gorai: could not export the low-level API (RedisAI_*) to other modules");
        return REDISMODULE_ERR;
    }
    if (register_info(ctx) != REDISMODULE_OK || subscribe_shutdown(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    disable_crash_memcheck(ctx);
    if (preload_backends) RedisModule_CreateTimer(ctx, 0, started_timer, NULL);
    return REDISMODULE_OK;
}

/* The Go runtime, once loaded, cannot be unloaded from a process. */
int RedisModule_OnUnload(RedisModuleCtx *ctx) {
    (void)ctx;
    return REDISMODULE_ERR;
}

const char *gorai_module_path(void) {
    static Dl_info info;
    if (dladdr((void *)gorai_module_path, &info) == 0 || info.dli_fname == NULL) return "";
    return info.dli_fname;
}

void gorai_log(RedisModuleCtx *ctx, const char *level, const char *msg) {
    RedisModule_Log(ctx != NULL ? ctx : log_ctx, level, "%s", msg);
}

/* Commands: Redis passes no user data to a command function, so each command gets a slot whose
 * trampoline tells Go which command it is. argv's pointers and lengths are gathered here so that Go
 * reads them without a call per argument. */
#define GORAI_MAX_COMMANDS 32
/* Go writes a command's effects program into this much of the trampoline's stack, which the
 * trampoline applies once Go has returned; a longer program Go applies itself. */
#define GORAI_PROGRAM_STACK 4096

void gorai_args_view(gorai_args *a, RedisModuleString **argv, int argc) {
    a->ptrs = a->stack_ptrs;
    a->lens = a->stack_lens;
    if (argc > GORAI_STACK_ARGS) {
        a->ptrs = RedisModule_Alloc(sizeof(*a->ptrs) * (size_t)argc);
        a->lens = RedisModule_Alloc(sizeof(*a->lens) * (size_t)argc);
    }
    for (int i = 0; i < argc; i++) a->ptrs[i] = RedisModule_StringPtrLen(argv[i], &a->lens[i]);
}

void gorai_args_release(gorai_args *a) {
    if (a->ptrs == a->stack_ptrs) return;
    RedisModule_Free(a->ptrs);
    RedisModule_Free(a->lens);
}

static int run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int slot) {
    const gorai_go_library *go = gorai_go();
    if (go == NULL) return RedisModule_ReplyWithError(ctx, GORAI_ERR_NO_GO_LIBRARY);
    gorai_args args;
    gorai_args_view(&args, argv, argc);
    unsigned char program[GORAI_PROGRAM_STACK];
    size_t n = go->goraiCommand(ctx, argv, (char **)args.ptrs, args.lens, argc, slot, program, sizeof program);
    if (n > 0) gorai_apply(ctx, argv, program, n);
    gorai_args_release(&args);
    return REDISMODULE_OK;
}

#define GORAI_SLOT(n) \
    static int gorai_slot_##n(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { \
        return run_command(ctx, argv, argc, n);                                           \
    }
#define GORAI_SLOTS(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
    X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
GORAI_SLOTS(GORAI_SLOT)
#define GORAI_SLOT_REF(n) gorai_slot_##n,
static RedisModuleCmdFunc slots[GORAI_MAX_COMMANDS] = {GORAI_SLOTS(GORAI_SLOT_REF)};

_Static_assert(GORAI_NUM_COMMANDS <= GORAI_MAX_COMMANDS, "more commands than trampolines");

int gorai_key_flags(int use) {
    switch (use) {
    case GORAI_KEY_READ:
        return REDISMODULE_CMD_KEY_RO | REDISMODULE_CMD_KEY_ACCESS;
    case GORAI_KEY_WRITE:
        return REDISMODULE_CMD_KEY_OW | REDISMODULE_CMD_KEY_UPDATE;
    case GORAI_KEY_ROUTE:
        return REDISMODULE_CMD_KEY_RO;
    case GORAI_KEY_DELETE:
        return REDISMODULE_CMD_KEY_RM | REDISMODULE_CMD_KEY_DELETE;
    }
    return 0;
}

/* set_key_spec gives a command whose one key is argv[1] a key spec with flags (REDISMODULE_CMD_KEY_*). */
static int set_key_spec(RedisModuleCtx *ctx, const char *name, int flags) {
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, name);
    if (cmd == NULL) return REDISMODULE_ERR;
    static const RedisModuleCommandInfoVersion version = {
        .version = 1,
        .sizeof_historyentry = sizeof(RedisModuleCommandHistoryEntry),
        .sizeof_keyspec = sizeof(RedisModuleCommandKeySpec),
        .sizeof_arg = 0, /* no arguments are described */
    };
    RedisModuleCommandKeySpec specs[2] = {0}; /* a zeroed spec ends the list */
    specs[0].flags = (uint64_t)flags;
    specs[0].begin_search_type = REDISMODULE_KSPEC_BS_INDEX;
    specs[0].bs.index.pos = 1;
    specs[0].find_keys_type = REDISMODULE_KSPEC_FK_RANGE;
    specs[0].fk.range.lastkey = 0;
    specs[0].fk.range.keystep = 1;
    RedisModuleCommandInfo info = {.version = &version, .key_specs = specs};
    return RedisModule_SetCommandInfo(cmd, &info);
}

static int register_command(RedisModuleCtx *ctx, int slot, const char *name, const char *flags, int firstkey,
                            int lastkey, int keystep, int use, int in_c, int min_args, int max_args) {
    int rc = in_c ? gorai_create_c_command(ctx, name, flags, firstkey, lastkey, keystep, min_args, max_args)
                  : RedisModule_CreateCommand(ctx, name, slots[slot], flags, firstkey, lastkey, keystep);
    if (rc == REDISMODULE_OK && use != GORAI_KEY_NONE) rc = set_key_spec(ctx, name, gorai_key_flags(use));
    if (rc != REDISMODULE_OK) RedisModule_Log(ctx, "warning", "gorai: could not register %s", name);
    return rc;
}

int gorai_register_commands(RedisModuleCtx *ctx) {
#define GORAI_REGISTER(slot, name, flags, firstkey, lastkey, keystep, use, in_c, min_args, max_args)                \
    if (register_command(ctx, slot, name, flags, firstkey, lastkey, keystep, use, in_c, min_args, max_args) != \
        REDISMODULE_OK)                                                                                          \
        return REDISMODULE_ERR;
    GORAI_COMMAND_TABLE(GORAI_REGISTER)
    return REDISMODULE_OK;
}

/* Keys. */
gorai_key_lookup gorai_key_value(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type) {
    gorai_key_lookup r = {NULL, 0};
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ);
    if (k == NULL) return r;
    int kt = RedisModule_KeyType(k);
    if (kt == REDISMODULE_KEYTYPE_MODULE && RedisModule_ModuleTypeGetType(k) == type)
        r.value = RedisModule_ModuleTypeGetValue(k);
    else if (kt != REDISMODULE_KEYTYPE_EMPTY)
        r.wrong_type = 1;
    RedisModule_CloseKey(k);
    return r;
}

/* set_value stores value at key unless the key holds another type (which commands check first;
 * then the value is released). */
int gorai_key_takes(RedisModuleKey *k, RedisModuleType *type) {
    int kt = RedisModule_KeyType(k);
    return kt == REDISMODULE_KEYTYPE_EMPTY || (kt == REDISMODULE_KEYTYPE_MODULE && RedisModule_ModuleTypeGetType(k) == type);
}

static void set_value(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type, void *value) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ | REDISMODULE_WRITE);
    if (gorai_key_takes(k, type)) {
        RedisModule_ModuleTypeSetValue(k, type, value);
        RedisModule_SignalModifiedKey(ctx, key);
    } else if (type == gorai_tensor_type)
        gorai_tensor_release(value);
    else if (type == gorai_model_type)
        gorai_model_release(value);
    else
        gorai_script_release(value);
    RedisModule_CloseKey(k);
}

static void delete_key(RedisModuleCtx *ctx, RedisModuleString *key) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_DeleteKey(k) == REDISMODULE_OK) RedisModule_SignalModifiedKey(ctx, key);
    RedisModule_CloseKey(k);
}

/* replicate_tensor sends AI.TENSORSET key TYPE dims... BLOB data to replicas and the AOF. */
static void replicate_tensor(RedisModuleCtx *ctx, RedisModuleString *key, gorai_tensor *t) {
    RedisModuleString **dims = gorai_tensor_dims(t);
    RedisModule_Replicate(ctx, "AI.TENSORSET", GORAI_TENSORSET_FORMAT, key, gorai_dtype_name(t->dl.dtype), dims,
                          (size_t)t->dl.ndim, "BLOB", (const char *)t->dl.data, t->nbytes);
    gorai_free_tensor_dims(t, dims);
}

int gorai_context_flags(RedisModuleCtx *ctx) { return RedisModule_GetContextFlags(ctx); }
int gorai_is_keys_request(RedisModuleCtx *ctx) { return RedisModule_IsKeysPositionRequest(ctx); }
void gorai_key_at_pos(RedisModuleCtx *ctx, int pos, int flags) { RedisModule_KeyAtPosWithFlags(ctx, pos, flags); }

/* Other threads. */
int gorai_on_main_thread(void) { return pthread_equal(pthread_self(), main_thread); }

RedisModuleCtx *gorai_locked(int db, int *took) {
    RedisModuleCtx *ctx = RedisModule_GetThreadSafeContext(NULL);
    *took = !gorai_on_main_thread();
    if (*took) RedisModule_ThreadSafeContextLock(ctx);
    RedisModule_SelectDb(ctx, db);
    return ctx;
}

int gorai_selected_db(RedisModuleCtx *ctx) { return RedisModule_GetSelectedDb(ctx); }

void gorai_unlock(RedisModuleCtx *ctx, int took) {
    if (took) RedisModule_ThreadSafeContextUnlock(ctx);
    RedisModule_FreeThreadSafeContext(ctx);
}

void gorai_release_lock(RedisModuleCtx *ctx) { RedisModule_ThreadSafeContextUnlock(ctx); }

RedisModuleString **gorai_create_argv(RedisModuleCtx *ctx, const char **args, const size_t *lens, int n) {
    RedisModuleString **argv = RedisModule_Alloc(sizeof(*argv) * (size_t)n);
    for (int i = 0; i < n; i++) argv[i] = RedisModule_CreateString(ctx, args[i], lens[i]);
    return argv;
}

void gorai_free_argv(RedisModuleCtx *ctx, RedisModuleString **argv, int n) {
    for (int i = 0; i < n; i++) RedisModule_FreeString(ctx, argv[i]);
    RedisModule_Free(argv);
}

RedisModuleCallReply *gorai_call(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int no_writes, const char *user,
                                 size_t userlen) {
    const char *cmd = RedisModule_StringPtrLen(argv[0], NULL);
    if (user == NULL) return RedisModule_Call(ctx, cmd, no_writes ? "!vSMW" : "!vSM", argv + 1, (size_t)(argc - 1));
    /* Run as the user, so that a command's own checks of its user apply too (SORT's BY and GET
     * patterns, which it checks against the client's user: a call with none read any key). */
    RedisModuleString *name = RedisModule_CreateString(ctx, user, userlen);
    RedisModuleUser *u = RedisModule_GetModuleUserFromUserName(name);
    RedisModule_FreeString(ctx, name);
    if (u == NULL) {
        errno = EACCES;
        return NULL;
    }
    RedisModule_SetContextUser(ctx, u);
    RedisModuleCallReply *r = RedisModule_Call(ctx, cmd, no_writes ? "!vSMWC" : "!vSMC", argv + 1, (size_t)(argc - 1));
    int saved = errno;
    RedisModule_SetContextUser(ctx, NULL);
    RedisModule_FreeModuleUser(u);
    errno = saved;
    return r;
}

int gorai_writes_paused(void) { return RedisModule_AvoidReplicaTraffic(); }

int gorai_may_write(RedisModuleCtx *ctx) {
    if (RedisModule_AvoidReplicaTraffic()) return GORAI_WRITES_PAUSED;
    return RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_CLUSTER ? GORAI_WRITES_IN_CLUSTER : 0;
}

int gorai_keys_are_here(RedisModuleCtx *ctx, RedisModuleString **keys, int n) {
    /* RM_Call refuses a command on keys this node would redirect, as Redis routes a client's (EPERM; EROFS
     * or ENETDOWN when the cluster is down): one EXISTS of them all. Another refusal cannot tell (ENOENT:
     * EXISTS renamed, as hardened servers do): the keys are taken to be here, as RedisAI writes unasked. */
    RedisModuleCallReply *r = RedisModule_Call(ctx, "EXISTS", "v", keys, (size_t)n);
    if (r != NULL) {
        RedisModule_FreeCallReply(r);
        return 1;
    }
    return errno != EPERM && errno != EROFS && errno != ENETDOWN;
}

int gorai_reply_type(RedisModuleCallReply *r) { return RedisModule_CallReplyType(r); }
const char *gorai_reply_string(RedisModuleCallReply *r, size_t *len) { return RedisModule_CallReplyStringPtr(r, len); }
long long gorai_reply_integer(RedisModuleCallReply *r) { return RedisModule_CallReplyInteger(r); }
size_t gorai_reply_length(RedisModuleCallReply *r) { return RedisModule_CallReplyLength(r); }
RedisModuleCallReply *gorai_reply_element(RedisModuleCallReply *r, size_t i) { return RedisModule_CallReplyArrayElement(r, i); }
void gorai_free_reply(RedisModuleCallReply *r) { RedisModule_FreeCallReply(r); }

size_t gorai_reply_bytes(RedisModuleCallReply *r, size_t per_value) {
    size_t n = per_value, len = 0;
    switch (RedisModule_CallReplyType(r)) {
    case REDISMODULE_REPLY_STRING:
    case REDISMODULE_REPLY_ERROR:
        RedisModule_CallReplyStringPtr(r, &len);
        return n + len;
    case REDISMODULE_REPLY_ARRAY:
        len = RedisModule_CallReplyLength(r);
        for (size_t i = 0; i < len; i++) n += gorai_reply_bytes(RedisModule_CallReplyArrayElement(r, i), per_value);
        return n;
    }
    return n;
}

/* Blocked clients. */
/* A blocked client's private data is its own handle, by which Go finds its work.
 * replied is the one blocked_reply has replied to, and goraiJobReply freed: Redis calls
 * blocked_free for it right after, on the main thread, which then has nothing left to do. */
static RedisModuleBlockedClient *replied;

static int blocked_reply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    unsigned char program[GORAI_PROGRAM_STACK];
    RedisModuleBlockedClient *bc = RedisModule_GetBlockedClientPrivateData(ctx);
    size_t n = gorai_go_loaded()->goraiJobReply(ctx, bc, program, sizeof program);
    replied = bc;
    if (n > 0) gorai_apply(ctx, NULL, program, n);
    return REDISMODULE_OK;
}

static void blocked_free(RedisModuleCtx *ctx, void *bc) {
    (void)ctx;
    if (bc == replied) {
        replied = NULL;
        return;
    }
    gorai_go_loaded()->goraiJobFree(bc);
}

static void blocked_disconnected(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc) {
    (void)ctx;
    gorai_go_loaded()->goraiJobDisconnected(bc);
}

/* The time from the block to the unblock (the run's queue wait and run, or the build) counts as the command's
 * own in INFO commandstats and SLOWLOG, as RedisAI counts its runs' (whose own tests compare SLOWLOG with
 * AI.INFO's run time). */
RedisModuleBlockedClient *gorai_block(RedisModuleCtx *ctx) {
    RedisModuleBlockedClient *bc = RedisModule_BlockClient(ctx, blocked_reply, NULL, blocked_free, 0);
    if (bc != NULL) {
        RedisModule_SetDisconnectCallback(bc, blocked_disconnected);
        RedisModule_BlockedClientMeasureTimeStart(bc);
    }
    return bc;
}

void gorai_unblock(RedisModuleBlockedClient *bc) {
    RedisModule_BlockedClientMeasureTimeEnd(bc);
    RedisModule_UnblockClient(bc, bc);
}

const char *gorai_string_ptr(RedisModuleString *s, size_t *len) { return RedisModule_StringPtrLen(s, len); }

RedisModuleString *gorai_create_string(RedisModuleCtx *ctx, const char *ptr, size_t len) {
    return RedisModule_CreateString(ctx, ptr, len);
}

void gorai_free_string(RedisModuleCtx *ctx, RedisModuleString *s) { RedisModule_FreeString(ctx, s); }

/* gorai_config_integer reads an integer server setting through CONFIG GET; -1 when unavailable. */
long long gorai_config_integer(RedisModuleCtx *ctx, const char *name) {
    RedisModuleCallReply *r = RedisModule_Call(ctx, "CONFIG", "cc", "GET", name);
    long long value = -1;
    if (r != NULL && RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ARRAY) {
        RedisModuleCallReply *v = RedisModule_CallReplyArrayElement(r, 1);
        size_t len;
        const char *s = v ? RedisModule_CallReplyStringPtr(v, &len) : NULL;
        if (s != NULL && len < 32) {
            char buf[32];
            memcpy(buf, s, len);
            buf[len] = 0;
            value = strtoll(buf, NULL, 10);
        }
    }
    if (r != NULL) RedisModule_FreeCallReply(r);
    return value;
}

/* gorai_config_set sets a server setting through CONFIG SET: 0 when refused. */
int gorai_config_set(RedisModuleCtx *ctx, const char *name, const char *value) {
    RedisModuleCallReply *r = RedisModule_Call(ctx, "CONFIG", "ccc", "SET", name, value);
    int ok = r != NULL && RedisModule_CallReplyType(r) != REDISMODULE_REPLY_ERROR;
    if (r != NULL) RedisModule_FreeCallReply(r);
    return ok;
}

/* Effects. */
static int64_t read_i64(const unsigned char **p) {
    int64_t v;
    memcpy(&v, *p, sizeof v);
    *p += sizeof v;
    return v;
}

void gorai_apply(RedisModuleCtx *ctx, RedisModuleString **argv, const unsigned char *buf, size_t len) {
    const unsigned char *p = buf, *end = buf + len;
    const char *bytes = NULL;
    size_t nbytes = 0;
    RedisModuleString *key = NULL, *created = NULL;
    while (p < end) {
        unsigned char op = *p++;
        switch (op) {
        case GORAI_BYTES:
            nbytes = (size_t)read_i64(&p);
            bytes = (const char *)p;
            p += nbytes;
            break;
        case GORAI_KEY_ARG:
            if (created != NULL) RedisModule_FreeString(ctx, created);
            created = NULL;
            key = argv[read_i64(&p)];
            break;
        case GORAI_KEY_BYTES:
            if (created != NULL) RedisModule_FreeString(ctx, created);
            key = created = RedisModule_CreateString(ctx, bytes, nbytes);
            break;
        case GORAI_SET_TENSOR:
            set_value(ctx, key, gorai_tensor_type, (void *)(uintptr_t)read_i64(&p));
            break;
        case GORAI_SET_MODEL:
            set_value(ctx, key, gorai_model_type, (void *)(uintptr_t)read_i64(&p));
            break;
        case GORAI_SET_SCRIPT:
            set_value(ctx, key, gorai_script_type, (void *)(uintptr_t)read_i64(&p));
            break;
        case GORAI_DELETE:
            delete_key(ctx, key);
            break;
        case GORAI_REPLICATE_TENSOR:
            replicate_tensor(ctx, key, (gorai_tensor *)(uintptr_t)read_i64(&p));
            break;
        case GORAI_REPLICATE_VERBATIM:
            RedisModule_ReplicateVerbatim(ctx);
            break;
        case GORAI_REPLY_OK:
            RedisModule_ReplyWithSimpleString(ctx, "OK");
            break;
        case GORAI_REPLY_ARRAY:
            RedisModule_ReplyWithArray(ctx, (long)read_i64(&p));
            break;
        case GORAI_REPLY_BULK: {
            size_t n = (size_t)read_i64(&p);
            RedisModule_ReplyWithStringBuffer(ctx, (const char *)p, n);
            p += n;
            break;
        }
        case GORAI_REPLY_TENSOR: {
            const gorai_tensor *t = (const gorai_tensor *)(uintptr_t)read_i64(&p);
            gorai_reply_tensor(ctx, t, (int)read_i64(&p));
            break;
        }
        case GORAI_REPLY_INT:
            RedisModule_ReplyWithLongLong(ctx, read_i64(&p));
            break;
        case GORAI_REPLY_NULL:
            RedisModule_ReplyWithNull(ctx);
            break;
        case GORAI_REPLY_ERROR: {
            size_t n = (size_t)read_i64(&p);
            RedisModule_ReplyWithError(ctx, (const char *)p);
            p += n + 1;
            break;
        }
        case GORAI_REPLY_SIMPLE: {
            size_t n = (size_t)read_i64(&p);
            RedisModule_ReplyWithSimpleString(ctx, (const char *)p);
            p += n + 1;
            break;
        }
        case GORAI_REPLY_ARITY:
            RedisModule_WrongArity(ctx);
            break;
        case GORAI_RELEASE_TENSOR:
            gorai_tensor_release((gorai_tensor *)(uintptr_t)read_i64(&p));
            break;
        default:
            p = end; /* cannot happen: Go writes the buffer */
        }
    }
    if (created != NULL) RedisModule_FreeString(ctx, created);
}

void gorai_info_section(RedisModuleInfoCtx *ctx, const char *name) { RedisModule_InfoAddSection(ctx, name); }
void gorai_info_string(RedisModuleInfoCtx *ctx, const char *field, const char *value) {
    RedisModule_InfoAddFieldCString(ctx, field, value);
}
void gorai_info_integer(RedisModuleInfoCtx *ctx, const char *field, long long value) {
    RedisModule_InfoAddFieldLongLong(ctx, field, value);
}
