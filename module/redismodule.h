/* Our own declarations of the part of the Redis module API that gorai uses (Redis does not ship its
 * header in Debian). The function pointers are filled through RedisModule_GetApi at load, as the
 * official header's RedisModule_Init does. */
#ifndef GORAI_REDISMODULE_H
#define GORAI_REDISMODULE_H

#include <stddef.h>
#include <stdint.h>

#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1
#define REDISMODULE_APIVER_1 1

#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)

#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_MODULE 6

#define REDISMODULE_REPLY_STRING 0
#define REDISMODULE_REPLY_ERROR 1
#define REDISMODULE_REPLY_INTEGER 2
#define REDISMODULE_REPLY_ARRAY 3
#define REDISMODULE_REPLY_NULL 4
#define REDISMODULE_OPTIONS_HANDLE_IO_ERRORS (1 << 0)
#define REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED (1 << 1)
#define REDISMODULE_TYPE_METHOD_VERSION 3

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleIO RedisModuleIO;
typedef struct RedisModuleType RedisModuleType;
typedef struct RedisModuleDigest RedisModuleDigest;
typedef struct RedisModuleInfoCtx RedisModuleInfoCtx;
typedef struct RedisModuleCallReply RedisModuleCallReply;
typedef struct RedisModuleDefragCtx RedisModuleDefragCtx;

typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;
typedef struct RedisModuleUser RedisModuleUser;
typedef struct RedisModuleCommand RedisModuleCommand;

/* Key flags (Redis 7.0 key specs), for key positions, key specs and ACL checks. */
#define REDISMODULE_CMD_KEY_RO (1ULL << 0)
#define REDISMODULE_CMD_KEY_RW (1ULL << 1)
#define REDISMODULE_CMD_KEY_OW (1ULL << 2)
#define REDISMODULE_CMD_KEY_RM (1ULL << 3)
#define REDISMODULE_CMD_KEY_ACCESS (1ULL << 4)
#define REDISMODULE_CMD_KEY_UPDATE (1ULL << 5)
#define REDISMODULE_CMD_KEY_INSERT (1ULL << 6)
#define REDISMODULE_CMD_KEY_DELETE (1ULL << 7)

/* Command info (RedisModule_SetCommandInfo, version 1 as in Redis 7.0): only the key specs are used. */
typedef enum {
    REDISMODULE_KSPEC_BS_INVALID = 0,
    REDISMODULE_KSPEC_BS_UNKNOWN,
    REDISMODULE_KSPEC_BS_INDEX,
    REDISMODULE_KSPEC_BS_KEYWORD,
} RedisModuleKeySpecBeginSearchType;

typedef enum {
    REDISMODULE_KSPEC_FK_OMITTED = 0,
    REDISMODULE_KSPEC_FK_UNKNOWN,
    REDISMODULE_KSPEC_FK_RANGE,
    REDISMODULE_KSPEC_FK_KEYNUM,
} RedisModuleKeySpecFindKeysType;

typedef struct RedisModuleCommandKeySpec {
    const char *notes;
    uint64_t flags; /* REDISMODULE_CMD_KEY_* */
    RedisModuleKeySpecBeginSearchType begin_search_type;
    union {
        struct {
            int pos;
        } index;
        struct {
            const char *keyword;
            int startfrom;
        } keyword;
    } bs;
    RedisModuleKeySpecFindKeysType find_keys_type;
    union {
        struct {
            int lastkey;
            int keystep;
            int limit;
        } range;
        struct {
            int keynumidx;
            int firstkey;
            int keystep;
        } keynum;
    } fk;
} RedisModuleCommandKeySpec;

typedef struct RedisModuleCommandHistoryEntry {
    const char *since;
    const char *changes;
} RedisModuleCommandHistoryEntry;

typedef struct RedisModuleCommandInfoVersion {
    int version;
    size_t sizeof_historyentry;
    size_t sizeof_keyspec;
    size_t sizeof_arg;
} RedisModuleCommandInfoVersion;

typedef struct RedisModuleCommandInfo {
    const RedisModuleCommandInfoVersion *version;
    const char *summary;
    const char *complexity;
    const char *since;
    RedisModuleCommandHistoryEntry *history;
    const char *tips;
    int arity; /* 0: unchanged */
    RedisModuleCommandKeySpec *key_specs;
    void *args; /* RedisModuleCommandArg *, not used */
} RedisModuleCommandInfo;

