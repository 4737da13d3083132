#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "tensor.h"
#include "tensor_rdb.h"

gorai_allocator gorai_mem = {malloc, free, malloc_usable_size};

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The header block: the struct, the shape and, for STRING, the element offsets. */
static size_t header_size(uint8_t code, int ndim, int64_t len) {
    size_t head = align16(sizeof(gorai_tensor) + sizeof(int64_t) * (size_t)ndim);
    return head + (code == GORAI_DL_STRING ? align16(sizeof(uint64_t) * (size_t)len) : 0);
}

/* Data of at least this many bytes gets a block of its own. ML payloads are usually a power of two,
 * which fills an allocator size class exactly: a header in front of it would push the block into the
 * next class (a quarter more, with jemalloc). Smaller data stays behind the header: one allocation. */
enum { SEPARATE_DATA = 1024 };

int gorai_tensor_rank_fits(int64_t ndim) { return ndim >= 0 && ndim <= GORAI_RDB_MAX_NDIM; }

gorai_tensor *gorai_tensor_new(uint8_t code, uint8_t bits, int ndim, const int64_t *shape, int64_t len,
                               size_t nbytes, int zero) {
    if (!gorai_tensor_rank_fits(ndim)) return NULL;
    size_t head = align16(sizeof(gorai_tensor) + sizeof(int64_t) * (size_t)ndim);
    size_t offs = header_size(code, ndim, len) - head;
    int separate = nbytes >= SEPARATE_DATA;
    if (!gorai_memory_fits(nbytes)) return NULL;
    char *block = gorai_mem.alloc(head + offs + (separate ? 0 : nbytes));
    if (block == NULL) return NULL;
    char *data = block + head + offs;
    if (separate && (data = gorai_mem.alloc(nbytes)) == NULL) {
        gorai_mem.free(block);
        return NULL;
    }
    gorai_tensor *t = (gorai_tensor *)block;
    memset(t, 0, sizeof(*t));
    t->dl.data = data;
    t->dl.device.device_type = kDLCPU;
    t->dl.ndim = ndim;
    t->dl.dtype.code = code;
    t->dl.dtype.bits = bits;
    t->dl.dtype.lanes = 1;
    t->dl.shape = (int64_t *)(block + sizeof(gorai_tensor));
    if (shape != NULL) memcpy(t->dl.shape, shape, sizeof(int64_t) * (size_t)ndim);
    t->len = len;
    t->nbytes = nbytes;
    t->offsets = offs ? (uint64_t *)(block + head) : NULL;
    if (t->offsets) memset(t->offsets, 0, offs);
    if (zero) memset(t->dl.data, 0, nbytes);
    t->refcount = 1;
    return t;
}

void gorai_tensor_index_strings(gorai_tensor *t) {
    const char *data = t->dl.data;
    uint64_t start = 0;
    for (int64_t i = 0; i < t->len; i++) {
        t->offsets[i] = start;
        start += (uint64_t)((const char *)memchr(data + start, '\0', t->nbytes - start) - (data + start)) + 1;
    }
}

int64_t gorai_count_nuls(const char *data, size_t len) {
    int64_t n = 0;
    for (const char *p = data, *end = data + len; p < end && (p = memchr(p, '\0', (size_t)(end - p))) != NULL; p++)
        n++;
    return n;
}

int gorai_bytes_are_bools(const char *data, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] > 1) return 0;
    return 1;
}

int gorai_tensor_double_at(const gorai_tensor *t, int64_t i, double *v) {
    if (t->dl.dtype.code != kDLFloat) return 0;
    switch (t->dl.dtype.bits) {
    case 32: *v = ((const float *)t->dl.data)[i]; return 1;
    case 64: *v = ((const double *)t->dl.data)[i]; return 1;
    }
    return 0;
}

int gorai_tensor_integer_at(const gorai_tensor *t, int64_t i, long long *v) {
    const void *d = t->dl.data;
    switch (t->dl.dtype.code) {
    case kDLInt:
        switch (t->dl.dtype.bits) {
        case 8: *v = ((const int8_t *)d)[i]; return 1;
        case 16: *v = ((const int16_t *)d)[i]; return 1;
        case 32: *v = ((const int32_t *)d)[i]; return 1;
        case 64: *v = ((const int64_t *)d)[i]; return 1;
        }
        return 0;
    case kDLUInt:
        switch (t->dl.dtype.bits) {
        case 8: *v = ((const uint8_t *)d)[i]; return 1;
        case 16: *v = ((const uint16_t *)d)[i]; return 1;
        }
        return 0;
    case GORAI_DL_BOOL:
        *v = ((const uint8_t *)d)[i];
        return 1;
    }
    return 0;
}

gorai_tensor *gorai_tensor_new_strings(int ndim, const int64_t *shape, int64_t len) {
    size_t nbytes = (size_t)len;
    gorai_tensor *t = gorai_tensor_new(GORAI_DL_STRING, 8, ndim, shape, len,
                                       nbytes < SEPARATE_DATA ? SEPARATE_DATA - 1 : nbytes, 1);
    if (t == NULL) return NULL;
    t->nbytes = nbytes; /* below SEPARATE_DATA the data stays behind the header, as the layout says */
    gorai_tensor_index_strings(t);
    return t;
}

/* The bytes a tensor's data may take behind its header: what the allocator gave the block beyond
 * the header (0 when the data has a block of its own). */
static size_t inline_room(const gorai_tensor *t) {
    if (t->nbytes >= SEPARATE_DATA) return 0;
    return gorai_mem.size((void *)t) - (size_t)((const char *)t->dl.data - (const char *)t);
}

int gorai_tensor_set_strings(gorai_tensor *t, const char *data, size_t len) {
    if (t->dl.dtype.code != GORAI_DL_STRING || len == 0 || data[len - 1] != '\0' || gorai_count_nuls(data, len) != t->len)
        return 0;
    char *dst;
    if (len >= SEPARATE_DATA) {
        if ((dst = gorai_mem.alloc(len)) == NULL) return 0;
        if (t->nbytes >= SEPARATE_DATA) gorai_mem.free(t->dl.data);
    } else if (len <= inline_room(t)) {
        dst = t->dl.data;
    } else {
        return 0;
    }
    memcpy(dst, data, len);
    t->dl.data = dst;
    t->nbytes = len;
    gorai_tensor_index_strings(t);
    return 1;
}

void gorai_tensor_retain(gorai_tensor *t) { __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED); }

void gorai_tensor_release(gorai_tensor *t) {
    if (t != NULL && __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) == 0) gorai_tensor_free(t);
}

void gorai_tensor_free(gorai_tensor *t) {
    if (t->nbytes >= SEPARATE_DATA) gorai_mem.free(t->dl.data);
    gorai_mem.free(t);
}

/* The blocks' sizes as the allocator counts them, so that MEMORY USAGE agrees with used_memory. */
size_t gorai_tensor_mem_usage(const gorai_tensor *t) {
    size_t n = gorai_mem.size((void *)t);
    return t->nbytes >= SEPARATE_DATA ? n + gorai_mem.size(t->dl.data) : n;
}
