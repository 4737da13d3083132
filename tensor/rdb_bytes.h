/* Redis' framing of a module value (the bytes after the module id in a DUMP payload, up to and including the
 * module EOF opcode) over a plain byte buffer, so the tensor codec can be tested and fuzzed without Redis. The
 * module itself never uses this: Redis does the framing there. */
#ifndef GORAI_RDB_BYTES_H
#define GORAI_RDB_BYTES_H

#include <stddef.h>

#include "tensor_rdb.h"

typedef struct gorai_rdb_bytes_in {
    const unsigned char *buf;
    size_t len, pos;
    int failed;
} gorai_rdb_bytes_in;

typedef struct gorai_rdb_bytes_out {
    unsigned char *buf; /* malloc'd; the caller frees it */
    size_t len, cap;
    int failed; /* an allocation failed and output was dropped */
} gorai_rdb_bytes_out;

/* Readers and writers over in/out, reading and writing what Redis' RedisModule_Load / Save functions do. */
gorai_rdb_reader gorai_rdb_bytes_reader(gorai_rdb_bytes_in *in);
gorai_rdb_writer gorai_rdb_bytes_writer(gorai_rdb_bytes_out *out);

/* gorai_rdb_bytes_load decodes a whole module value: a tensor followed by the EOF opcode and nothing else. */
gorai_tensor *gorai_rdb_bytes_load(const unsigned char *buf, size_t len, int encver, const char **err);
/* gorai_rdb_bytes_save encodes t and the EOF opcode; 0 when memory ran out (out is freed then). */
int gorai_rdb_bytes_save(const gorai_tensor *t, gorai_rdb_bytes_out *out);

#endif
