/* ACL for what scripts do: the commands a script runs through redis.execute and the models it runs
 * through redisAI.model_execute are checked against the user who ran the script (RedisAI ran them
 * with every right). Called with Redis' lock held. */
#include <string.h>

#include "module.h"

/* Redis' account of a refusal, from ACL DRYRUN: "This user has no permissions to run the '<cmd>'
 * command", "... to access the '<key>' key" or "... the '<channel>' channel". */
static const struct {
    const char *prefix, *suffix;
    int verdict;
    RedisModuleACLLogEntryReason reason;
} refusals[] = {
    {"This user has no permissions to access the '", "' key", GORAI_ACL_DENIED_KEY, REDISMODULE_ACL_LOG_KEY},
    {"This user has no permissions to access the '", "' channel", GORAI_ACL_DENIED_CHANNEL, REDISMODULE_ACL_LOG_CHANNEL},
    {"This user has no permissions to run the '", "' command", GORAI_ACL_DENIED_CMD, REDISMODULE_ACL_LOG_CMD},
};

/* why_refused finds why Redis refuses argv to the user, and what (the command's full name, the key or
 * the channel) into *object. RedisModule_ACLCheckCommandPermissions says no more than "refused", and
 * RedisModule_GetCommandKeysWithFlags gives no key flags for commands with key specs in Redis 7.0, so
 * a read-only user's refused write could not be told from a refused command; ACL DRYRUN runs Redis'
 * own check (selectors, channels included) and says which. Only refusals pay for it. */
static int why_refused(RedisModuleCtx *ctx, RedisModuleString *user, RedisModuleString **argv, int argc,
                       RedisModuleString **object, RedisModuleACLLogEntryReason *reason) {
    *object = RedisModule_CreateStringFromString(ctx, argv[0]);
    *reason = REDISMODULE_ACL_LOG_CMD;
    RedisModuleCallReply *r = RedisModule_Call(ctx, "ACL", "csv", "DRYRUN", user, argv, (size_t)argc);
    if (r == NULL) return GORAI_ACL_DENIED_CMD;
    size_t n = 0;
    const char *text = RedisModule_CallReplyType(r) == REDISMODULE_REPLY_STRING ? RedisModule_CallReplyStringPtr(r, &n) : NULL;
    int verdict = GORAI_ACL_DENIED_CMD;
    for (size_t i = 0; text != NULL && i < sizeof refusals / sizeof refusals[0]; i++) {
        size_t p = strlen(refusals[i].prefix), s = strlen(refusals[i].suffix);
        if (n >= p + s && memcmp(text, refusals[i].prefix, p) == 0 && memcmp(text + n - s, refusals[i].suffix, s) == 0) {
            RedisModule_FreeString(ctx, *object);
            *object = RedisModule_CreateString(ctx, text + p, n - p - s);
            *reason = refusals[i].reason;
            verdict = refusals[i].verdict;
            break;
        }
    }
    RedisModule_FreeCallReply(r);
    return verdict;
}

/* The caller checks the arity first: Redis 7.0's ACL check does not, and reads past argv (a key or
 * channel position beyond argc). A user deleted while its script ran may run nothing. On a refusal,
 * *object is the command's full name, the key or the channel (freed by the caller). */
int gorai_acl_check_command(RedisModuleCtx *ctx, const char *name, size_t namelen, RedisModuleString **argv, int argc,
                            RedisModuleString **object) {
    *object = NULL;
    RedisModuleString *user = RedisModule_CreateString(ctx, name, namelen);
    RedisModuleUser *u = RedisModule_GetModuleUserFromUserName(user);
    int verdict = GORAI_ACL_OK;
    if (u == NULL) {
        verdict = GORAI_ACL_DENIED_CMD;
        *object = RedisModule_CreateStringFromString(ctx, argv[0]);
    } else if (RedisModule_ACLCheckCommandPermissions(u, argv, argc) != REDISMODULE_OK) {
        RedisModuleACLLogEntryReason reason;
        verdict = why_refused(ctx, user, argv, argc, object, &reason);
        RedisModule_ACLAddLogEntry(ctx, u, *object, reason);
    }
    if (u != NULL) RedisModule_FreeModuleUser(u);
    RedisModule_FreeString(ctx, user);
    return verdict;
}

int gorai_acl_check_read(RedisModuleCtx *ctx, const char *name, size_t namelen, RedisModuleString *key) {
    RedisModuleString *user = RedisModule_CreateString(ctx, name, namelen);
    RedisModuleUser *u = RedisModule_GetModuleUserFromUserName(user);
    RedisModule_FreeString(ctx, user);
    if (u == NULL) return GORAI_ACL_DENIED_KEY;
    int verdict = GORAI_ACL_OK;
    if (RedisModule_ACLCheckKeyPermissions(u, key, REDISMODULE_CMD_KEY_ACCESS) != REDISMODULE_OK) {
        verdict = GORAI_ACL_DENIED_KEY;
        RedisModule_ACLAddLogEntry(ctx, u, key, REDISMODULE_ACL_LOG_KEY);
    }
    RedisModule_FreeModuleUser(u);
    return verdict;
}

/* A command that Redis runs for no user: from its master's stream, its AOF, or a module's RedisModule_Call,
 * whose client has no user (Redis 7.0's RedisModule_GetCurrentUserName reads through NULL there). Of the
 * contexts that deny blocking, MULTI and Lua have their caller's client and user. */
static int runs_for_no_user(RedisModuleCtx *ctx) {
    int flags = RedisModule_GetContextFlags(ctx);
    if (flags & (REDISMODULE_CTX_FLAGS_REPLICATED | REDISMODULE_CTX_FLAGS_LOADING)) return 1;
    return (flags & REDISMODULE_CTX_FLAGS_DENY_BLOCKING) &&
           !(flags & (REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_LUA));
}

RedisModuleString *gorai_current_user(RedisModuleCtx *ctx) {
    return runs_for_no_user(ctx) ? NULL : RedisModule_GetCurrentUserName(ctx);
}

RedisModuleCallReply *gorai_command_info(RedisModuleCtx *ctx, const char *name, size_t len) {
    return RedisModule_Call(ctx, "COMMAND", "cb", "INFO", name, len);
}

int gorai_acl_may_run(const char *name, size_t namelen, RedisModuleString **argv, int argc) {
    RedisModuleString *user = RedisModule_CreateString(NULL, name, namelen);
    RedisModuleUser *u = RedisModule_GetModuleUserFromUserName(user);
    RedisModule_FreeString(NULL, user);
    if (u == NULL) return GORAI_ACL_DENIED_CMD;
    int verdict = RedisModule_ACLCheckCommandPermissions(u, argv, argc) == REDISMODULE_OK ? GORAI_ACL_OK : GORAI_ACL_DENIED_CMD;
    RedisModule_FreeModuleUser(u);
    return verdict;
}
