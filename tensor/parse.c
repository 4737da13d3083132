#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "tensor_rdb.h"

#define STRINGIFY(x) #x
#define NUMBER_TEXT(x) STRINGIFY(x)

static const char *const messages[] = {
    [GORAI_TENSOR_OK] = "",
    [GORAI_ERR_DTYPE] = "invalid data type",
    [GORAI_ERR_SHAPE] = "invalid or negative value found in tensor shape",
    [GORAI_ERR_NDIM] = "tensor has more than " NUMBER_TEXT(GORAI_RDB_MAX_NDIM) " dimensions",
    [GORAI_ERR_SINGLE_BLOB] = "a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
    [GORAI_ERR_TOO_LARGE] = "tensor is too large",
    [GORAI_ERR_OVER_BULK_LEN] = "tensor is larger than proto-max-bulk-len",
    [GORAI_ERR_DATA_LENGTH] = "data length does not match tensor shape and type",
    [GORAI_ERR_BOOL] = "BOOL tensor elements must be 0 or 1",
    [GORAI_ERR_STRING_COUNT] = "Number of string elements in data blob does not match tensor length",
    [GORAI_ERR_VALUE] = "invalid value",
    [GORAI_ERR_NUL_IN_STRING] = "C-string value contains null character",
    [GORAI_ERR_VALUE_COUNT] = "wrong number of values was given in 'AI.TENSORSET' command",
    [GORAI_ERR_NO_MEMORY] = "could not allocate tensor",
    [GORAI_ERR_FORMAT] = "unsupported data format",
    [GORAI_ERR_BLOB_AND_VALUES] = "both BLOB and VALUES specified",
    [GORAI_TENSOR_NEEDS_LIMIT] = "",
};

const char *gorai_tensor_message(gorai_tensor_status status) {
    if ((size_t)status >= sizeof messages / sizeof messages[0]) return "";
    return messages[status];
}

/* The ten dtypes of RedisAI 1.2.7, by the names commands take and replies give. */
static const struct {
    const char *name;
    size_t len;
    uint8_t code, bits;
} dtypes[] = {
    {"FLOAT", 5, kDLFloat, 32}, {"DOUBLE", 6, kDLFloat, 64}, {"INT8", 4, kDLInt, 8},
    {"INT16", 5, kDLInt, 16},   {"INT32", 5, kDLInt, 32},    {"INT64", 5, kDLInt, 64},
    {"UINT8", 5, kDLUInt, 8},   {"UINT16", 6, kDLUInt, 16},  {"BOOL", 4, GORAI_DL_BOOL, 8},
    {"STRING", 6, GORAI_DL_STRING, 8},
};
enum { NUM_DTYPES = sizeof dtypes / sizeof dtypes[0] };

int gorai_parse_dtype(const char *s, size_t len, DLDataType *dtype) {
    for (int i = 0; i < NUM_DTYPES; i++) {
        if (dtypes[i].len == len && strncasecmp(dtypes[i].name, s, len) == 0) {
            dtype->code = dtypes[i].code;
            dtype->bits = dtypes[i].bits;
            dtype->lanes = 1;
            return 1;
        }
    }
    return 0;
}

const char *gorai_dtype_name(DLDataType dtype) {
    for (int i = 0; i < NUM_DTYPES; i++)
        if (dtypes[i].code == dtype.code && dtypes[i].bits == dtype.bits) return dtypes[i].name;
    return "";
}

static int is_word(const char *s, size_t len, const char *word, size_t wlen) {
    return len == wlen && strncasecmp(s, word, len) == 0;
}
#define IS_WORD(s, len, word) is_word(s, len, word, sizeof(word) - 1)

