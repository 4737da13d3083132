/* The Go package's view of the libtorch shim: the shim is opened with dlopen and its functions are
 * resolved into a table (as RedisAI's backends.c does), so gorai has no link-time dependency on libtorch.
 * Go cannot call C function pointers: these wrappers call through the table. */
#ifndef GORAI_TORCH_LOADER_H
#define GORAI_TORCH_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "torch_shim.h"

/* gorai_torch_open opens the shim at path once per process; 0, or -1 with a message in err. */
int gorai_torch_open(const char *path, char *err, size_t errlen);

const char *gorai_torch_lib_version(void);
int gorai_torch_lib_cuda_available(void);
void gorai_torch_lib_free_string(char *s);
int gorai_torch_lib_set_threads(int inter_op, int intra_op, char **err);
void *gorai_torch_lib_model_load(const void *blob, size_t len, int gpu, int device_id, char **err);
int gorai_torch_lib_model_num_inputs(void *model);
const char *gorai_torch_lib_model_input_name(void *model, int i);
int gorai_torch_lib_model_num_outputs(void *model);
/* Runs the model with outputs allocated by Go (goraiTorchAlloc); run is a cgo.Handle of the Go run. 0, or -1
 * with the error in *err. */
int gorai_torch_lib_model_run(void *model, int ninputs, const gorai_torch_tensor *inputs, int noutputs,
                              uintptr_t run, char **err);
int gorai_torch_lib_model_check_files(void *model, char **err);
void gorai_torch_lib_model_free(void *model);
void *gorai_torch_lib_script_compile(const char *source, size_t len, int gpu, int device_id, const char *entry_data,
                                     const size_t *entry_lens, int nentry, char **err);
/* Runs a script function with outputs allocated by Go, as gorai_torch_lib_model_run. */
int gorai_torch_lib_script_run(void *script, const char *fn, size_t fnlen, int ninputs,
                               const gorai_torch_tensor *inputs, const char *key_data, const size_t *key_lens,
                               int nkeys, const char *arg_data, const size_t *arg_lens, int nargs, int noutputs,
                               uintptr_t run, char **err);
int gorai_torch_lib_script_check_files(void *script, char **err);
void gorai_torch_lib_script_free(void *script);

#endif
