/* torch_shim: the C API of gorai's libtorch shim (libgorai_torch.so), built from shim/torch_shim.cpp by
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
#define GORAI_TORCH_ABI 4

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
/* Refuses a model whose code calls torch.from_file (it maps a file of the server by name): 0, or -1 and *err. */
GORAI_TORCH_EXPORT int gorai_torch_model_check_files(void *model, char **err);
GORAI_TORCH_EXPORT void gorai_torch_model_free(void *model);

/* ---- Scripts: TorchScript source compiled into a compilation unit (RedisAI's AI.SCRIPTSTORE / SCRIPTSET). ----
 * Lists of strings (entry points, KEYS, ARGS) are passed as one buffer holding the strings one after another
 * (data) and their lengths (lens, n of them): binary safe, and no pointers to chase. */

/* Compiles source (len bytes; its common leading indentation removed first, as Python's textwrap.dedent does,
 * so an indented nested def from inspect.getsource compiles) for the CPU (gpu == 0) or CUDA device device_id
 * (gpu != 0; -1: the current device). The names redis and redisAI resolve to the Redis extension below, torch to
 * ATen. Each of the nentry entry points must exist with the signature (List[Tensor], List[str], List[str]);
 * errors (no ERR prefix, RedisAI's texts): "Function <fn> does not exist in the given script.",
 * "Wrong number of inputs in function <fn>. Expected 3 but was <n>", "Wrong inputs type in function <fn>.
 * Expected signature similar to: def <fn>(tensors: List[Tensor], keys: List[str], args: List[str])"; a compile
 * error is TorchScript's message on one line. The handle, or NULL and *err. */
GORAI_TORCH_EXPORT void *gorai_torch_script_compile(const char *source, size_t len, int gpu, int device_id,
                                                    const char *entry_data, const size_t *entry_lens, int nentry,
                                                    char **err);
/* Runs function fn (fnlen bytes). An entry point gets [List[Tensor] inputs, List[str] keys, List[str] args]; any
 * other function (RedisAI's legacy calling) gets the inputs positionally: a Tensor parameter takes one input, a
 * List[Tensor] parameter (the last) takes the rest; errors "Function does not exist: <fn>", "Wrong number of inputs
 * provided to function: <fn>" (more parameters than inputs), "Unsupported input type in function definition:
 * <fn>". Runs under c10::InferenceMode. The result (a Tensor, or the Tensors of a Tuple or List) must be exactly
 * noutputs tensors ("Function returned unexpected number of outputs - <fn>"; anything else is "Function returned
 * non-tensor values<fn>", sic); noutputs 0 ignores it. Outputs go through alloc as for gorai_torch_model_run.
 * Returns noutputs, or -1 and *err. */
GORAI_TORCH_EXPORT int gorai_torch_script_run(void *script, const char *fn, size_t fnlen, int ninputs,
                                              const gorai_torch_tensor *inputs, const char *key_data,
                                              const size_t *key_lens, int nkeys, const char *arg_data,
                                              const size_t *arg_lens, int nargs, int noutputs,
                                              gorai_torch_alloc_fn alloc, void *ctx, char **err);
/* As gorai_torch_model_check_files, for a script. */
GORAI_TORCH_EXPORT int gorai_torch_script_check_files(void *script, char **err);
GORAI_TORCH_EXPORT void gorai_torch_script_free(void *script);

/* Loads a small model of its own and compiles a small script, so that what libtorch builds at its first load and
 * compile is built: a trial program (trial/main.c) does it once, before it forks a child per trial, which then
 * loads a TorchScript archive in about a third of the time. 0, or -1 and *err. */
GORAI_TORCH_EXPORT int gorai_torch_warm_up(char **err);

/* ---- The Redis extension: TorchScript builtins that scripts call, served by the module. ----
 *   redis.execute(cmd: str, args: List[str]) -> Any   (also redis.execute("SET", key, value): extra positional
 *                                                       str arguments are packed into args)
 *   redis.asList(x: Any) -> List[Any]
 *   redisAI.model_execute(model_key: str, inputs: List[Tensor], num_outputs: int) -> List[Tensor]
 * They are registered as operators redis::execute, redis::asList and redisAI::model_execute when the shim is
 * loaded, and call the functions below, which the module sets with gorai_torch_set_callbacks. They run on the
 * thread of the script's run, possibly on many threads at once. */

/* A Redis reply as redis.execute returns it: NIL -> None, STRING (bulk or status) -> str, INT -> int,
 * ARRAY -> List[Any] of its elements. */
enum { GORAI_TORCH_REPLY_NIL = 0, GORAI_TORCH_REPLY_STRING = 1, GORAI_TORCH_REPLY_INT = 2, GORAI_TORCH_REPLY_ARRAY = 3 };
typedef struct gorai_torch_reply {
    int type;
    int64_t integer;                   /* INT */
    char *str;                         /* STRING: len bytes */
    size_t len;
    struct gorai_torch_reply *elements; /* ARRAY: n elements */
    size_t n;
} gorai_torch_reply;

/* Runs Redis command cmd with argc arguments (argv[i] is argvlen[i] bytes, valid during the call). Returns 0
 * with the reply in *reply, or -1 with *err: the command's error reply, or why it could not run (the script
 * gets "Redis command returned an error: <err>"). *reply is zeroed before the call; whatever the callback puts
 * in it (str and elements, recursively) and *err must be allocated with malloc: the shim frees them with free
 * whatever the callback returns. */
typedef int (*gorai_torch_execute_fn)(const char *cmd, size_t cmdlen, const char *const *argv,
                                      const size_t *argvlen, int argc, gorai_torch_reply *reply, char **err);
/* Runs the model stored at key (keylen bytes) on ninputs tensors (contiguous CPU memory, valid during the call)
 * for noutputs outputs. Returns 0 having filled outputs[0..noutputs) with tensors whose data and shape stay
 * valid until release(owners[i]) is called (the shim wraps them without a copy and calls release when torch
 * frees them, on any thread); or -1 and *err (malloc'd, freed by the shim), the text the script raises. */
typedef int (*gorai_torch_model_execute_fn)(const char *key, size_t keylen, const gorai_torch_tensor *inputs,
                                            int ninputs, int noutputs, gorai_torch_tensor *outputs, void **owners,
                                            char **err);
typedef void (*gorai_torch_release_fn)(void *owner);

/* Sets the extension's callbacks (process-wide; NULL: the builtin fails with "... is not available"). */
GORAI_TORCH_EXPORT void gorai_torch_set_callbacks(gorai_torch_execute_fn execute,
                                                  gorai_torch_model_execute_fn model_execute,
                                                  gorai_torch_release_fn release);

#ifdef __cplusplus
}
#endif

#endif