int gorai_parse_int(const char *s, size_t len, long long *value) {
    if (len == 0 || len > 20) return 0;
    if (len == 1 && s[0] == '0') {
        *value = 0;
        return 1;
    }
    size_t i = 0;
    int negative = s[0] == '-';
    if (negative && ++i == len) return 0;
    if (s[i] < '1' || s[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        unsigned digit = (unsigned char)s[i] - '0';
        if (digit > 9 || v > (ULLONG_MAX - 9) / 10) return 0;
        v = v * 10 + digit;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *value = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *value = (long long)v;
    }
    return 1;
}

int gorai_parse_double(const char *s, size_t len, double *value) {
    if (len == 0 || isspace((unsigned char)s[0])) return 0;
    /* strtod needs a NUL-terminated copy: arguments are not all terminated, and a NUL inside one must
     * end the number early (and so fail the whole-text check), not the text. */
    char stack[64], *text = len < sizeof stack ? stack : gorai_mem.alloc(len + 1);
    if (text == NULL) return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    int ok = (size_t)(end - text) == len && !isnan(v) &&
             !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO));
    if (text != stack) gorai_mem.free(text);
    if (ok) *value = v;
    return ok;
}

int64_t gorai_element_count(int ndim, const int64_t *shape, int64_t limit) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0 || n > limit / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

static gorai_tensor *fail(gorai_tensor_status *status, gorai_tensor_status why) {
    *status = why;
    return NULL;
}

static gorai_tensor *allocated(gorai_tensor *t, gorai_tensor_status *status) {
    *status = t != NULL ? GORAI_TENSOR_OK : GORAI_ERR_NO_MEMORY;
    return t;
}

static gorai_tensor *strings_from_blob(int ndim, const int64_t *shape, int64_t n, const char *blob, size_t len,
                                       gorai_tensor_status *status) {
    if (len == 0 || blob[len - 1] != '\0' || gorai_count_nuls(blob, len) != n) return fail(status, GORAI_ERR_STRING_COUNT);
    gorai_tensor *t = gorai_tensor_new(GORAI_DL_STRING, 8, ndim, shape, n, len, 0);
    if (t == NULL) return fail(status, GORAI_ERR_NO_MEMORY);
    memcpy(t->dl.data, blob, len);
    gorai_tensor_index_strings(t);
    return allocated(t, status);
}

gorai_tensor *gorai_tensor_from_blob(DLDataType dtype, int ndim, const int64_t *shape, const char *blob, size_t len,
                                     gorai_tensor_status *status) {
    if (!gorai_tensor_rank_fits(ndim)) return fail(status, GORAI_ERR_NDIM);
    int64_t n = gorai_element_count(ndim, shape, INT64_MAX);
    if (n < 0) return fail(status, GORAI_ERR_TOO_LARGE);
    if (dtype.code == GORAI_DL_STRING) return strings_from_blob(ndim, shape, n, blob, len, status);
    /* n <= len first: then n * element size cannot overflow */
    if ((uint64_t)n > len || (uint64_t)n * (dtype.bits / 8) != len) return fail(status, GORAI_ERR_DATA_LENGTH);
    if (dtype.code == GORAI_DL_BOOL && !gorai_bytes_are_bools(blob, len)) return fail(status, GORAI_ERR_BOOL);
    gorai_tensor *t = gorai_tensor_new(dtype.code, dtype.bits, ndim, shape, n, len, 0);
    if (t != NULL) memcpy(t->dl.data, blob, len);
    return allocated(t, status);
}

gorai_tensor *gorai_tensor_zeros(DLDataType dtype, int ndim, const int64_t *shape, int64_t limit,
                                 gorai_tensor_status *status) {
    if (!gorai_tensor_rank_fits(ndim)) return fail(status, GORAI_ERR_NDIM);
    int64_t n = gorai_element_count(ndim, shape, limit);
    /* A STRING element is its NUL and its offset: a few bytes of command must not make the
     * allocation 9 times what the bound allows. */
    int64_t size = dtype.code == GORAI_DL_STRING ? 1 + (int64_t)sizeof(uint64_t) : dtype.bits / 8;
    if (n < 0 || n > limit / size) return fail(status, GORAI_ERR_TOO_LARGE);
    size_t nbytes = (size_t)n * (dtype.code == GORAI_DL_STRING ? 1 : (size_t)size);
    gorai_tensor *t = gorai_tensor_new(dtype.code, dtype.bits, ndim, shape, n, nbytes, 1);
    if (t != NULL && dtype.code == GORAI_DL_STRING) gorai_tensor_index_strings(t);
    return allocated(t, status);
}

