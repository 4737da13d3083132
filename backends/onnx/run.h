/* A run of an ONNX Runtime session, and the outputs ORT allocated for it, through ORT's API table
 * (gorai_ort_api), without ORT's headers (see allocator.cc): the binding's own Run copies each output
 * into Go's heap, unchecked. */
#ifndef GORAI_ONNX_RUN_H
#define GORAI_ONNX_RUN_H

#include <stddef.h>
#include <stdint.h>

/* gorai_ort_run is OrtApi::Run. It returns ORT's status (NULL: success; see gorai_ort_status_message). */
void *gorai_ort_run(void *session, const void *options, const char *const *input_names, const void *const *inputs,
                    size_t ninputs, const char *const *output_names, size_t noutputs, void **outputs);

/* ORT's status: its message, and its release. */
const char *gorai_ort_status_message(void *status);
void gorai_ort_release_status(void *status);

/* gorai_ort_value_type is the value's ONNXType (1 tensor, 2 sequence, 3 map...), -1 on failure. */
int gorai_ort_value_type(const void *value);

/* gorai_ort_tensor_info reads a tensor value's element type (ONNXTensorElementDataType), its number of
 * dimensions and up to maxdims of them, and where its data is (for numeric types). NULL, or ORT's status. */
void *gorai_ort_tensor_info(void *value, int *elem_type, size_t *ndims, int64_t *dims, size_t maxdims, void **data);

/* gorai_ort_string_lengths gives a STRING tensor's bytes in all; gorai_ort_strings copies them into buf and
 * each element's offset into offsets (count of them). NULL, or ORT's status. */
void *gorai_ort_string_length(const void *value, size_t *len);
void *gorai_ort_strings(const void *value, void *buf, size_t len, size_t *offsets, size_t count);

void gorai_ort_release_value(void *value);

#endif
