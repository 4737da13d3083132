/* gorai-torch-trial SHIM: the TORCH backend's trial program (../../trial.h, ../trial.go). Each model is loaded
 * with gorai's libtorch shim: libtorch trusts an archive's pickles, and one byte changed in a model's data.pkl
 * (its CRC-32 made again) made it allocate until the kernel killed Redis (24 GB in 57 s). TorchScript does
 * not say its inputs' shapes, so the model is not run. A model is taken when it loaded; refused, with
 * libtorch's message, when it did not (out of the capped memory included). */
#include "trial.h"

#include "../../dlopen.h"
#include "../shim/torch_shim.h"

static void *(*load)(const void *, size_t, int, int, char **);
static int (*set_threads)(int, int, char **);

static int open_shim(const char *path, char *err, size_t n) {
    gorai_symbol syms[] = {
        {"gorai_torch_model_load", (void **)&load},
        {"gorai_torch_set_threads", (void **)&set_threads},
    };
    if (gorai_dlopen_symbols(path, syms, sizeof syms / sizeof syms[0], "is not gorai's torch shim", err, n) == NULL)
        return -1;
    char *e = NULL;
    set_threads(1, 1, &e); /* one thread each: a trial only loads */
    free(e);
    return 0;
}

static int try_model(const char *blob, size_t len) {
    char *err = NULL;
    return load(blob, len, 0, -1, &err) == NULL ? gorai_trial_refuse("TORCH", err) : GORAI_TRIAL_TAKEN;
}

int main(int argc, char **argv) { return gorai_trial_main(argc, argv, open_shim, try_model); }
