/* The stored script: its device, tag, TorchScript source and entry points in Redis' memory (for
 * RDB, AOF and AI.SCRIPTGET), and a handle to the Go-side compiled script. */
#ifndef GORAI_SCRIPT_H
#define GORAI_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "redismodule.h"

typedef struct gorai_script {
    int64_t refcount; /* atomic; the keyspace holds one reference, each run in flight another */
    char *device;     /* NUL-terminated, as the client typed it */
    char *tag;
    size_t taglen;
    char *source;
    size_t sourcelen;
    uint64_t nentry_points;
    char **entry_points; /* none for scripts stored with AI.SCRIPTSET */
    uintptr_t session;   /* the Go session's handle; 0 when none */
} gorai_script;

gorai_script *gorai_script_new(void);
void gorai_script_retain(gorai_script *s);
void gorai_script_release(gorai_script *s);

extern RedisModuleType *gorai_script_type;
int gorai_create_script_type(RedisModuleCtx *ctx);

#endif
