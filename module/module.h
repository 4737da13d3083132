/* The module's C, which the Go library calls too (go_library.h): loading, commands, keys, replies and
 * the data types. */
#ifndef GORAI_MODULE_H
#define GORAI_MODULE_H

#include "redismodule.h"
#include "model.h"
#include "script.h"
#include "stored.h"
#include "tensor.h"

/* Loading. */
/* gorai_register_commands registers every command of command_table.h (generated from Go's table). */
int gorai_register_commands(RedisModuleCtx *ctx);
/* gorai_key_flags are Redis' key-spec flags for what a command does with a key (GORAI_KEY_*). ACL
 * reads ACCESS as a read and UPDATE as a write; RO and OW tell the rest of Redis the same. */
int gorai_key_flags(int use);
/* gorai_create_c_command registers a command that runs in C (tensor_commands.c), by name; it takes
 * between min_args and max_args arguments, its name included. */
int gorai_create_c_command(RedisModuleCtx *ctx, const char *name, const char *flags, int firstkey, int lastkey,
                           int keystep, int min_args, int max_args);
/* gorai_reply_tensor replies with t as AI.TENSORGET does in format (GORAI_FORMAT_* bits). */
void gorai_reply_tensor(RedisModuleCtx *ctx, const gorai_tensor *t, int format);
int gorai_create_types(RedisModuleCtx *ctx);
/* gorai_module_path is the module's file, as Redis loaded it. */
const char *gorai_module_path(void);
void gorai_log(RedisModuleCtx *ctx, const char *level, const char *msg);

/* A command's arguments as pointers and lengths, for code that reads them without RedisModuleStrings:
 * in the caller's frame, allocated past GORAI_STACK_ARGS. */
#define GORAI_STACK_ARGS 64
typedef struct gorai_args {
    const char **ptrs;
    size_t *lens;
    const char *stack_ptrs[GORAI_STACK_ARGS];
    size_t stack_lens[GORAI_STACK_ARGS];
} gorai_args;
void gorai_args_view(gorai_args *a, RedisModuleString **argv, int argc);
void gorai_args_release(gorai_args *a);

/* Keys. */
#define GORAI_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
/* gorai_key_takes reports whether an open key is empty or holds a value of type: whether a write of
 * that type may replace it. */
int gorai_key_takes(RedisModuleKey *k, RedisModuleType *type);
typedef struct gorai_key_lookup {
    void *value; /* the tensor or model; NULL when the key is empty or holds another type */
    int wrong_type;
} gorai_key_lookup;
gorai_key_lookup gorai_key_value(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type);
int gorai_context_flags(RedisModuleCtx *ctx);
int gorai_is_keys_request(RedisModuleCtx *ctx);
void gorai_key_at_pos(RedisModuleCtx *ctx, int pos, int flags);

/* Commands and keys from any thread (scripts' redis.execute and redisAI.model_execute): a
 * thread-safe context holding Redis' lock from gorai_locked to gorai_unlock, in database db (the one
 * the command's client had selected). The lock is taken (*took) unless this is Redis' main thread,
 * which holds it whenever module code runs there: another module's synchronous RedisAI_ScriptRun
 * runs its script's calls there. */
int gorai_on_main_thread(void);
/* gorai_release_lock releases Redis' lock taken by gorai_locked early; gorai_unlock then passes took 0. */
void gorai_release_lock(RedisModuleCtx *ctx);
RedisModuleCtx *gorai_locked(int db, int *took);
int gorai_selected_db(RedisModuleCtx *ctx);
void gorai_unlock(RedisModuleCtx *ctx, int took);
/* gorai_call runs argv[0] with the rest of argv (propagated to replicas and the AOF, as RedisAI's
 * "!"), in script mode ("S": what Lua's redis.call may not run is refused), refusing deny-oom commands
 * beyond maxmemory as Lua does ("M"), as the named user when user is not NULL ("C": the command's own
 * checks of its user apply), and, when no_writes is set, refusing write commands ("W"); NULL with errno
 * set when Redis refuses to run it (ENOSPC for "M" and "W"). */
RedisModuleCallReply *gorai_call(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int no_writes, const char *user,
                                 size_t userlen);
/* gorai_writes_paused: clients are paused (CLIENT PAUSE, FAILOVER): Redis 7.0 asserts that nothing is
 * propagated meanwhile, so a write must wait or fail. gorai_may_write says, in one call, whether a
 * command ending now may write: GORAI_WRITES_PAUSED, GORAI_WRITES_IN_CLUSTER (the keys' slot to check
 * with gorai_keys_are_here: this node serves it now, neither moved nor migrating), or 0. */
enum { GORAI_WRITES_PAUSED = 1, GORAI_WRITES_IN_CLUSTER };
int gorai_writes_paused(void);
int gorai_may_write(RedisModuleCtx *ctx);
int gorai_keys_are_here(RedisModuleCtx *ctx, RedisModuleString **keys, int n);
RedisModuleString **gorai_create_argv(RedisModuleCtx *ctx, const char **args, const size_t *lens, int n);
void gorai_free_argv(RedisModuleCtx *ctx, RedisModuleString **argv, int n);

/* ACL (acl.c): whether the named user may run argv (its arity checked), or read key; a refusal is
 * logged in ACL LOG, and for a command gives what was refused (freed by
 * the caller). The current
 * user's name is freed by the caller. */
