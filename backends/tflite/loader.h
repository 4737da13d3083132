/* The Go package's view of LiteRT's C API. libLiteRt.so is opened with dlopen and the LiteRt* functions
 * used are resolved into a table, so gorai builds without LiteRT's headers (the wheel ships none) and loads
 * without its library. Go cannot call C function pointers: the functions below do the work in C and call
 * through the table. Errors are malloc'd strings the caller frees with free(). */
#ifndef GORAI_TFLITE_LOADER_H
#define GORAI_TFLITE_LOADER_H

#include <stddef.h>
#include <stdint.h>

/* LiteRtElementType values (litert/c/litert_model_types.h, TfLiteType's numbers) gorai converts. */
enum {
    GORAI_TFL_FLOAT32 = 1,
    GORAI_TFL_INT32 = 2,
    GORAI_TFL_UINT8 = 3,
    GORAI_TFL_INT64 = 4,
    GORAI_TFL_BOOL = 6,
    GORAI_TFL_INT16 = 7,
    GORAI_TFL_INT8 = 9,
};

/* LiteRT's largest rank (LITERT_TENSOR_MAX_RANK). */
#define GORAI_TFL_MAX_RANK 8

/* An input of a run: the tensor's C memory, copied into LiteRT's buffer. */
typedef struct {
    int dtype; /* a GORAI_TFL_* value */
    int ndim;
    const int64_t *dims;
    const void *data;
    size_t nbytes;
} gorai_tfl_input;

/* An output of a run: data is malloc'd (NULL when nbytes is 0), freed by the caller with free(). */
typedef struct {
    int dtype;
    int ndim;
    int64_t dims[GORAI_TFL_MAX_RANK];
    void *data;
    size_t nbytes;
} gorai_tfl_output;

typedef struct gorai_tfl_model gorai_tfl_model;

/* gorai_tfl_open opens the library at path once per process and makes LiteRT's environment; 0, or -1 with
 * a message in err. */
int gorai_tfl_open(const char *path, char *err, size_t errlen);

/* Loads a .tflite flatbuffer (copied) and compiles it for the CPU. NULL with *err set on failure, in
 * RedisAI's words. */
gorai_tfl_model *gorai_tfl_model_new(const void *blob, size_t len, char **err);
/* The model's inputs and outputs in the order of its main subgraph, as TF Lite's interpreter lists them. */
int gorai_tfl_model_ninputs(const gorai_tfl_model *m);
int gorai_tfl_model_noutputs(const gorai_tfl_model *m);
const char *gorai_tfl_model_input_name(const gorai_tfl_model *m, int i);
const char *gorai_tfl_model_output_name(const gorai_tfl_model *m, int i);
/* Runs the model, resizing its inputs to the shapes given (as TF Lite's ResizeInputTensor); outputs
 * receives noutputs tensors. 0, or -1 (GORAI_TFL_KERNEL_FAILED, GORAI_TFL_THREW) with *err set. Runs of one
 * model are serialized. */
int gorai_tfl_model_run(gorai_tfl_model *m, const gorai_tfl_input *inputs, int ninputs, gorai_tfl_output *outputs,
                        char **err);
/* The flatbuffer the model was loaded from (LiteRT reads it in place), for a trial of a run (trial/main.c). */
const void *gorai_tfl_model_blob(const gorai_tfl_model *m, size_t *len);
/* Input i's compiled shape, a free dimension (-1) as 1, into dims; its rank, or -1. */
int gorai_tfl_model_input_dims(const gorai_tfl_model *m, int i, int64_t dims[GORAI_TFL_MAX_RANK]);
/* Runs the model once on inputs whose every element is fill (0 or 1): of the shapes given (ranks[i] dims at
 * dims[i*GORAI_TFL_MAX_RANK]), or of its inputs' compiled shapes when dims is NULL. The trial program's run
 * (trial/main.c). 0, or what gorai_tfl_model_run returns with *err set. */
int gorai_tfl_model_trial(gorai_tfl_model *m, const int64_t *dims, const int *ranks, int fill, char **err);
void gorai_tfl_model_free(gorai_tfl_model *m);

/* What gorai_tfl_guard returns when fn threw: *err then says what was thrown. */
#define GORAI_TFL_THREW (-2)
/* What gorai_tfl_model_run returns when LiteRT's run of the kernels failed, its tensors allocated: a kernel
 * refused the inputs' values (an integer division by zero), or could not allocate what they made it need. */
#define GORAI_TFL_KERNEL_FAILED (-3)

/* gorai_tfl_guard returns fn(arg), or GORAI_TFL_THREW with *err set when fn throws a C++ exception (guard.cc). */
int gorai_tfl_guard(int (*fn)(void *), void *arg, char **err);

#endif
