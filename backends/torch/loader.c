#include "loader.h"

#include "_cgo_export.h" /* goraiTorchAlloc (alloc.go); goraiTorchExecute, goraiTorchModelExecute, goraiTorchRelease (redis.go) */

#include "dlopen.h"
#include <stdio.h>
#include <string.h>

/* The shim's functions. Filled once by gorai_torch_open (under the Go side's lock), read-only after. */
static struct {
    int (*abi)(void);
    const char *(*version)(void);
    int (*cuda_available)(void);
    void (*free_string)(char *);
    int (*set_threads)(int, int, char **);
    void *(*model_load)(const void *, size_t, int, int, char **);
    int (*model_num_inputs)(void *);
    const char *(*model_input_name)(void *, int);
    int (*model_num_outputs)(void *);
    int (*model_run)(void *, int, const gorai_torch_tensor *, int, gorai_torch_alloc_fn, void *, char **);
    int (*model_check_files)(void *, char **);
    void (*model_free)(void *);
    void *(*script_compile)(const char *, size_t, int, int, const char *, const size_t *, int, char **);
    int (*script_run)(void *, const char *, size_t, int, const gorai_torch_tensor *, const char *, const size_t *, int,
                      const char *, const size_t *, int, int, gorai_torch_alloc_fn, void *, char **);
    int (*script_check_files)(void *, char **);
    void (*script_free)(void *);
    void (*set_callbacks)(gorai_torch_execute_fn, gorai_torch_model_execute_fn, gorai_torch_release_fn);
} lib;

/* The script run this thread is in, which the Redis extension's callbacks act for (as its user): the
 * shim runs a function on the thread that calls it, so its callbacks come on that thread. The shim's
 * callbacks carry no run, and this keeps the shim as it is; a callback from a thread TorchScript
 * forked finds 0, and Go refuses it. */
static __thread uintptr_t current_run;

/* The Redis extension's callbacks: the shim's signatures (const) over the Go exports (cgo drops const). */
static int execute_cb(const char *cmd, size_t cmdlen, const char *const *argv, const size_t *argvlen, int argc,
                      gorai_torch_reply *reply, char **err) {
    return goraiTorchExecute(current_run, (char *)cmd, cmdlen, (char **)argv, (size_t *)argvlen, argc, reply, err);
}
static int model_execute_cb(const char *key, size_t keylen, const gorai_torch_tensor *inputs, int ninputs,
                            int noutputs, gorai_torch_tensor *outputs, void **owners, char **err) {
    return goraiTorchModelExecute(current_run, (char *)key, keylen, (gorai_torch_tensor *)inputs, ninputs, noutputs,
                                  outputs, owners, err);
}
static void release_cb(void *owner) { goraiTorchRelease(owner); }

int gorai_torch_open(const char *path, char *err, size_t errlen) {
    gorai_symbol syms[] = {
        {"gorai_torch_abi", (void **)&lib.abi},
        {"gorai_torch_version", (void **)&lib.version},
        {"gorai_torch_cuda_available", (void **)&lib.cuda_available},
        {"gorai_torch_free_string", (void **)&lib.free_string},
        {"gorai_torch_set_threads", (void **)&lib.set_threads},
        {"gorai_torch_model_load", (void **)&lib.model_load},
        {"gorai_torch_model_num_inputs", (void **)&lib.model_num_inputs},
        {"gorai_torch_model_input_name", (void **)&lib.model_input_name},
        {"gorai_torch_model_num_outputs", (void **)&lib.model_num_outputs},
        {"gorai_torch_model_run", (void **)&lib.model_run},
        {"gorai_torch_model_check_files", (void **)&lib.model_check_files},
        {"gorai_torch_model_free", (void **)&lib.model_free},
        {"gorai_torch_script_compile", (void **)&lib.script_compile},
        {"gorai_torch_script_run", (void **)&lib.script_run},
        {"gorai_torch_script_check_files", (void **)&lib.script_check_files},
        {"gorai_torch_script_free", (void **)&lib.script_free},
        {"gorai_torch_set_callbacks", (void **)&lib.set_callbacks},
    };
    void *h = gorai_dlopen_symbols(path, syms, sizeof syms / sizeof syms[0], "is not gorai's torch shim", err, errlen);
    if (h == NULL) return -1;
    int abi = lib.abi();
    if (abi != GORAI_TORCH_ABI) {
        snprintf(err, errlen, "%s has shim API version %d, this gorai needs %d: rebuild it", path, abi, GORAI_TORCH_ABI);
        memset(&lib, 0, sizeof lib);
        dlclose(h);
        return -1;
    }
    /* The Redis extension calls into Go (redis.go), which serves it with the module's hooks when they are set. */
    lib.set_callbacks(execute_cb, model_execute_cb, release_cb);
    /* The handle is never closed: models and libtorch's threads live as long as the process. */
    return 0;
}