/* A value is in range of its dtype. RedisAI 1.2.7 rejects every negative value for signed dtypes (a
 * bug in its check); gorai accepts the full signed range. */
static int in_range(DLDataType dtype, long long x) {
    if (dtype.code == GORAI_DL_BOOL) return x == 0 || x == 1;
    if (dtype.code == kDLInt) return dtype.bits == 64 || (x >= -(1LL << (dtype.bits - 1)) && x < (1LL << (dtype.bits - 1)));
    return x >= 0 && x < (1LL << dtype.bits);
}

/* put_value parses a value and stores it as element i (native byte order: little-endian on every
 * platform gorai builds for). */
static int put_value(DLDataType dtype, char *data, int64_t i, const char *s, size_t len) {
    if (dtype.code == kDLFloat) {
        double v;
        if (!gorai_parse_double(s, len, &v)) return 0;
        if (dtype.bits == 32) {
            float f = (float)v;
            memcpy(data + 4 * i, &f, 4);
        } else {
            memcpy(data + 8 * i, &v, 8);
        }
        return 1;
    }
    long long x;
    if (!gorai_parse_int(s, len, &x) || !in_range(dtype, x)) return 0;
    switch (dtype.bits) {
    case 8: {
        uint8_t v = (uint8_t)x;
        memcpy(data + i, &v, 1);
        break;
    }
    case 16: {
        uint16_t v = (uint16_t)x;
        memcpy(data + 2 * i, &v, 2);
        break;
    }
    case 32: {
        uint32_t v = (uint32_t)x;
        memcpy(data + 4 * i, &v, 4);
        break;
    }
    default:
        memcpy(data + 8 * i, &x, 8);
    }
    return 1;
}

/* A STRING value may carry its own terminating NUL, but no other. */
static size_t string_value_len(const char *s, size_t len) { return len > 0 && s[len - 1] == '\0' ? len - 1 : len; }

static gorai_tensor *strings_from_values(int ndim, const int64_t *shape, const char *const *values, const size_t *lens,
                                         int n, gorai_tensor_status *status) {
    size_t size = 0;
    for (int i = 0; i < n; i++) {
        size_t len = string_value_len(values[i], lens[i]);
        if (len > 0 && memchr(values[i], '\0', len) != NULL) return fail(status, GORAI_ERR_NUL_IN_STRING);
        size += len + 1;
    }
    gorai_tensor *t = gorai_tensor_new(GORAI_DL_STRING, 8, ndim, shape, n, size, 0);
    if (t == NULL) return fail(status, GORAI_ERR_NO_MEMORY);
    char *data = t->dl.data;
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        size_t len = string_value_len(values[i], lens[i]);
        t->offsets[i] = pos;
        if (len > 0) memcpy(data + pos, values[i], len);
        data[pos + len] = '\0';
        pos += len + 1;
    }
    return allocated(t, status);
}

gorai_tensor *gorai_tensor_from_values(DLDataType dtype, int ndim, const int64_t *shape, const char *const *values,
                                       const size_t *lens, int n, gorai_tensor_status *status) {
    if (!gorai_tensor_rank_fits(ndim)) return fail(status, GORAI_ERR_NDIM);
    int64_t count = gorai_element_count(ndim, shape, INT64_MAX);
    if (count < 0) return fail(status, GORAI_ERR_TOO_LARGE);
    if (count != n) return fail(status, GORAI_ERR_VALUE_COUNT);
    if (dtype.code == GORAI_DL_STRING) return strings_from_values(ndim, shape, values, lens, n, status);
    gorai_tensor *t = gorai_tensor_new(dtype.code, dtype.bits, ndim, shape, n, (size_t)n * (dtype.bits / 8), 0);
    if (t == NULL) return fail(status, GORAI_ERR_NO_MEMORY);
    for (int i = 0; i < n; i++) {
        if (!put_value(dtype, t->dl.data, i, values[i], lens[i])) {
            gorai_tensor_free(t);
            return fail(status, GORAI_ERR_VALUE);
        }
    }
    return allocated(t, status);
}

