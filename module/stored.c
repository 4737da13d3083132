#include <string.h>

#include "stored.h"

char *gorai_alloc_bytes(size_t len) { return RedisModule_Alloc(len > 0 ? len : 1); }

void gorai_free_bytes(char *p) { RedisModule_Free(p); }

char *gorai_strdup(const char *s, size_t len) {
    char *d = RedisModule_Alloc(len + 1);
    if (len > 0) memcpy(d, s, len);
    d[len] = 0;
    return d;
}

char **gorai_names(uint64_t n) {
    size_t size = sizeof(char *) * (n > 0 ? n : 1);
    char **names = RedisModule_Alloc(size);
    memset(names, 0, size);
    return names;
}

void gorai_free_names(char **names, uint64_t n) {
    if (names == NULL) return;
    for (uint64_t i = 0; i < n; i++) RedisModule_Free(names[i]);
    RedisModule_Free(names);
}

char **gorai_dup_names(char *const *names, uint64_t n) {
    char **d = gorai_names(n);
    for (uint64_t i = 0; i < n; i++) d[i] = gorai_strdup(names[i], strlen(names[i]));
    return d;
}

/* gorai_digest_names adds the count first, so that names cannot slide into the next list. */
void gorai_digest_names(RedisModuleDigest *md, char *const *names, uint64_t n) {
    RedisModule_DigestAddLongLong(md, (long long)n);
    for (uint64_t i = 0; i < n; i++) RedisModule_DigestAddStringBuffer(md, names[i], strlen(names[i]));
}

char *gorai_load_string(RedisModuleIO *io, size_t *len) {
    size_t n = 0;
    char *s = RedisModule_LoadStringBuffer(io, &n);
    if (RedisModule_IsIOError(io) || s == NULL) return NULL;
    if (len) *len = n;
    return s;
}

/* gorai_load_cstring reads a string saved with its NUL (RedisAI saves names that way). One without
 * it, or with a NUL inside, is damaged: kept, it would read back other than it was written. */
char *gorai_load_cstring(RedisModuleIO *io) {
    size_t n;
    char *s = gorai_load_string(io, &n);
    if (s == NULL) return NULL;
    char *c = (n > 0 && memchr(s, 0, n) == s + n - 1) ? gorai_strdup(s, n - 1) : NULL;
    RedisModule_Free(s);
    return c;
}

/* gorai_load_names reads a count and as many names. The count is only a claim (a corrupt or hostile
 * DUMP payload can say 2^63): the array grows as names actually arrive, so what is allocated is
 * backed by bytes read, and a short payload ends in an I/O error, not an allocation failure. */
char **gorai_load_names(RedisModuleIO *io, uint64_t *n) {
    uint64_t claimed = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return NULL;
    char **names = gorai_names(0);
    uint64_t capacity = 1;
    for (*n = 0; *n < claimed; (*n)++) {
        if (*n == capacity) {
            capacity *= 2;
            names = RedisModule_Realloc(names, sizeof(char *) * capacity);
        }
        if ((names[*n] = gorai_load_cstring(io)) == NULL) {
            gorai_free_names(names, *n);
            return NULL;
        }
    }
    return names;
}

void gorai_save_cstring(RedisModuleIO *io, const char *s) { RedisModule_SaveStringBuffer(io, s, strlen(s) + 1); }

int gorai_io_loading(RedisModuleIO *io) {
    return (RedisModule_GetContextFlags(RedisModule_GetContextFromIO(io)) & REDISMODULE_CTX_FLAGS_LOADING) != 0;
}
