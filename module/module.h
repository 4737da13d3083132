/* The C side of the module that Go calls: loading, commands, keys, replies and the data types. */
#ifndef GORAI_MODULE_H
#define GORAI_MODULE_H

#include "redismodule.h"
#include "tensor.h"

/* Loading. */
int gorai_create_command(RedisModuleCtx *ctx, int slot, const char *name, const char *flags, int firstkey,
                         int lastkey, int keystep);
int gorai_create_types(RedisModuleCtx *ctx);
int gorai_register_info(RedisModuleCtx *ctx);
const char *gorai_module_path(void);
void gorai_log(RedisModuleCtx *ctx, const char *level, const char *msg);

/* Keys. Status: 0 done, 1 the key holds another type. */
int gorai_key_tensor(RedisModuleCtx *ctx, RedisModuleString *key, gorai_tensor **out);
int gorai_key_set_tensor(RedisModuleCtx *ctx, RedisModuleString *key, gorai_tensor *t);
const char *gorai_string_ptr(RedisModuleString *s, size_t *len);
RedisModuleString *gorai_create_string(RedisModuleCtx *ctx, const char *ptr, size_t len);
void gorai_free_string(RedisModuleCtx *ctx, RedisModuleString *s);
int gorai_replicate_verbatim(RedisModuleCtx *ctx);
long long gorai_config_integer(RedisModuleCtx *ctx, const char *name);

/* Replies. A reply is encoded by Go into one buffer (see reply.go) and sent with one call. */
enum {
    GORAI_REPLY_OK = 'O',       /* +OK */
    GORAI_REPLY_ARRAY = 'A',    /* int64 length */
    GORAI_REPLY_BULK = 'B',     /* int64 length, bytes */
    GORAI_REPLY_BULK_PTR = 'P', /* int64 address of C memory, int64 length */
    GORAI_REPLY_INT = 'I',      /* int64 */
    GORAI_REPLY_DOUBLE = 'D',   /* float64 */
    GORAI_REPLY_NULL = 'N',
    GORAI_REPLY_ERROR = 'E',   /* int64 length, bytes, NUL */
    GORAI_REPLY_ARITY = 'W',   /* Redis' wrong-arity error */
};
void gorai_reply(RedisModuleCtx *ctx, const unsigned char *buf, size_t len);

/* Info sections. */
void gorai_info_section(RedisModuleInfoCtx *ctx, const char *name);
void gorai_info_string(RedisModuleInfoCtx *ctx, const char *field, const char *value);
void gorai_info_integer(RedisModuleInfoCtx *ctx, const char *field, long long value);

extern RedisModuleType *gorai_tensor_type;

#endif
