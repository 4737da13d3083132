/* The Go package's view of TensorFlow's C API. libtensorflow_cc.so.2 is opened with dlopen and the TF_*
 * functions used are resolved into a table (as RedisAI's backends.c does with its backend objects), so gorai
 * builds without TensorFlow's headers and loads without its library. Go cannot call C function pointers:
 * the functions below do the work in C and call through the table. Errors are malloc'd strings the caller
 * frees with free(). */
#ifndef GORAI_TF_LOADER_H
#define GORAI_TF_LOADER_H

#include <stddef.h>
#include <stdint.h>

/* TF_DataType values (tensorflow/c/tf_datatype.h) gorai converts. */
enum {
    GORAI_TF_FLOAT = 1,
    GORAI_TF_DOUBLE = 2,
    GORAI_TF_INT32 = 3,
    GORAI_TF_UINT8 = 4,
    GORAI_TF_INT16 = 5,
    GORAI_TF_INT8 = 6,
    GORAI_TF_STRING = 7,
    GORAI_TF_INT64 = 9,
    GORAI_TF_BOOL = 10,
    GORAI_TF_UINT16 = 17,
};

/* An input as the run reads it: the tensor's C memory, wrapped by TensorFlow without a copy. A STRING input
 * is its elements, each NUL-terminated, one after another (nbytes in all, nelems of them); they are copied. */
typedef struct {
    int dtype; /* a GORAI_TF_* value */
    int ndim;
    const int64_t *dims;
    void *data;
    size_t nbytes;
    int64_t nelems;
} gorai_tf_input;

typedef struct gorai_tf_model gorai_tf_model;

/* gorai_tf_open opens the library at path once per process; 0, or -1 with a message in err. */
int gorai_tf_open(const char *path, char *err, size_t errlen);
const char *gorai_tf_version(void);

/* Imports a binary GraphDef and makes a session on it. Inputs must name Placeholder ops, outputs existing
 * ops (port 0 is fetched); config is a serialized ConfigProto (may be empty); gpu asks for a GPU device.
 * NULL with *err set on failure, in RedisAI's words where it has its own. */
gorai_tf_model *gorai_tf_model_new(const void *graph, size_t len, const char *const *inputs, int ninputs,
                                   const char *const *outputs, int noutputs, const void *config, size_t configlen,
                                   int gpu, char **err);
/* Runs the model: outputs receives noutputs tensors (TF_Tensor *), released with gorai_tf_tensor_free.
 * 0, or -1 with *err set (TensorFlow's message). May be called from many threads at once. */
int gorai_tf_model_run(gorai_tf_model *m, const gorai_tf_input *inputs, int ninputs, void **outputs, char **err);
void gorai_tf_model_free(gorai_tf_model *m);

/* An output tensor of a run. */
int gorai_tf_tensor_type(void *t);
int gorai_tf_tensor_ndim(void *t);
int64_t gorai_tf_tensor_dim(void *t, int i);
void *gorai_tf_tensor_data(void *t);
size_t gorai_tf_tensor_nbytes(void *t);
int64_t gorai_tf_tensor_nelems(void *t);
/* Element i of a STRING tensor: its bytes, *len of them. */
const char *gorai_tf_tensor_string(void *t, int64_t i, size_t *len);
void gorai_tf_tensor_free(void *t);

#endif