/* STRING offsets up to this size need no bound: the bound is only read for a larger tensor. */
enum { FREE_OFFSET_BYTES = 1 << 20 };

/* string_blob_fits checks a STRING blob's tensor against limit: its offsets (8 bytes an element,
 * one element per NUL) would otherwise let a blob of NULs make 9 times its size. */
static int string_blob_fits(const char *blob, size_t len, int64_t limit, gorai_tensor_status *status) {
    if ((uint64_t)len * sizeof(uint64_t) <= FREE_OFFSET_BYTES) return 1; /* no more elements than bytes */
    uint64_t bytes = (uint64_t)gorai_count_nuls(blob, len) * sizeof(uint64_t);
    if (bytes <= FREE_OFFSET_BYTES) return 1;
    if (limit >= 0 && bytes + len <= (uint64_t)limit) return 1;
    *status = limit < 0 ? GORAI_TENSOR_NEEDS_LIMIT : GORAI_ERR_OVER_BULK_LEN;
    return 0;
}

gorai_tensor *gorai_tensor_parse(const char *const *args, const size_t *lens, int n, int64_t limit,
                                 gorai_tensor_status *status) {
    DLDataType dtype;
    if (n < 1 || !gorai_parse_dtype(args[0], lens[0], &dtype)) return fail(status, GORAI_ERR_DTYPE);
    int64_t shape[GORAI_RDB_MAX_NDIM];
    int ndim = 0;
    for (int i = 1; i < n; i++) {
        if (IS_WORD(args[i], lens[i], "BLOB")) {
            if (n != i + 2) return fail(status, GORAI_ERR_SINGLE_BLOB);
            if (dtype.code == GORAI_DL_STRING && !string_blob_fits(args[i + 1], lens[i + 1], limit, status)) return NULL;
            return gorai_tensor_from_blob(dtype, ndim, shape, args[i + 1], lens[i + 1], status);
        }
        if (IS_WORD(args[i], lens[i], "VALUES"))
            return gorai_tensor_from_values(dtype, ndim, shape, args + i + 1, lens + i + 1, n - i - 1, status);
        long long dim;
        if (!gorai_parse_int(args[i], lens[i], &dim) || dim <= 0) return fail(status, GORAI_ERR_SHAPE);
        if (ndim == GORAI_RDB_MAX_NDIM) return fail(status, GORAI_ERR_NDIM);
        shape[ndim++] = dim;
    }
    if (limit < 0) return fail(status, GORAI_TENSOR_NEEDS_LIMIT);
    gorai_tensor *t = gorai_tensor_zeros(dtype, ndim, shape, limit, status);
    if (t == NULL && *status == GORAI_ERR_TOO_LARGE) *status = GORAI_ERR_OVER_BULK_LEN;
    return t;
}

gorai_tensor_status gorai_tensor_parse_format(const char *const *args, const size_t *lens, int n, int *format) {
    int f = 0;
    for (int i = 0; i < n; i++) {
        if (IS_WORD(args[i], lens[i], "META"))
            f |= GORAI_FORMAT_META;
        else if (IS_WORD(args[i], lens[i], "BLOB"))
            f |= GORAI_FORMAT_BLOB;
        else if (IS_WORD(args[i], lens[i], "VALUES"))
            f |= GORAI_FORMAT_VALUES;
        else
            return GORAI_ERR_FORMAT;
    }
    if ((f & GORAI_FORMAT_BLOB) && (f & GORAI_FORMAT_VALUES)) return GORAI_ERR_BLOB_AND_VALUES;
    *format = n == 0 ? GORAI_FORMAT_META | GORAI_FORMAT_BLOB : f;
    return GORAI_TENSOR_OK;
}
