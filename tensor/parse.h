/* The grammar of AI.TENSORSET's tensor ("type [dim ...] [BLOB data | VALUES v ...]") and of
 * AI.TENSORGET's format ("[META] [BLOB | VALUES]"), with the BLOB and VALUES codecs and the dtype
 * names: in C, so that the two commands run on Redis' main thread without entering Go
 * (module/tensor_commands.c), while Go's DAG parser, the backends and the fuzz targets call this same
 * code through the tensor package. Arguments are (pointer, length) pairs, not NUL-terminated. */
#ifndef GORAI_PARSE_H
#define GORAI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/* What a parse or a constructor gives back besides a tensor: GORAI_TENSOR_OK, or an error whose
 * text gorai_tensor_message gives. */
typedef enum gorai_tensor_status {
    GORAI_TENSOR_OK = 0,
    GORAI_ERR_DTYPE,
    GORAI_ERR_SHAPE,
    GORAI_ERR_NDIM,
    GORAI_ERR_SINGLE_BLOB,
    GORAI_ERR_TOO_LARGE,
    GORAI_ERR_OVER_BULK_LEN,
    GORAI_ERR_DATA_LENGTH,
    GORAI_ERR_BOOL,
    GORAI_ERR_STRING_COUNT,
    GORAI_ERR_VALUE,
    GORAI_ERR_NUL_IN_STRING,
    GORAI_ERR_VALUE_COUNT,
    GORAI_ERR_NO_MEMORY,
    GORAI_ERR_FORMAT,
    GORAI_ERR_BLOB_AND_VALUES,
    /* not an error: the arguments ask for a zero-filled tensor, whose bound the caller must give */
    GORAI_TENSOR_NEEDS_LIMIT,
} gorai_tensor_status;

/* gorai_tensor_message is RedisAI's text for status, without its "ERR " prefix. */
const char *gorai_tensor_message(gorai_tensor_status status);

/* AI.TENSORGET's formats, as bits. */
enum { GORAI_FORMAT_META = 1, GORAI_FORMAT_BLOB = 2, GORAI_FORMAT_VALUES = 4 };

/* gorai_parse_dtype reads a dtype name, case-insensitively: 1 when it names one of RedisAI's ten. */
int gorai_parse_dtype(const char *s, size_t len, DLDataType *dtype);
/* gorai_parse_int reads a decimal integer as Redis' string2ll: optional '-', no '+', no leading
 * zero, no space, within int64. 1 on success. */
int gorai_parse_int(const char *s, size_t len, long long *value);
/* gorai_parse_double reads a number as Redis' string2d (which RedisAI's VALUES use): strtod over
 * the whole text, no leading space, no NaN, no overflow and no underflow to zero. 1 on success. */
int gorai_parse_double(const char *s, size_t len, double *value);

/* gorai_tensor_parse builds a tensor from AI.TENSORSET's arguments after the key, args[0] being the
 * type (n >= 1). limit (proto-max-bulk-len) bounds what a few bytes of arguments could otherwise make
 * large: a zero-filled tensor (neither BLOB nor VALUES), and a STRING BLOB's element offsets (8 bytes
 * an element) beyond 1 MiB of them. A negative limit means the caller has not read it yet: the parse
 * then stops with GORAI_TENSOR_NEEDS_LIMIT, before allocating, when it needs it. NULL on error, with
 * *status saying which. */
gorai_tensor *gorai_tensor_parse(const char *const *args, const size_t *lens, int n, int64_t limit,
                                 gorai_tensor_status *status);
/* gorai_tensor_parse_format reads AI.TENSORGET's arguments after the key, in any order (none means
 * META BLOB), into *format. */
gorai_tensor_status gorai_tensor_parse_format(const char *const *args, const size_t *lens, int n, int *format);

/* gorai_element_count is the product of the shape; -1 when a dim is not positive, or the product
 * overflows or exceeds limit. */
int64_t gorai_element_count(int ndim, const int64_t *shape, int64_t limit);
/* gorai_tensor_from_blob copies row-major bytes into a new tensor; a STRING blob is its elements, each
 * NUL-terminated, one after another. */
gorai_tensor *gorai_tensor_from_blob(DLDataType dtype, int ndim, const int64_t *shape, const char *blob, size_t len,
                                     gorai_tensor_status *status);
/* gorai_tensor_from_values parses one value per element, as AI.TENSORSET's VALUES: numbers for
 * numeric dtypes (range-checked), 0 or 1 for BOOL, C strings for STRING. */
gorai_tensor *gorai_tensor_from_values(DLDataType dtype, int ndim, const int64_t *shape, const char *const *values,
                                       const size_t *lens, int n, gorai_tensor_status *status);
/* gorai_tensor_zeros is a zero-filled tensor (STRING: every element ""), refused before allocating
 * when its data would exceed limit bytes (a STRING element counts its offset too). */
gorai_tensor *gorai_tensor_zeros(DLDataType dtype, int ndim, const int64_t *shape, int64_t limit,
                                 gorai_tensor_status *status);

#endif