enum { GORAI_ACL_OK = 0, GORAI_ACL_DENIED_CMD, GORAI_ACL_DENIED_KEY, GORAI_ACL_DENIED_CHANNEL };
int gorai_acl_check_command(RedisModuleCtx *ctx, const char *user, size_t userlen, RedisModuleString **argv, int argc,
                            RedisModuleString **object);
int gorai_acl_check_read(RedisModuleCtx *ctx, const char *user, size_t userlen, RedisModuleString *key);
/* gorai_acl_may_run: whether the named user may run argv, checked as Redis checks a command (one
 * selector must allow the command and its keys), logging nothing. */
int gorai_acl_may_run(const char *user, size_t userlen, RedisModuleString **argv, int argc);
/* The user running the command (freed by the caller), or NULL where Redis runs it for no user. */
RedisModuleString *gorai_current_user(RedisModuleCtx *ctx);
RedisModuleCallReply *gorai_command_info(RedisModuleCtx *ctx, const char *name, size_t len);
int gorai_reply_type(RedisModuleCallReply *r);
const char *gorai_reply_string(RedisModuleCallReply *r, size_t *len);
long long gorai_reply_integer(RedisModuleCallReply *r);
size_t gorai_reply_length(RedisModuleCallReply *r);
RedisModuleCallReply *gorai_reply_element(RedisModuleCallReply *r, size_t i);
/* gorai_reply_bytes is the bytes of r's strings, and per_value for each of its values, nested ones included:
 * walked in C, since a million elements cost a million calls from Go. */
size_t gorai_reply_bytes(RedisModuleCallReply *r, size_t per_value);
void gorai_free_reply(RedisModuleCallReply *r);

/* Blocked clients: the reply and free callbacks call Go with the job's handle. */
RedisModuleBlockedClient *gorai_block(RedisModuleCtx *ctx);
void gorai_unblock(RedisModuleBlockedClient *bc);
const char *gorai_string_ptr(RedisModuleString *s, size_t *len);
RedisModuleString *gorai_create_string(RedisModuleCtx *ctx, const char *ptr, size_t len);
void gorai_free_string(RedisModuleCtx *ctx, RedisModuleString *s);
long long gorai_config_integer(RedisModuleCtx *ctx, const char *name);
int gorai_config_set(RedisModuleCtx *ctx, const char *name, const char *value);

/* What a command does, encoded by Go into one buffer (see effects.go) and applied with one call:
 * keyspace writes, replication and the reply, in order. Integers are int64, little-endian. */
enum {
    GORAI_BYTES = 'b',               /* length, bytes: the operand of the next op */
    GORAI_KEY_ARG = 'k',             /* argv index: the key of the next op */
    GORAI_KEY_BYTES = 'K',           /* the key of the next op is in the preceding bytes */
    GORAI_SET_TENSOR = 'T',          /* tensor address: stored at the key */
    GORAI_SET_MODEL = 'M',           /* model address: stored at the key */
    GORAI_SET_SCRIPT = 'C',          /* script address: stored at the key */
    GORAI_DELETE = 'X',              /* the key is deleted */
    GORAI_REPLICATE_TENSOR = 'R',    /* tensor address: AI.TENSORSET key TYPE dims... BLOB data is replicated */
    GORAI_REPLICATE_VERBATIM = 'V',
    GORAI_REPLY_SIMPLE = 'S',        /* length, bytes, NUL */
    GORAI_REPLY_OK = 'O',            /* +OK */
    GORAI_REPLY_ARRAY = 'A',         /* length */
    GORAI_REPLY_BULK = 'B',          /* length, bytes */
    GORAI_REPLY_INT = 'I',           /* value */
    GORAI_REPLY_NULL = 'N',
    GORAI_REPLY_ERROR = 'E',         /* length, bytes, NUL */
    GORAI_REPLY_ARITY = 'W',         /* Redis' wrong-arity error */
    GORAI_REPLY_TENSOR = 'G',        /* tensor address, format: as AI.TENSORGET replies it */
    GORAI_RELEASE_TENSOR = 'U',      /* tensor address: a reference the reply held is dropped */
};
void gorai_apply(RedisModuleCtx *ctx, RedisModuleString **argv, const unsigned char *buf, size_t len);

/* Info sections. */
void gorai_info_section(RedisModuleInfoCtx *ctx, const char *name);
void gorai_info_string(RedisModuleInfoCtx *ctx, const char *field, const char *value);
void gorai_info_integer(RedisModuleInfoCtx *ctx, const char *field, long long value);

extern RedisModuleType *gorai_tensor_type;

/* A tensor as the command that recreates it, AI.TENSORSET key TYPE dims... BLOB data (for the AOF
 * and replication): the format, and the dims as strings. */
#define GORAI_TENSORSET_FORMAT "scvcb"
RedisModuleString **gorai_tensor_dims(const gorai_tensor *t);
void gorai_free_tensor_dims(const gorai_tensor *t, RedisModuleString **dims);

/* gorai_use_redis_allocator points the tensor code's allocator (tensor.h's gorai_mem) at Redis', so
 * that Redis counts tensors and either side may free the other's. Inline, so that it sets the copy of
 * the file that includes it: gorai.so's at load, and gorai_go.so's own (the tensor package's tensor.c,
 * compiled into it by cgo) at goraiInit. An int, for cgo. */
static inline int gorai_use_redis_allocator(void) {
    gorai_mem.alloc = RedisModule_Alloc;
    gorai_mem.free = RedisModule_Free;
    gorai_mem.size = RedisModule_MallocSize;
    return REDISMODULE_OK;
}

#endif
