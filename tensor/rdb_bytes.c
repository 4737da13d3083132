#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdb_bytes.h"

/* Module value opcodes (RDB_MODULE_OPCODE_*) and string encodings (RDB_ENC_*), from Redis' rdb.h. */
enum { OPCODE_EOF = 0, OPCODE_UINT = 2, OPCODE_STRING = 5 };
enum { ENC_INT8 = 0, ENC_INT16 = 1, ENC_INT32 = 2, ENC_LZF = 3 };

/* LZF's best case is a 3-byte back reference for 264 bytes, so no valid input expands more than this. */
enum { LZF_MAX_EXPANSION = 88 };

static int in_fail(gorai_rdb_bytes_in *in) {
    in->failed = 1;
    return 0;
}

/* take hands out the next n bytes, or fails on a short read. */
static const unsigned char *take(gorai_rdb_bytes_in *in, size_t n) {
    if (in->failed || n > in->len - in->pos) {
        in_fail(in);
        return NULL;
    }
    const unsigned char *p = in->buf + in->pos;
    in->pos += n;
    return p;
}

static uint64_t big_endian(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* read_len reads Redis' length encoding (rdbLoadLenByRef). The 0b11 prefix marks a special string encoding,
 * which *encoded reports; callers that expect a number take its low 6 bits as Redis does. */
static int read_len(gorai_rdb_bytes_in *in, uint64_t *v, int *encoded) {
    const unsigned char *p = take(in, 1);
    if (p == NULL) return 0;
    *encoded = 0;
    switch (p[0] >> 6) {
    case 0: *v = p[0] & 0x3f; return 1;
    case 1: {
        const unsigned char *lo = take(in, 1);
        if (lo == NULL) return 0;
        *v = (uint64_t)(p[0] & 0x3f) << 8 | lo[0];
        return 1;
    }
    case 2: {
        int n = p[0] == 0x80 ? 4 : p[0] == 0x81 ? 8 : 0;
        const unsigned char *b = n ? take(in, (size_t)n) : NULL;
        if (b == NULL) return in_fail(in);
        *v = big_endian(b, n);
        return 1;
    }
    default: *encoded = 1; *v = p[0] & 0x3f; return 1;
    }
}

static int read_opcode(gorai_rdb_bytes_in *in, uint64_t want) {
    uint64_t op;
    int encoded;
    if (!read_len(in, &op, &encoded)) return 0;
    return op == want ? 1 : in_fail(in);
}

static uint64_t load_unsigned(void *io) {
    gorai_rdb_bytes_in *in = io;
    uint64_t v;
    int encoded;
    if (!read_opcode(in, OPCODE_UINT) || !read_len(in, &v, &encoded)) return 0;
    return v;
}

static int64_t load_signed(void *io) { return (int64_t)load_unsigned(io); }

/* copy_out returns n bytes of src in a fresh buffer (never NULL for n == 0, as Redis' zmalloc(0)). */
static char *copy_out(gorai_rdb_bytes_in *in, const void *src, size_t n) {
    char *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        in_fail(in);
        return NULL;
    }
    memcpy(buf, src, n);
    return buf;
}

/* load_int_string renders an integer-encoded string as its decimal text, as rdbLoadIntegerObject does. */
static char *load_int_string(gorai_rdb_bytes_in *in, int width, size_t *len) {
    const unsigned char *p = take(in, (size_t)width);
    if (p == NULL) return NULL;
    uint32_t u = 0;
    for (int i = width - 1; i >= 0; i--) u = u << 8 | p[i];
    long long v = width == 1 ? (int8_t)u : width == 2 ? (int16_t)u : (int32_t)u;
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", v);
    *len = (size_t)n;
    return copy_out(in, text, (size_t)n);
}

/* lzf_decompress is liblzf's lzf_decompress, bounds-checked on both sides; the output must fill out exactly. */
static int lzf_decompress(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len) {
    size_t ip = 0, op = 0;
    while (ip < in_len) {
        size_t ctrl = in[ip++];
        if (ctrl < 32) { /* literal run of ctrl+1 bytes */
            ctrl++;
            if (ctrl > out_len - op || ctrl > in_len - ip) return 0;
            memcpy(out + op, in + ip, ctrl);
            op += ctrl;
            ip += ctrl;
            continue;
        }
        size_t n = ctrl >> 5, back = (ctrl & 0x1f) << 8; /* back reference of n+2 bytes */
        if (n == 7) {
            if (ip >= in_len) return 0;
            n += in[ip++];
        }
        if (ip >= in_len) return 0;
        back += (size_t)in[ip++] + 1;
        n += 2;
        if (back > op || n > out_len - op) return 0;
        for (size_t i = 0; i < n; i++, op++) out[op] = out[op - back]; /* may overlap forward */
    }
    return op == out_len;
}

