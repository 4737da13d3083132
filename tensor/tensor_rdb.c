#include <string.h>

#include "tensor_rdb.h"

static const char ERR_VERSION[] = "unsupported tensor encoding version";
static const char ERR_SHORT_READ[] = "short read or I/O error while loading a tensor";
static const char ERR_DTYPE[] = "invalid tensor data type";
static const char ERR_DEVICE[] = "tensor is not on the CPU";
static const char ERR_LANES[] = "tensor data type has lanes other than 1";
static const char ERR_RANK[] = "tensor rank out of range";
static const char ERR_SHAPE[] = "invalid tensor shape";
static const char ERR_STRIDES[] = "tensor strides are not row-major contiguous";
static const char ERR_BYTE_OFFSET[] = "tensor byte offset is not zero";
static const char ERR_DATA_LEN[] = "tensor data length does not match its shape and type";
static const char ERR_BOOL[] = "BOOL tensor elements must be 0 or 1";
static const char ERR_STRINGS[] = "STRING tensor data does not split into its elements at their offsets";
static const char ERR_NOMEM[] = "out of memory loading a tensor";

/* What precedes the data in every encoding, checked: a valid dtype and a shape whose element count fits. */
typedef struct tensor_header {
    uint8_t code, bits;
    int ndim;
    int64_t shape[GORAI_RDB_MAX_NDIM];
    int64_t len;
} tensor_header;

static int fail(const char **err, const char *why) {
    *err = why;
    return 0;
}

/* dtype_valid accepts exactly RedisAI's dtypes; it takes the raw stream values so nothing is truncated before
 * the check. */
static int dtype_valid(uint64_t code, uint64_t bits) {
    switch (code) {
    case kDLInt: return bits == 8 || bits == 16 || bits == 32 || bits == 64;
    case kDLUInt: return bits == 8 || bits == 16;
    case kDLFloat: return bits == 32 || bits == 64;
    case GORAI_DL_BOOL:
    case GORAI_DL_STRING: return bits == 8;
    default: return 0;
    }
}

/* shape_valid sets h->len. Every dim must be positive and their product must fit, as AI.TENSORSET requires: a
 * tensor is written back to the AOF as AI.TENSORSET, so one that command refuses would be lost there. */
static int shape_valid(tensor_header *h) {
    int64_t len = 1;
    for (int i = 0; i < h->ndim; i++)
        if (h->shape[i] <= 0 || __builtin_mul_overflow(len, h->shape[i], &len)) return 0;
    h->len = len;
    return 1;
}

/* v4: code, bits, signed ndim, signed dims. */
static int load_header_v4(const gorai_rdb_reader *r, tensor_header *h, const char **err) {
    uint64_t code = r->load_unsigned(r->io);
    uint64_t bits = r->load_unsigned(r->io);
    int64_t ndim = r->load_signed(r->io);
    if (r->failed(r->io)) return fail(err, ERR_SHORT_READ);
    if (!dtype_valid(code, bits)) return fail(err, ERR_DTYPE);
    if (!gorai_tensor_rank_fits(ndim)) return fail(err, ERR_RANK);
    h->code = (uint8_t)code;
    h->bits = (uint8_t)bits;
    h->ndim = (int)ndim;
    for (int i = 0; i < h->ndim; i++) h->shape[i] = r->load_signed(r->io);
    if (r->failed(r->io)) return fail(err, ERR_SHORT_READ);
    if (!shape_valid(h)) return fail(err, ERR_SHAPE);
    return 1;
}

/* v0..v3: device type and id, bits, code, lanes, ndims, dims, strides, byte offset, all unsigned. */
static int load_header_v0(const gorai_rdb_reader *r, tensor_header *h, const char **err) {
    uint64_t device_type = r->load_unsigned(r->io);
    r->load_unsigned(r->io); /* device id: stored tensors are all on the one CPU */
    uint64_t bits = r->load_unsigned(r->io);
    uint64_t code = r->load_unsigned(r->io);
    uint64_t lanes = r->load_unsigned(r->io);
    uint64_t ndim = r->load_unsigned(r->io);
    if (r->failed(r->io)) return fail(err, ERR_SHORT_READ);
    if (device_type != kDLCPU) return fail(err, ERR_DEVICE);
    /* These encodings predate STRING tensors and have no room for their offsets. */
    if (!dtype_valid(code, bits) || code == GORAI_DL_STRING) return fail(err, ERR_DTYPE);
    if (lanes != 1) return fail(err, ERR_LANES);
    if (ndim > GORAI_RDB_MAX_NDIM) return fail(err, ERR_RANK);
    h->code = (uint8_t)code;
    h->bits = (uint8_t)bits;
    h->ndim = (int)ndim;
    uint64_t strides[GORAI_RDB_MAX_NDIM];
    /* A dim over INT64_MAX turns negative here and is rejected as such. */
    for (int i = 0; i < h->ndim; i++) h->shape[i] = (int64_t)r->load_unsigned(r->io);
    for (int i = 0; i < h->ndim; i++) strides[i] = r->load_unsigned(r->io);
    uint64_t byte_offset = r->load_unsigned(r->io);
    if (r->failed(r->io)) return fail(err, ERR_SHORT_READ);
    if (!shape_valid(h)) return fail(err, ERR_SHAPE);
    /* shape_valid bounds every suffix product, so this cannot overflow. A dim of 1 takes any stride. */
    uint64_t contiguous = 1;
    for (int i = h->ndim - 1; i >= 0; i--) {
        if (h->shape[i] != 1 && strides[i] != contiguous) return fail(err, ERR_STRIDES);
        contiguous *= (uint64_t)h->shape[i];
    }
    if (byte_offset != 0) return fail(err, ERR_BYTE_OFFSET);
    return 1;
}

