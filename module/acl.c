/* ACL for what scripts do: the commands a script runs through redis.execute and the models it runs
 * through redisAI.model_execute are checked against the user who ran the script (RedisAI ran them
 * with every right). Called with Redis' lock held. */
#include <errno.h>

#include "module.h"

/* The key flags ACL looks at (RedisModule_ACLCheckKeyPermissions refuses others). */
static const int acl_key_flags =
    REDISMODULE_CMD_KEY_ACCESS | REDISMODULE_CMD_KEY_INSERT | REDISMODULE_CMD_KEY_DELETE | REDISMODULE_CMD_KEY_UPDATE;

static RedisModuleUser *find_user(RedisModuleCtx *ctx, const char *name, size_t len) {
    RedisModuleString *s = RedisModule_CreateString(ctx, name, len);
    RedisModuleUser *u = RedisModule_GetModuleUserFromUserName(s);
    RedisModule_FreeString(ctx, s);
    return u;
}

/* The caller checks the arity first: Redis 7.0's ACL check does not, and reads past argv (a key or
 * channel position beyond argc). A user deleted while its script ran may run nothing. */
int gorai_acl_check_command(RedisModuleCtx *ctx, const char *user, size_t userlen, RedisModuleString **argv,
                            int argc) {
    RedisModuleUser *u = find_user(ctx, user, userlen);
    if (u == NULL) return GORAI_ACL_DENIED_CMD;
    int verdict = GORAI_ACL_OK;
    if (RedisModule_ACLCheckCommandPermissions(u, argv, argc) != REDISMODULE_OK) {
        /* Redis does not say why: a key the user may not use (as Redis reports it first), else the
         * command. */
        int nkeys = 0, *flags = NULL;
        int *keys = RedisModule_GetCommandKeysWithFlags(ctx, argv, argc, &nkeys, &flags);
        RedisModuleString *object = argv[0];
        verdict = GORAI_ACL_DENIED_CMD;
        for (int i = 0; keys != NULL && i < nkeys; i++) {
            if (RedisModule_ACLCheckKeyPermissions(u, argv[keys[i]], flags[i] & acl_key_flags) != REDISMODULE_OK) {
                verdict = GORAI_ACL_DENIED_KEY;
                object = argv[keys[i]];
                break;
            }
        }
        RedisModule_ACLAddLogEntry(ctx, u, object,
                                   verdict == GORAI_ACL_DENIED_KEY ? REDISMODULE_ACL_LOG_KEY : REDISMODULE_ACL_LOG_CMD);
        if (keys != NULL) RedisModule_Free(keys);
        if (flags != NULL) RedisModule_Free(flags);
    }
    RedisModule_FreeModuleUser(u);
    return verdict;
}

int gorai_acl_check_read(RedisModuleCtx *ctx, const char *user, size_t userlen, RedisModuleString *key) {
    RedisModuleUser *u = find_user(ctx, user, userlen);
    if (u == NULL) return GORAI_ACL_DENIED_KEY;
    int verdict = GORAI_ACL_OK;
    if (RedisModule_ACLCheckKeyPermissions(u, key, REDISMODULE_CMD_KEY_ACCESS) != REDISMODULE_OK) {
        verdict = GORAI_ACL_DENIED_KEY;
        RedisModule_ACLAddLogEntry(ctx, u, key, REDISMODULE_ACL_LOG_KEY);
    }
    RedisModule_FreeModuleUser(u);
    return verdict;
}

RedisModuleString *gorai_current_user(RedisModuleCtx *ctx) { return RedisModule_GetCurrentUserName(ctx); }

RedisModuleCallReply *gorai_command_info(RedisModuleCtx *ctx, const char *name, size_t len) {
    return RedisModule_Call(ctx, "COMMAND", "cb", "INFO", name, len);
}