typedef enum {
    REDISMODULE_ACL_LOG_AUTH = 0,
    REDISMODULE_ACL_LOG_CMD,
    REDISMODULE_ACL_LOG_KEY,
    REDISMODULE_ACL_LOG_CHANNEL,
} RedisModuleACLLogEntryReason;

#define REDISMODULE_CTX_FLAGS_LUA (1 << 0)
#define REDISMODULE_CTX_FLAGS_MULTI (1 << 1)
#define REDISMODULE_CTX_FLAGS_CLUSTER (1 << 5)
#define REDISMODULE_CTX_FLAGS_REPLICATED (1 << 12)
#define REDISMODULE_CTX_FLAGS_LOADING (1 << 13)
#define REDISMODULE_CTX_FLAGS_DENY_BLOCKING (1 << 21)

typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
typedef void (*RedisModuleInfoFunc)(RedisModuleInfoCtx *ctx, int for_crash_report);

#define REDISMODULE_EVENT_SHUTDOWN 5
typedef struct RedisModuleEvent {
    uint64_t id;      /* REDISMODULE_EVENT_... */
    uint64_t dataver; /* version of the data the callback gets */
} RedisModuleEvent;
typedef void (*RedisModuleEventCallback)(RedisModuleCtx *ctx, RedisModuleEvent eid, uint64_t subevent, void *data);
typedef uint64_t RedisModuleTimerID;
typedef void (*RedisModuleTimerProc)(RedisModuleCtx *ctx, void *data);

typedef struct RedisModuleTypeMethods {
    uint64_t version;
    void *(*rdb_load)(RedisModuleIO *rdb, int encver);
    void (*rdb_save)(RedisModuleIO *rdb, void *value);
    void (*aof_rewrite)(RedisModuleIO *aof, RedisModuleString *key, void *value);
    size_t (*mem_usage)(const void *value);
    void (*digest)(RedisModuleDigest *digest, void *value);
    void (*free)(void *value);
    int (*aux_load)(RedisModuleIO *rdb, int encver, int when);
    void (*aux_save)(RedisModuleIO *rdb, int when);
    int aux_save_triggers;
    size_t (*free_effort)(RedisModuleString *key, const void *value);
    void (*unlink)(RedisModuleString *key, const void *value);
    void *(*copy)(RedisModuleString *fromkey, RedisModuleString *tokey, const void *value);
    int (*defrag)(RedisModuleDefragCtx *ctx, RedisModuleString *key, void **value);
} RedisModuleTypeMethods;

