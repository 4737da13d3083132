/* gorai-torch-trial SHIM: the TORCH backend's trial program (../../trial.h, ../trial.go). A blob is a model
 * ('M' then the archive), loaded with gorai's libtorch shim, or a script ('S' then its source), compiled:
 * libtorch trusts an archive's pickles, and one byte changed in a model's data.pkl (its CRC-32 made again)
 * made it allocate until the kernel killed Redis (24 GB in 57 s); and TorchScript's parser recurses with the
 * source's nesting, so that 20,000 nested parentheses overflowed Redis' stack. TorchScript does not say a
 * model's inputs' shapes, so models are not run; a script is compiled without its entry points, which are
 * checked in Redis after the same compilation. A blob is taken when it loaded or compiled; refused, with
 * libtorch's message, when it did not (out of the capped memory included). */
#include "trial.h"

#include "../../dlopen.h"
#include "../torch_shim.h"

static void *(*load)(const void *, size_t, int, int, char **);
static void *(*compile)(const char *, size_t, int, int, const char *, const size_t *, int, char **);
static int (*set_threads)(int, int, char **);
static int (*warm_up)(char **);

static int open_shim(const char *path, char *err, size_t n) {
    gorai_symbol syms[] = {
        {"gorai_torch_model_load", (void **)&load},
        {"gorai_torch_set_threads", (void **)&set_threads},
        {"gorai_torch_script_compile", (void **)&compile},
        {"gorai_torch_warm_up", (void **)&warm_up},
    };
    if (gorai_dlopen_symbols(path, syms, sizeof syms / sizeof syms[0], "is not gorai's torch shim", err, n) == NULL)
        return -1;
    char *e = NULL;
    set_threads(1, 1, &e); /* one thread each: a trial only loads */
    free(e);
    /* What libtorch builds at its first load and compile is built here, once, rather than in every child
     * (a trial then takes a third of the time); a libtorch that cannot load a model it saved itself would
     * refuse every trial anyway, so it is said once, here. */
    e = NULL;
    if (warm_up(&e) != 0) {
        snprintf(err, n, "libtorch could not load a small model of gorai's own: %s", e ? e : "unknown error");
        free(e);
        return -1;
    }
    return 0;
}

static int try_blob(const char *blob, size_t len) {
    char *err = NULL;
    if (len > 0 && blob[0] == 'M')
        return load(blob + 1, len - 1, 0, -1, &err) ? GORAI_TRIAL_TAKEN : gorai_trial_refuse("TORCH", "model", err);
    if (len > 0 && blob[0] == 'S')
        return compile(blob + 1, len - 1, 0, -1, NULL, NULL, 0, &err) ? GORAI_TRIAL_TAKEN
                                                                      : gorai_trial_refuse("TORCH", "script", err);
    return GORAI_TRIAL_USAGE;
}

int main(int argc, char **argv) { return gorai_trial_main(argc, argv, open_shim, try_blob); }