const char *gorai_torch_lib_version(void) { return lib.version(); }
int gorai_torch_lib_cuda_available(void) { return lib.cuda_available(); }
void gorai_torch_lib_free_string(char *s) { lib.free_string(s); }
int gorai_torch_lib_set_threads(int inter_op, int intra_op, char **err) { return lib.set_threads(inter_op, intra_op, err); }
void *gorai_torch_lib_model_load(const void *blob, size_t len, int gpu, int device_id, char **err) {
    return lib.model_load(blob, len, gpu, device_id, err);
}
int gorai_torch_lib_model_num_inputs(void *model) { return lib.model_num_inputs(model); }
const char *gorai_torch_lib_model_input_name(void *model, int i) { return lib.model_input_name(model, i); }
int gorai_torch_lib_model_num_outputs(void *model) { return lib.model_num_outputs(model); }
int gorai_torch_lib_model_check_files(void *model, char **err) { return lib.model_check_files(model, err); }
void gorai_torch_lib_model_free(void *model) { lib.model_free(model); }

static void *alloc_output(void *ctx, int index, uint8_t code, uint8_t bits, int ndim, const int64_t *shape,
                          size_t nbytes) {
    return goraiTorchAlloc((uintptr_t)ctx, index, code, bits, ndim, (int64_t *)shape, nbytes);
}

int gorai_torch_lib_model_run(void *model, int ninputs, const gorai_torch_tensor *inputs, int noutputs,
                              uintptr_t run, char **err) {
    /* A model run by a script's redisAI.model_execute runs on the script's thread: it is not the script, and its
     * calls into Redis are refused as a model's are (a model calling itself so recursed until the stack
     * overflowed). */
    uintptr_t outer = current_run;
    current_run = 0;
    int rc = lib.model_run(model, ninputs, inputs, noutputs, alloc_output, (void *)run, err);
    current_run = outer;
    return rc;
}

void *gorai_torch_lib_script_compile(const char *source, size_t len, int gpu, int device_id, const char *entry_data,
                                     const size_t *entry_lens, int nentry, char **err) {
    return lib.script_compile(source, len, gpu, device_id, entry_data, entry_lens, nentry, err);
}

int gorai_torch_lib_script_run(void *script, const char *fn, size_t fnlen, int ninputs,
                               const gorai_torch_tensor *inputs, const char *key_data, const size_t *key_lens,
                               int nkeys, const char *arg_data, const size_t *arg_lens, int nargs, int noutputs,
                               uintptr_t run, char **err) {
    uintptr_t outer = current_run;
    current_run = run;
    int rc = lib.script_run(script, fn, fnlen, ninputs, inputs, key_data, key_lens, nkeys, arg_data, arg_lens, nargs,
                            noutputs, alloc_output, (void *)run, err);
    current_run = outer;
    return rc;
}

int gorai_torch_lib_script_check_files(void *script, char **err) { return lib.script_check_files(script, err); }
void gorai_torch_lib_script_free(void *script) { lib.script_free(script); }
