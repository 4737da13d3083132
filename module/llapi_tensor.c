/* The low-level API's tensors: gorai's own (refcounted, in Redis' memory), so that a tensor made here
 * can be stored in a key and read by AI.TENSORGET, and a key's tensor read here. */
#include <string.h>

#include "go_library.h"
#include "llapi.h"
#include "parse.h"

/* The most bytes a tensor made here may take: no command bounds it, only the allocator. */
#define CREATE_LIMIT (INT64_C(1) << 62)

RAI_Tensor *llapi_TensorCreate(const char *dataTypeStr, long long *dims, int ndims) {
    DLDataType dt;
    if (dataTypeStr == NULL || ndims < 0 || (ndims > 0 && dims == NULL) ||
        !gorai_parse_dtype(dataTypeStr, strlen(dataTypeStr), &dt))
        return NULL;
    const int64_t *shape = (const int64_t *)dims;
    if (dt.code == GORAI_DL_STRING) {
        /* Empty strings, with room for the data to be set after. */
        int64_t n = gorai_element_count(ndims, shape, CREATE_LIMIT);
        return n < 0 ? NULL : gorai_tensor_new_strings(ndims, shape, n);
    }
    gorai_tensor_status status;
    return gorai_tensor_zeros(dt, ndims, shape, CREATE_LIMIT, &status);
}

RAI_Tensor *llapi_TensorCreateByConcatenatingTensors(RAI_Tensor **ts, long long n) {
    if (ts == NULL || n <= 0) return NULL;
    for (long long i = 0; i < n; i++)
        if (ts[i] == NULL) return NULL;
    const gorai_go_library *go = gorai_go();
    return go != NULL ? go->goraiLLAPIConcat(ts, n) : NULL;
}

RAI_Tensor *llapi_TensorCreateBySlicingTensor(RAI_Tensor *t, long long offset, long long len) {
    if (t == NULL || offset < 0 || len <= 0) return NULL;
    const gorai_go_library *go = gorai_go();
    return go != NULL ? go->goraiLLAPISlice(t, offset, len) : NULL;
}

size_t llapi_TensorLength(RAI_Tensor *t) { return (size_t)t->len; }
size_t llapi_TensorDataSize(RAI_Tensor *t) { return t->dl.dtype.bits / 8; }

/* RedisAI returns the DLDataType itself, four bytes in the return register, which its header
 * declares as size_t: the same bits. */
size_t llapi_TensorDataType(RAI_Tensor *t) {
    DLDataType d = t->dl.dtype;
    return (size_t)d.code | (size_t)d.bits << 8 | (size_t)d.lanes << 16;
}

void llapi_TensorFree(RAI_Tensor *t) { gorai_tensor_release(t); }

RAI_Tensor *llapi_TensorGetShallowCopy(RAI_Tensor *t) {
    if (t == NULL) return NULL;
    gorai_tensor_retain(t);
    return t;
}

int llapi_TensorNumDims(RAI_Tensor *t) { return t->dl.ndim; }
long long llapi_TensorDim(RAI_Tensor *t, int dim) { return dim >= 0 && dim < t->dl.ndim ? t->dl.shape[dim] : -1; }
size_t llapi_TensorByteSize(RAI_Tensor *t) { return t->nbytes; }
char *llapi_TensorData(RAI_Tensor *t) { return t->dl.data; }
RedisModuleType *llapi_TensorRedisType(void) { return gorai_tensor_type; }

/* writable: a tensor another holder shares (a key, a run) is immutable. */
static int writable(const RAI_Tensor *t) { return __atomic_load_n(&t->refcount, __ATOMIC_ACQUIRE) == 1; }

int llapi_TensorSetData(RAI_Tensor *t, const char *data, size_t len) {
    if (!writable(t) || (data == NULL && len > 0)) return 0;
    if (t->dl.dtype.code == GORAI_DL_STRING) return gorai_tensor_set_strings(t, data, len);
    if (len != t->nbytes || (t->dl.dtype.code == GORAI_DL_BOOL && !gorai_bytes_are_bools(data, len))) return 0;
    if (len > 0) memcpy(t->dl.data, data, len);
    return 1;
}