static char *load_lzf_string(gorai_rdb_bytes_in *in, size_t *len) {
    uint64_t clen, ulen;
    int encoded;
    if (!read_len(in, &clen, &encoded) || !read_len(in, &ulen, &encoded)) return NULL;
    const unsigned char *compressed = take(in, clen);
    if (compressed == NULL) return NULL;
    if (ulen == 0 || ulen / LZF_MAX_EXPANSION > clen) {
        in_fail(in);
        return NULL;
    }
    char *buf = malloc(ulen);
    if (buf == NULL || !lzf_decompress(compressed, clen, (unsigned char *)buf, ulen)) {
        free(buf);
        in_fail(in);
        return NULL;
    }
    *len = ulen;
    return buf;
}

static char *load_string_buffer(void *io, size_t *len) {
    gorai_rdb_bytes_in *in = io;
    uint64_t n;
    int encoded;
    if (!read_opcode(in, OPCODE_STRING) || !read_len(in, &n, &encoded)) return NULL;
    if (encoded) {
        switch (n) {
        case ENC_INT8: return load_int_string(in, 1, len);
        case ENC_INT16: return load_int_string(in, 2, len);
        case ENC_INT32: return load_int_string(in, 4, len);
        case ENC_LZF: return load_lzf_string(in, len);
        default: in_fail(in); return NULL;
        }
    }
    const unsigned char *p = take(in, n);
    if (p == NULL) return NULL;
    *len = n;
    return copy_out(in, p, n);
}

static void free_buffer(void *io, char *buf) {
    (void)io;
    free(buf);
}

static int failed(void *io) { return ((gorai_rdb_bytes_in *)io)->failed; }

gorai_rdb_reader gorai_rdb_bytes_reader(gorai_rdb_bytes_in *in) {
    return (gorai_rdb_reader){in, load_unsigned, load_signed, load_string_buffer, free_buffer, failed};
}

static void put(gorai_rdb_bytes_out *out, const void *p, size_t n) {
    if (out->failed) return;
    if (n > out->cap - out->len) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap - out->len < n) cap *= 2;
        unsigned char *buf = realloc(out->buf, cap);
        if (buf == NULL) {
            out->failed = 1;
            return;
        }
        out->buf = buf;
        out->cap = cap;
    }
    if (n) memcpy(out->buf + out->len, p, n);
    out->len += n;
}

/* put_len writes Redis' length encoding in its shortest form, as rdbSaveLen does. */
static void put_len(gorai_rdb_bytes_out *out, uint64_t v) {
    unsigned char b[9];
    size_t n;
    if (v < 1 << 6) {
        b[0] = (unsigned char)v;
        n = 1;
    } else if (v < 1 << 14) {
        b[0] = (unsigned char)(0x40 | v >> 8);
        b[1] = (unsigned char)v;
        n = 2;
    } else {
        int width = v <= UINT32_MAX ? 4 : 8;
        b[0] = width == 4 ? 0x80 : 0x81;
        for (int i = 0; i < width; i++) b[1 + i] = (unsigned char)(v >> 8 * (width - 1 - i));
        n = 1 + (size_t)width;
    }
    put(out, b, n);
}

static void save_unsigned(void *io, uint64_t v) {
    put_len(io, OPCODE_UINT);
    put_len(io, v);
}

/* Redis saves signed values as their two's complement under the UINT opcode. */
static void save_signed(void *io, int64_t v) { save_unsigned(io, (uint64_t)v); }

/* Strings are written plain: Redis also reads them so, though it would itself write short decimal text
 * integer-encoded and, with rdbcompression on, long strings LZF-compressed. */
static void save_string_buffer(void *io, const char *buf, size_t len) {
    put_len(io, OPCODE_STRING);
    put_len(io, len);
    put(io, buf, len);
}

gorai_rdb_writer gorai_rdb_bytes_writer(gorai_rdb_bytes_out *out) {
    return (gorai_rdb_writer){out, save_unsigned, save_signed, save_string_buffer};
}

gorai_tensor *gorai_rdb_bytes_load(const unsigned char *buf, size_t len, int encver, const char **err) {
    gorai_rdb_bytes_in in = {buf, len, 0, 0};
    gorai_rdb_reader r = gorai_rdb_bytes_reader(&in);
    gorai_tensor *t = gorai_tensor_rdb_load(&r, encver, err);
    if (t != NULL && (!read_opcode(&in, OPCODE_EOF) || in.pos != in.len)) {
        gorai_tensor_release(t);
        *err = "module value not terminated by a lone EOF opcode";
        return NULL;
    }
    return t;
}

int gorai_rdb_bytes_save(const gorai_tensor *t, gorai_rdb_bytes_out *out) {
    gorai_rdb_writer w = gorai_rdb_bytes_writer(out);
    gorai_tensor_rdb_save(&w, t);
    put_len(out, OPCODE_EOF);
    if (!out->failed) return 1;
    free(out->buf);
    *out = (gorai_rdb_bytes_out){0};
    return 0;
}
