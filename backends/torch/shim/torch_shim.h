/* torch_shim: the C API of gorai's libtorch shim (libgorai_torch.so), built from torch_shim.cpp by
 * build/build-torch-shim.sh and opened with dlopen by the Go package (loader.c) on first TORCH use.
 * The header is plain C and includes nothing from libtorch, so the Go side compiles without it.
 *
 * Rules of the API:
 * - No C++ exception leaves a function: every failure is a return value plus an error string, on one
 *   line, allocated with malloc by the shim; the caller frees it with gorai_torch_free_string.
 * - Inputs are descriptions of the caller's memory, wrapped without a copy for the time of a run and
 *   never kept (torch::from_blob). The caller keeps them alive and unchanged until the run returns.
 * - Outputs are copied into memory the caller allocates through a callback, once per output.
 */
#ifndef GORAI_TORCH_SHIM_H
#define GORAI_TORCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORAI_TORCH_EXPORT __attribute__((visibility("default")))
#else
#define GORAI_TORCH_EXPORT
#endif

/* The version of this API; gorai_torch_abi returns it and the loader refuses another. */
#define GORAI_TORCH_ABI 1

/* Element type codes, as DLPack and RedisAI number them. */
enum { GORAI_TORCH_INT = 0, GORAI_TORCH_UINT = 1, GORAI_TORCH_FLOAT = 2, GORAI_TORCH_BOOL = 6, GORAI_TORCH_STRING = 7 };

/* A tensor in the caller's memory: row-major, contiguous, on the CPU. ndim may be 0 (a scalar). */
typedef struct gorai_torch_tensor {
    void *data;
    const int64_t *shape;
    int32_t ndim;
    uint8_t code;
    uint8_t bits;
} gorai_torch_tensor;

/* Where output index goes: the callback returns room for nbytes (the row-major data of an output of the
 * given type and shape), or NULL to fail the run (the run then reports "could not allocate output").
 * shape is valid during the call only. */
typedef void *(*gorai_torch_alloc_fn)(void *ctx, int index, uint8_t code, uint8_t bits, int ndim,
                                      const int64_t *shape, size_t nbytes);

GORAI_TORCH_EXPORT int gorai_torch_abi(void);
/* The libtorch version the shim was built against, such as "1.13.0" (static storage). */
GORAI_TORCH_EXPORT const char *gorai_torch_version(void);
/* Whether libtorch sees a CUDA device. */
GORAI_TORCH_EXPORT int gorai_torch_cuda_available(void);
GORAI_TORCH_EXPORT void gorai_torch_free_string(char *s);

/* Sets libtorch's process-wide thread counts where a value is > 0 and differs from the current one
 * (libtorch refuses inter-op changes once parallel work has started). 0 on success; -1 and *err. */
GORAI_TORCH_EXPORT int gorai_torch_set_threads(int inter_op, int intra_op, char **err);

/* Loads a TorchScript module from a serialized buffer (torch.jit.save's zip) onto the CPU (gpu == 0) or
 * CUDA device device_id (gpu != 0; -1: the current device) and prepares forward's execution plan. The
 * handle, or NULL and *err. */
GORAI_TORCH_EXPORT void *gorai_torch_model_load(const void *blob, size_t len, int gpu, int device_id,
                                                char **err);
/* forward's arguments, self excluded; a name is valid while the model is. */
GORAI_TORCH_EXPORT int gorai_torch_model_num_inputs(void *model);
GORAI_TORCH_EXPORT const char *gorai_torch_model_input_name(void *model, int i);
/* The number of tensors forward returns by its schema: Tensor 1, a Tuple its Tensor members, a List its
 * declared length; -1 when the schema does not say (a List of unknown length). */
GORAI_TORCH_EXPORT int gorai_torch_model_num_outputs(void *model);
/* Runs forward on ninputs tensors under c10::InferenceMode. Its result (a Tensor, or the Tensors of a
 * Tuple or List, flattened one level; None is no tensor) must be exactly noutputs tensors. Each is made
 * contiguous on the CPU and copied into memory from alloc, in order. Returns noutputs, or -1 and *err.
 * After a failure alloc may have been called for some outputs: the caller frees what it gave. */
GORAI_TORCH_EXPORT int gorai_torch_model_run(void *model, int ninputs, const gorai_torch_tensor *inputs,
                                             int noutputs, gorai_torch_alloc_fn alloc, void *ctx, char **err);
GORAI_TORCH_EXPORT void gorai_torch_model_free(void *model);

#ifdef __cplusplus
}
#endif

#endif