static int in_range(const RAI_Tensor *t, long long i) { return i >= 0 && i < t->len; }

/* As RedisAI: doubles for FLOAT and DOUBLE; integers for the integer dtypes and BOOL (0 or 1). */
int llapi_TensorSetValueFromDouble(RAI_Tensor *t, long long i, double val) {
    if (!writable(t) || !in_range(t, i) || t->dl.dtype.code != kDLFloat) return 0;
    switch (t->dl.dtype.bits) {
    case 32: ((float *)t->dl.data)[i] = (float)val; return 1;
    case 64: ((double *)t->dl.data)[i] = val; return 1;
    }
    return 0;
}

int llapi_TensorSetValueFromLongLong(RAI_Tensor *t, long long i, long long val) {
    if (!writable(t) || !in_range(t, i)) return 0;
    void *d = t->dl.data;
    switch (t->dl.dtype.code) {
    case kDLInt:
        switch (t->dl.dtype.bits) {
        case 8: ((int8_t *)d)[i] = (int8_t)val; return 1;
        case 16: ((int16_t *)d)[i] = (int16_t)val; return 1;
        case 32: ((int32_t *)d)[i] = (int32_t)val; return 1;
        case 64: ((int64_t *)d)[i] = (int64_t)val; return 1;
        }
        return 0;
    case kDLUInt:
        switch (t->dl.dtype.bits) {
        case 8: ((uint8_t *)d)[i] = (uint8_t)val; return 1;
        case 16: ((uint16_t *)d)[i] = (uint16_t)val; return 1;
        }
        return 0;
    case GORAI_DL_BOOL:
        if (val != 0 && val != 1) return 0;
        ((uint8_t *)d)[i] = (uint8_t)val;
        return 1;
    }
    return 0;
}

int llapi_TensorGetValueAsDouble(RAI_Tensor *t, long long i, double *val) {
    return in_range(t, i) && gorai_tensor_double_at(t, i, val);
}

int llapi_TensorGetValueAsLongLong(RAI_Tensor *t, long long i, long long *val) {
    return in_range(t, i) && gorai_tensor_integer_at(t, i, val);
}

DLTensor *llapi_TensorGetDLTensor(RAI_Tensor *t) { return t != NULL ? &t->dl : NULL; }

/* compact_row_major: strides absent, or those of the shape without gaps. */
static int compact_row_major(const DLTensor *d) {
    if (d->strides == NULL) return 1;
    int64_t want = 1;
    for (int i = d->ndim - 1; i >= 0; i--) {
        if (d->shape[i] != 1 && d->strides[i] != want) return 0;
        want *= d->shape[i];
    }
    return 1;
}

RAI_Tensor *llapi_TensorCreateFromDLTensor(DLManagedTensor *m) {
    if (m == NULL) return NULL;
    const DLTensor *d = &m->dl_tensor;
    DLDataType dt = d->dtype;
    if (d->device.device_type != kDLCPU || dt.lanes != 1 || dt.code == GORAI_DL_STRING || gorai_dtype_name(dt)[0] == 0 ||
        d->ndim < 0 || (d->ndim > 0 && d->shape == NULL) || !compact_row_major(d))
        return NULL;
    int64_t len = 1;
    for (int i = 0; i < d->ndim; i++) {
        if (d->shape[i] < 0 || (d->shape[i] > 0 && len > INT64_MAX / 8 / d->shape[i])) return NULL;
        len *= d->shape[i];
    }
    size_t nbytes = (size_t)len * dt.bits / 8;
    if (nbytes > 0 && d->data == NULL) return NULL;
    RAI_Tensor *t = gorai_tensor_new(dt.code, dt.bits, d->ndim, d->shape, len, nbytes, 0);
    if (t == NULL) return NULL;
    if (nbytes > 0) memcpy(t->dl.data, (const char *)d->data + d->byte_offset, nbytes);
    if (m->deleter != NULL) m->deleter(m);
    return t;
}
