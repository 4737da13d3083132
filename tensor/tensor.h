/* The tensor as gorai keeps it: a DLPack DLTensor header over row-major data, in memory from the module
 * allocator (Redis' allocator inside redis-server, so used_memory sees it): one block for small data,
 * the header and the data apart from 1 KiB of data up (gorai_tensor_new says why). */
#ifndef GORAI_TENSOR_H
#define GORAI_TENSOR_H

#include <dlpack/dlpack.h>
#include <stddef.h>
#include <stdint.h>

#include "memory.h"

/* RedisAI's dtype codes beyond DLPack's own (they are part of the RDB format). */
enum { GORAI_DL_BOOL = 6, GORAI_DL_STRING = 7 };

typedef struct gorai_tensor {
    DLTensor dl;       /* shape points into this block, data too when small; strides NULL (row-major); CPU */
    int64_t len;       /* number of elements: the product of the shape */
    size_t nbytes;     /* bytes at dl.data, which from 1 KiB up is a block of its own */
    uint64_t *offsets; /* STRING only: byte offset of each element in data (each NUL-terminated) */
    int64_t refcount;  /* atomic; the keyspace holds one reference, each run in flight another */
} gorai_tensor;

/* Where tensor memory comes from: malloc until the module installs Redis' allocator at load. */
typedef struct gorai_allocator {
    void *(*alloc)(size_t);
    void (*free)(void *);
    size_t (*size)(void *); /* what the allocator really gave a block: its size class */
} gorai_allocator;
extern gorai_allocator gorai_mem;


/* gorai_tensor_rank_fits says whether a tensor may have ndim dimensions: 0 to GORAI_RDB_MAX_NDIM. One of
 * more could be stored but not loaded again, nor replicated (its AI.TENSORSET is refused), so every
 * tensor made keeps the RDB loader's limit. */
int gorai_tensor_rank_fits(int64_t ndim);
/* gorai_tensor_new allocates a tensor with refcount 1 and room for nbytes of data (zeroed when zero is
 * set; the caller fills it otherwise) and, when code is GORAI_DL_STRING, for len element offsets (the
 * caller fills them). ndim may be 0 (scalar), and at most GORAI_RDB_MAX_NDIM. With shape NULL the caller
 * fills the shape. NULL when ndim is out of range, the allocator fails, or the data would not fit in the
 * memory left (gorai_memory_fits). */
gorai_tensor *gorai_tensor_new(uint8_t code, uint8_t bits, int ndim, const int64_t *shape, int64_t len,
                               size_t nbytes, int zero);
/* gorai_tensor_new_strings makes a STRING tensor of len empty strings, with room behind its header for
 * data under 1 KiB, for gorai_tensor_set_strings to fill: RedisAI's low-level API makes a tensor
 * first and gives it its data after. */
gorai_tensor *gorai_tensor_new_strings(int ndim, const int64_t *shape, int64_t len);
/* gorai_tensor_set_strings replaces a STRING tensor's data with len bytes holding exactly its number
 * of elements, each NUL-terminated: 1 on success; 0 when they do not, when data under 1 KiB does not
 * fit behind the header, or when the allocator fails. */
int gorai_tensor_set_strings(gorai_tensor *t, const char *data, size_t len);
/* gorai_tensor_index_strings sets a STRING tensor's element offsets from its data, which holds exactly
 * its number of elements, each NUL-terminated. */
void gorai_tensor_index_strings(gorai_tensor *t);
/* gorai_count_nuls is the number of NUL bytes in data: a STRING blob's element count. */
int64_t gorai_count_nuls(const char *data, size_t len);
/* gorai_bytes_are_bools reports whether every byte is 0 or 1: valid BOOL data. */
int gorai_bytes_are_bools(const char *data, size_t len);
/* gorai_tensor_double_at reads element i of a FLOAT or DOUBLE tensor; gorai_tensor_integer_at of an
 * integer or BOOL tensor. 0 for another dtype (i is the caller's to check). */
int gorai_tensor_double_at(const gorai_tensor *t, int64_t i, double *v);
int gorai_tensor_integer_at(const gorai_tensor *t, int64_t i, long long *v);
void gorai_tensor_retain(gorai_tensor *t);
void gorai_tensor_release(gorai_tensor *t);
/* gorai_tensor_free frees t whatever its count: for the holder of the last reference. */
void gorai_tensor_free(gorai_tensor *t);
/* gorai_dtype_name is the dtype's upper-case name as commands take it ("" if unknown), from the dtype
 * table of parse.c; Go's DType.Name keeps its own for Go callers, and a test keeps the two in step. */
const char *gorai_dtype_name(DLDataType dtype);
/* gorai_tensor_mem_usage is what MEMORY USAGE reports: the allocator's sizes of the header and data blocks. */
size_t gorai_tensor_mem_usage(const gorai_tensor *t);

#endif