/* string_offsets_valid requires the offsets AI.TENSORSET would compute from the data: element i starts right
 * after the i-th NUL. data_invalid has checked that the data holds exactly len NULs and ends with one. */
static int string_offsets_valid(const gorai_tensor *t) {
    const char *data = t->dl.data;
    uint64_t start = 0;
    for (int64_t i = 0; i < t->len; i++) {
        if (t->offsets[i] != start) return 0;
        start += strlen(data + start) + 1;
    }
    return 1;
}

/* nul_count is the number of NUL bytes in data. */
static uint64_t nul_count(const char *data, size_t len) {
    uint64_t n = 0;
    for (const char *p = data, *end = data + len; (p = memchr(p, 0, (size_t)(end - p))) != NULL; p++) n++;
    return n;
}

/* data_invalid checks what can be checked before the tensor is allocated, so nothing is allocated for a size
 * that the data read does not back. */
static const char *data_invalid(const tensor_header *h, const char *data, size_t data_len) {
    if (h->code == GORAI_DL_STRING) {
        /* AI.TENSORSET's rule for a STRING blob: NUL-terminated elements, exactly len of them. */
        int splits = data_len > 0 && data[data_len - 1] == 0 && nul_count(data, data_len) == (uint64_t)h->len;
        return splits ? NULL : ERR_STRINGS;
    }
    uint64_t want;
    if (__builtin_mul_overflow((uint64_t)h->len, (uint64_t)(h->bits / 8), &want) || want != data_len)
        return ERR_DATA_LEN;
    if (h->code == GORAI_DL_BOOL) {
        for (size_t i = 0; i < data_len; i++)
            if ((unsigned char)data[i] > 1) return ERR_BOOL;
    }
    return NULL;
}

/* load_body reads the data and, for STRING, the element offsets (v4 only: older headers refuse STRING). */
static gorai_tensor *load_body(const gorai_rdb_reader *r, const tensor_header *h, const char **err) {
    size_t data_len = 0;
    char *data = r->load_string_buffer(r->io, &data_len);
    if (data == NULL || r->failed(r->io)) {
        if (data != NULL) r->free_buffer(r->io, data);
        *err = ERR_SHORT_READ;
        return NULL;
    }
    const char *why = data_invalid(h, data, data_len);
    gorai_tensor *t = why ? NULL : gorai_tensor_new(h->code, h->bits, h->ndim, h->shape, h->len, data_len, 0);
    if (t != NULL) memcpy(t->dl.data, data, data_len);
    r->free_buffer(r->io, data);
    if (t == NULL) {
        *err = why ? why : ERR_NOMEM;
        return NULL;
    }
    if (h->code == GORAI_DL_STRING) {
        for (int64_t i = 0; i < t->len; i++) t->offsets[i] = r->load_unsigned(r->io);
        why = r->failed(r->io) ? ERR_SHORT_READ : string_offsets_valid(t) ? NULL : ERR_STRINGS;
        if (why) {
            gorai_tensor_release(t);
            *err = why;
            return NULL;
        }
    }
    return t;
}

gorai_tensor *gorai_tensor_rdb_load(const gorai_rdb_reader *r, int encver, const char **err) {
    if (encver < 0 || encver > GORAI_RDB_TENSOR_ENCVER) {
        *err = ERR_VERSION;
        return NULL;
    }
    tensor_header h;
    int ok = encver == GORAI_RDB_TENSOR_ENCVER ? load_header_v4(r, &h, err) : load_header_v0(r, &h, err);
    return ok ? load_body(r, &h, err) : NULL;
}

void gorai_tensor_rdb_save(const gorai_rdb_writer *w, const gorai_tensor *t) {
    w->save_unsigned(w->io, t->dl.dtype.code);
    w->save_unsigned(w->io, t->dl.dtype.bits);
    w->save_signed(w->io, t->dl.ndim);
    for (int i = 0; i < t->dl.ndim; i++) w->save_signed(w->io, t->dl.shape[i]);
    w->save_string_buffer(w->io, t->dl.data, t->nbytes);
    if (t->dl.dtype.code == GORAI_DL_STRING)
        for (int64_t i = 0; i < t->len; i++) w->save_unsigned(w->io, t->offsets[i]);
}
