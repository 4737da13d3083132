#include "run.h"

#include "allocator.h"

/* The slots of OrtApi's functions called here (see allocator.cc). */
enum {
    kGetErrorMessage = 2,
    kRun = 9,
    kGetTensorMutableData = 51,
    kGetStringTensorDataLength = 53,
    kGetStringTensorContent = 54,
    kGetTensorElementType = 60,
    kGetDimensionsCount = 61,
    kGetDimensions = 62,
    kGetTensorTypeAndShape = 65,
    kGetValueType = 67,
    kReleaseStatus = 93,
    kReleaseValue = 96,
    kReleaseTensorTypeAndShapeInfo = 99,
};

typedef void *Status;
#define API(slot, type) ((type)gorai_ort_api()[slot])

void *gorai_ort_run(void *session, const void *options, const char *const *input_names, const void *const *inputs,
                    size_t ninputs, const char *const *output_names, size_t noutputs, void **outputs) {
    typedef Status (*Run)(void *, const void *, const char *const *, const void *const *, size_t, const char *const *,
                          size_t, void **);
    return API(kRun, Run)(session, options, input_names, inputs, ninputs, output_names, noutputs, outputs);
}

const char *gorai_ort_status_message(void *status) {
    return API(kGetErrorMessage, const char *(*)(Status))(status);
}

void gorai_ort_release_status(void *status) { API(kReleaseStatus, void (*)(Status))(status); }

int gorai_ort_value_type(const void *value) {
    int type = -1;
    Status st = API(kGetValueType, Status(*)(const void *, int *))(value, &type);
    if (st != NULL) {
        gorai_ort_release_status(st);
        return -1;
    }
    return type;
}

void *gorai_ort_tensor_info(void *value, int *elem_type, size_t *ndims, int64_t *dims, size_t maxdims, void **data) {
    void *info = NULL;
    Status st = API(kGetTensorTypeAndShape, Status(*)(const void *, void **))(value, &info);
    if (st == NULL) st = API(kGetTensorElementType, Status(*)(const void *, int *))(info, elem_type);
    if (st == NULL) st = API(kGetDimensionsCount, Status(*)(const void *, size_t *))(info, ndims);
    if (st == NULL && *ndims <= maxdims)
        st = API(kGetDimensions, Status(*)(const void *, int64_t *, size_t))(info, dims, *ndims);
    if (info != NULL) API(kReleaseTensorTypeAndShapeInfo, void (*)(void *))(info);
    *data = NULL;
    if (st == NULL && *elem_type != 8 /* STRING */)
        st = API(kGetTensorMutableData, Status(*)(void *, void **))(value, data);
    return st;
}

void *gorai_ort_string_length(const void *value, size_t *len) {
    return API(kGetStringTensorDataLength, Status(*)(const void *, size_t *))(value, len);
}

void *gorai_ort_strings(const void *value, void *buf, size_t len, size_t *offsets, size_t count) {
    return API(kGetStringTensorContent, Status(*)(const void *, void *, size_t, size_t *, size_t))(value, buf, len,
                                                                                                  offsets, count);
}

void gorai_ort_release_value(void *value) { API(kReleaseValue, void (*)(void *))(value); }
