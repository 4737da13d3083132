/* The tensor's RDB encoding, byte-compatible with RedisAI 1.2.7 (type AI_TENSOR, encver 0..4). It talks to the
 * RDB stream only through the reader/writer below, so it runs without Redis in unit tests and fuzzing; the module
 * wires them to RedisModule_LoadUnsigned & co. */
#ifndef GORAI_TENSOR_RDB_H
#define GORAI_TENSOR_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/* The newest encoding version: the one written, and the type's encver. */
#define GORAI_RDB_TENSOR_ENCVER 4

/* Most dimensions a loaded tensor may have. The shape has to be held before the data that would bound it is
 * read, so the rank needs a fixed limit; TensorFlow's own is 254. */
#define GORAI_RDB_MAX_NDIM 256

typedef struct gorai_rdb_reader {
    void *io;
    uint64_t (*load_unsigned)(void *io);
    int64_t (*load_signed)(void *io);
    /* The buffer is the reader's, given back with free_buffer. */
    char *(*load_string_buffer)(void *io, size_t *len);
    void (*free_buffer)(void *io, char *buf);
    /* Nonzero once any load so far hit an I/O error or a short read. */
    int (*failed)(void *io);
} gorai_rdb_reader;

typedef struct gorai_rdb_writer {
    void *io;
    void (*save_unsigned)(void *io, uint64_t);
    void (*save_signed)(void *io, int64_t);
    void (*save_string_buffer)(void *io, const char *buf, size_t len);
} gorai_rdb_writer;

/* gorai_tensor_rdb_load decodes one tensor written with encoding version encver. On anything invalid it returns
 * NULL, sets *err to a short static text, and has given back everything it took. */
gorai_tensor *gorai_tensor_rdb_load(const gorai_rdb_reader *r, int encver, const char **err);

/* gorai_tensor_rdb_save writes t in the current encoding (GORAI_RDB_TENSOR_ENCVER), as RedisAI 1.2.7 does. */
void gorai_tensor_rdb_save(const gorai_rdb_writer *w, const gorai_tensor *t);

#endif
