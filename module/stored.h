/* What stored models and scripts share: C strings and name lists in Redis' memory, and their RDB
 * encoding as RedisAI writes it (strings saved with their NUL). */
#ifndef GORAI_STORED_H
#define GORAI_STORED_H

#include <stddef.h>
#include <stdint.h>

#include "redismodule.h"

char *gorai_strdup(const char *s, size_t len);
char *gorai_alloc_bytes(size_t len); /* never NULL, even for 0 bytes; free with gorai_free_bytes */
void gorai_free_bytes(char *p);
char **gorai_names(uint64_t n); /* n NULL pointers, to fill with gorai_strdup */
void gorai_free_names(char **names, uint64_t n);
char **gorai_dup_names(char *const *names, uint64_t n);
void gorai_digest_names(RedisModuleDigest *md, char *const *names, uint64_t n);

/* Loaders return NULL on an I/O error (with REDISMODULE_OPTIONS_HANDLE_IO_ERRORS). */
char *gorai_load_string(RedisModuleIO *io, size_t *len); /* free with RedisModule_Free */
char *gorai_load_cstring(RedisModuleIO *io);
char **gorai_load_names(RedisModuleIO *io, uint64_t *n);
void gorai_save_cstring(RedisModuleIO *io, const char *s);
/* 1 when io is Redis loading an RDB file (its own or its master's), 0 for a RESTORE (a client's payload). */
int gorai_io_loading(RedisModuleIO *io);

#endif