/* X(return type, name without the RedisModule_ prefix, parameters) for every function used. */
#define GORAI_REDISMODULE_API(X)                                                                        \
    X(void, SetModuleAttribs, (RedisModuleCtx * ctx, const char *name, int ver, int apiver))            \
    X(int, GetSelectedDb, (RedisModuleCtx * ctx))                                                       \
    X(int, SelectDb, (RedisModuleCtx * ctx, int newid))                                                 \
    X(int, IsModuleNameBusy, (const char *name))                                                        \
    X(int, SetModuleOptions, (RedisModuleCtx * ctx, int options))                                       \
    X(int, SignalModifiedKey, (RedisModuleCtx * ctx, RedisModuleString * keyname))                      \
    X(int, CreateCommand, (RedisModuleCtx * ctx, const char *name, RedisModuleCmdFunc f,                \
                           const char *flags, int firstkey, int lastkey, int keystep))                  \
    X(RedisModuleType *, CreateDataType, (RedisModuleCtx * ctx, const char *name, int encver,           \
                                          RedisModuleTypeMethods *methods))                             \
    X(void *, Alloc, (size_t bytes))                                                                    \
    X(void *, Realloc, (void *ptr, size_t bytes))                                                       \
    X(void, Free, (void *ptr))                                                                          \
    X(size_t, MallocSize, (void *ptr))                                                                  \
    X(RedisModuleKey *, OpenKey, (RedisModuleCtx * ctx, RedisModuleString * key, int mode))                       \
    X(void, CloseKey, (RedisModuleKey * key))                                                           \
    X(int, KeyType, (RedisModuleKey * key))                                                             \
    X(RedisModuleType *, ModuleTypeGetType, (RedisModuleKey * key))                                     \
    X(void *, ModuleTypeGetValue, (RedisModuleKey * key))                                               \
    X(int, ModuleTypeSetValue, (RedisModuleKey * key, RedisModuleType * mt, void *value))               \
    X(const char *, StringPtrLen, (const RedisModuleString *str, size_t *len))                          \
    X(RedisModuleString *, CreateString, (RedisModuleCtx * ctx, const char *ptr, size_t len))           \
    X(RedisModuleString *, CreateStringFromString, (RedisModuleCtx * ctx, const RedisModuleString *str)) \
    X(RedisModuleString *, CreateStringFromLongLong, (RedisModuleCtx * ctx, long long ll))              \
    X(void, FreeString, (RedisModuleCtx * ctx, RedisModuleString * str))                                \
    X(int, WrongArity, (RedisModuleCtx * ctx))                                                          \
    X(int, ReplyWithError, (RedisModuleCtx * ctx, const char *err))                                     \
    X(int, ReplyWithSimpleString, (RedisModuleCtx * ctx, const char *msg))                              \
    X(int, ReplyWithArray, (RedisModuleCtx * ctx, long len))                                            \
    X(int, ReplyWithLongLong, (RedisModuleCtx * ctx, long long ll))                                     \
    X(int, ReplyWithDouble, (RedisModuleCtx * ctx, double d))                                           \
    X(int, ReplyWithStringBuffer, (RedisModuleCtx * ctx, const char *buf, size_t len))                  \
    X(int, ReplyWithCString, (RedisModuleCtx * ctx, const char *buf))                                   \
    X(int, ReplyWithNull, (RedisModuleCtx * ctx))                                                       \
    X(int, ReplicateVerbatim, (RedisModuleCtx * ctx))                                                   \
    X(int, Replicate, (RedisModuleCtx * ctx, const char *cmdname, const char *fmt, ...))                \
    X(int, DeleteKey, (RedisModuleKey * key))                                                           \
    X(int, GetContextFlags, (RedisModuleCtx * ctx))                                                     \
    X(int, AvoidReplicaTraffic, (void))                                                                 \
    X(int, IsKeysPositionRequest, (RedisModuleCtx * ctx))                                               \
    X(void, KeyAtPosWithFlags, (RedisModuleCtx * ctx, int pos, int flags))                              \
    X(RedisModuleCommand *, GetCommand, (RedisModuleCtx * ctx, const char *name))                       \
    X(int, SetCommandInfo, (RedisModuleCommand * command, const RedisModuleCommandInfo *info))          \
    X(RedisModuleString *, GetCurrentUserName, (RedisModuleCtx * ctx))                                  \
    X(RedisModuleUser *, GetModuleUserFromUserName, (RedisModuleString * name))                         \
    X(int, FreeModuleUser, (RedisModuleUser * user))                                                    \
    X(void, SetContextUser, (RedisModuleCtx * ctx, const RedisModuleUser *user))                        \
    X(int, ACLCheckCommandPermissions, (RedisModuleUser * user, RedisModuleString * *argv, int argc))   \
    X(int, ACLCheckKeyPermissions, (RedisModuleUser * user, RedisModuleString * key, int flags))        \
    X(int, ACLAddLogEntry, (RedisModuleCtx * ctx, RedisModuleUser * user, RedisModuleString * object,   \
                            RedisModuleACLLogEntryReason reason))                                       \
    X(RedisModuleBlockedClient *, BlockClient, (RedisModuleCtx * ctx, RedisModuleCmdFunc reply_callback, \
                                                RedisModuleCmdFunc timeout_callback,                     \
                                                void (*free_privdata)(RedisModuleCtx *, void *),         \
                                                long long timeout_ms))                                   \
    X(int, UnblockClient, (RedisModuleBlockedClient * bc, void *privdata))                              \
    X(int, BlockedClientMeasureTimeStart, (RedisModuleBlockedClient * bc))                              \
    X(int, BlockedClientMeasureTimeEnd, (RedisModuleBlockedClient * bc))                                \
    X(void, SetDisconnectCallback, (RedisModuleBlockedClient * bc,                                      \
                                    void (*callback)(RedisModuleCtx *, RedisModuleBlockedClient *)))     \
    X(void *, GetBlockedClientPrivateData, (RedisModuleCtx * ctx))                                      \
    X(const RedisModuleString *, GetKeyNameFromIO, (RedisModuleIO * io))                                \
    X(RedisModuleCtx *, GetContextFromIO, (RedisModuleIO * io))                                         \
    X(RedisModuleCallReply *, Call, (RedisModuleCtx * ctx, const char *cmd, const char *fmt, ...))      \
    X(int, CallReplyType, (RedisModuleCallReply * reply))                                               \
    X(RedisModuleCallReply *, CallReplyArrayElement, (RedisModuleCallReply * reply, size_t idx))        \
    X(const char *, CallReplyStringPtr, (RedisModuleCallReply * reply, size_t *len))                    \
    X(long long, CallReplyInteger, (RedisModuleCallReply * reply))                                      \
    X(size_t, CallReplyLength, (RedisModuleCallReply * reply))                                          \
    X(RedisModuleCtx *, GetThreadSafeContext, (RedisModuleBlockedClient * bc))                           \
    X(RedisModuleCtx *, GetDetachedThreadSafeContext, (RedisModuleCtx * ctx))                             \
    X(void, FreeThreadSafeContext, (RedisModuleCtx * ctx))                                              \
    X(void, ThreadSafeContextLock, (RedisModuleCtx * ctx))                                              \
    X(int, ThreadSafeContextTryLock, (RedisModuleCtx * ctx))                                            \
    X(void, ThreadSafeContextUnlock, (RedisModuleCtx * ctx))                                            \
    X(void, FreeCallReply, (RedisModuleCallReply * reply))                                              \
    X(void, Log, (RedisModuleCtx * ctx, const char *level, const char *fmt, ...))                       \
    X(void, LogIOError, (RedisModuleIO * io, const char *level, const char *fmt, ...))                  \
    X(void, SaveUnsigned, (RedisModuleIO * io, uint64_t value))                                         \
    X(uint64_t, LoadUnsigned, (RedisModuleIO * io))                                                     \
    X(void, SaveSigned, (RedisModuleIO * io, int64_t value))                                            \
    X(int64_t, LoadSigned, (RedisModuleIO * io))                                                        \
    X(void, SaveStringBuffer, (RedisModuleIO * io, const char *str, size_t len))                        \
    X(char *, LoadStringBuffer, (RedisModuleIO * io, size_t *lenptr))                                   \
    X(int, IsIOError, (RedisModuleIO * io))                                                             \
    X(void, EmitAOF, (RedisModuleIO * aof, const char *cmdname, const char *fmt, ...))                  \
    X(void, DigestAddStringBuffer, (RedisModuleDigest * md, const char *ele, size_t len))                \
    X(void, DigestAddLongLong, (RedisModuleDigest * md, long long ele))                                 \
    X(void, DigestEndSequence, (RedisModuleDigest * md))                                                \
    X(int, ExportSharedAPI, (RedisModuleCtx * ctx, const char *apiname, void *func))                    \
    X(void *, GetSharedAPI, (RedisModuleCtx * ctx, const char *apiname))                                \
    X(int, RegisterInfoFunc, (RedisModuleCtx * ctx, RedisModuleInfoFunc cb))                            \
    X(int, SubscribeToServerEvent, (RedisModuleCtx * ctx, RedisModuleEvent event, RedisModuleEventCallback cb)) \
    X(RedisModuleTimerID, CreateTimer, (RedisModuleCtx * ctx, long long period, RedisModuleTimerProc cb, void *data)) \
    X(int, InfoAddSection, (RedisModuleInfoCtx * ctx, const char *name))                                \
    X(int, InfoAddFieldCString, (RedisModuleInfoCtx * ctx, const char *field, const char *value))       \
    X(int, InfoAddFieldLongLong, (RedisModuleInfoCtx * ctx, const char *field, long long value))

#define GORAI_DECLARE_API(ret, name, params) extern ret(*RedisModule_##name) params;
GORAI_REDISMODULE_API(GORAI_DECLARE_API)
#undef GORAI_DECLARE_API

/* The one file of a module that defines GORAI_REDISMODULE_MAIN before including this header holds the
 * pointers, and gorai_fill_api, which fills them as the official header's RedisModule_Init does. */
#ifdef GORAI_REDISMODULE_MAIN
#define GORAI_DEFINE_API(ret, name, params) ret(*RedisModule_##name) params;
GORAI_REDISMODULE_API(GORAI_DEFINE_API)
#undef GORAI_DEFINE_API

static int gorai_fill_api(RedisModuleCtx *ctx) {
    int (*get_api)(const char *, void *) = (int (*)(const char *, void *))((void **)ctx)[0];
    int missing = 0;
#define GORAI_GET_API(ret, name, params) \
    if (get_api("RedisModule_" #name, (void *)&RedisModule_##name) != REDISMODULE_OK) missing = 1;
    GORAI_REDISMODULE_API(GORAI_GET_API)
#undef GORAI_GET_API
    return missing ? REDISMODULE_ERR : REDISMODULE_OK;
}
#endif

#endif
