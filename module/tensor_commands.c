/* AI.TENSORSET and AI.TENSORGET, the data plane: a simulation sends them by the million, pipelined.
 * They run on Redis' main thread without entering Go: crossing from C into Go costs each command
 * about as much as all of GET's own work. Their grammar is tensor/parse.c, which Go's DAG parser
 * calls too; gorai_reply_tensor is also how a DAG's AI.TENSORGET replies (GORAI_REPLY_TENSOR). */
#include <stdio.h>
#include <string.h>

#include "module.h"
#include "parse.h"

static int reply_status(RedisModuleCtx *ctx, gorai_tensor_status status) {
    char text[160];
    snprintf(text, sizeof text, "ERR %s", gorai_tensor_message(status));
    return RedisModule_ReplyWithError(ctx, text);
}

/* parse_tensor runs the parser over argv[first...]; proto-max-bulk-len, which bounds a zero-filled
 * tensor and a large STRING tensor's offsets, is read only when the parser needs it. */
static gorai_tensor *parse_tensor(RedisModuleCtx *ctx, RedisModuleString **argv, int first, int argc,
                                  gorai_tensor_status *status) {
    int n = argc - first;
    gorai_args args;
    gorai_args_view(&args, argv + first, n);
    gorai_tensor *t = gorai_tensor_parse(args.ptrs, args.lens, n, -1, status);
    if (t == NULL && *status == GORAI_TENSOR_NEEDS_LIMIT) {
        long long limit = gorai_config_integer(ctx, "proto-max-bulk-len");
        t = gorai_tensor_parse(args.ptrs, args.lens, n, limit < 0 ? 0 : limit, status);
    }
    gorai_args_release(&args);
    return t;
}

static int tensorset_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
static int tensorget_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* The commands, by the names Go's command table gives them, with the argument counts it gives. */
enum { TENSORSET, TENSORGET, NUM_C_COMMANDS };
static struct {
    const char *name;
    RedisModuleCmdFunc run;
    int min_args, max_args;
} c_commands[NUM_C_COMMANDS] = {{"ai.tensorset", tensorset_command, 0, 0}, {"ai.tensorget", tensorget_command, 0, 0}};

int gorai_create_c_command(RedisModuleCtx *ctx, const char *name, const char *flags, int firstkey, int lastkey,
                           int keystep, int min_args, int max_args) {
    for (int i = 0; i < NUM_C_COMMANDS; i++) {
        if (strcmp(c_commands[i].name, name) != 0) continue;
        c_commands[i].min_args = min_args;
        c_commands[i].max_args = max_args;
        return RedisModule_CreateCommand(ctx, name, c_commands[i].run, flags, firstkey, lastkey, keystep);
    }
    return REDISMODULE_ERR;
}

static int arity_ok(int command, int argc) {
    return argc >= c_commands[command].min_args && argc <= c_commands[command].max_args;
}

/* AI.TENSORSET key type [dim ...] [BLOB data | VALUES v ...]: the key is opened for writing before
 * the arguments are parsed (a key of another type is refused first), as RedisAI does; a refused
 * command changes nothing, and does not signal the key as modified (WATCH). */
static int tensorset_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!arity_ok(TENSORSET, argc)) return RedisModule_WrongArity(ctx);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (!gorai_key_takes(key, gorai_tensor_type)) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, GORAI_ERR_WRONGTYPE);
    }
    gorai_tensor_status status;
    gorai_tensor *t = parse_tensor(ctx, argv, 2, argc, &status);
    if (t == NULL) {
        RedisModule_CloseKey(key);
        return reply_status(ctx, status);
    }
    RedisModule_ModuleTypeSetValue(key, gorai_tensor_type, t);
    RedisModule_SignalModifiedKey(ctx, argv[1]);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* AI.TENSORGET key [META] [BLOB | VALUES]: the key is read before the format. */
enum { MAX_FORMAT_ARGS = 2 }; /* the table's arity: 4 at most */
static int tensorget_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!arity_ok(TENSORGET, argc) || argc > 2 + MAX_FORMAT_ARGS) return RedisModule_WrongArity(ctx);
    gorai_key_lookup found = gorai_key_value(ctx, argv[1], gorai_tensor_type);
    if (found.wrong_type) return RedisModule_ReplyWithError(ctx, GORAI_ERR_WRONGTYPE);
    if (found.value == NULL) return RedisModule_ReplyWithError(ctx, "ERR tensor key is empty or in a different shard");
    const char *ptrs[MAX_FORMAT_ARGS];
    size_t lens[MAX_FORMAT_ARGS];
    for (int i = 2; i < argc; i++) ptrs[i - 2] = RedisModule_StringPtrLen(argv[i], &lens[i - 2]);
    int format;
    gorai_tensor_status status = gorai_tensor_parse_format(ptrs, lens, argc - 2, &format);
    if (status != GORAI_TENSOR_OK) return reply_status(ctx, status);
    gorai_reply_tensor(ctx, found.value, format);
    return REDISMODULE_OK;
}

static void reply_values(RedisModuleCtx *ctx, const gorai_tensor *t) {
    RedisModule_ReplyWithArray(ctx, t->len);
    for (int64_t i = 0; i < t->len; i++) {
        double d;
        long long v;
        if (t->dl.dtype.code == GORAI_DL_STRING)
            RedisModule_ReplyWithCString(ctx, (const char *)t->dl.data + t->offsets[i]);
        else if (gorai_tensor_double_at(t, i, &d))
            RedisModule_ReplyWithDouble(ctx, d);
        else if (gorai_tensor_integer_at(t, i, &v))
            RedisModule_ReplyWithLongLong(ctx, v);
        else
            RedisModule_ReplyWithNull(ctx); /* no dtype gorai stores: the array keeps its length */
    }
}

void gorai_reply_tensor(RedisModuleCtx *ctx, const gorai_tensor *t, int format) {
    int data = format & (GORAI_FORMAT_BLOB | GORAI_FORMAT_VALUES);
    if (format & GORAI_FORMAT_META) {
        RedisModule_ReplyWithArray(ctx, data ? 6 : 4);
        RedisModule_ReplyWithCString(ctx, "dtype");
        RedisModule_ReplyWithCString(ctx, gorai_dtype_name(t->dl.dtype));
        RedisModule_ReplyWithCString(ctx, "shape");
        RedisModule_ReplyWithArray(ctx, t->dl.ndim);
        for (int i = 0; i < t->dl.ndim; i++) RedisModule_ReplyWithLongLong(ctx, t->dl.shape[i]);
    }
    if (format & GORAI_FORMAT_BLOB) {
        if (format & GORAI_FORMAT_META) RedisModule_ReplyWithCString(ctx, "blob");
        RedisModule_ReplyWithStringBuffer(ctx, t->dl.data, t->nbytes);
    } else if (format & GORAI_FORMAT_VALUES) {
        if (format & GORAI_FORMAT_META) RedisModule_ReplyWithCString(ctx, "values");
        reply_values(ctx, t);
    }
}
