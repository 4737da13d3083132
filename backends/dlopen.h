/* Opening a backend's shared library and resolving the functions gorai calls: the same for every
 * backend loaded through a C function table (TF, TORCH). Header-only: each backend's cgo package
 * includes it. */
#ifndef GORAI_DLOPEN_H
#define GORAI_DLOPEN_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

typedef struct gorai_symbol {
    const char *name;
    void **fn;
} gorai_symbol;

/* gorai_dlopen_symbols opens path with RTLD_NOW | RTLD_LOCAL (the library's own dependencies, such as
 * protobuf, stay out of the global namespace, away from Redis, other modules and the other backends)
 * and resolves each symbol into its pointer. On failure it writes why into err (a missing symbol as
 * "<path> <what>: no symbol <name>"), leaves every pointer NULL, closes the library and returns NULL. */
static inline void *gorai_dlopen_symbols(const char *path, const gorai_symbol *syms, size_t n, const char *what,
                                         char *err, size_t errlen) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        snprintf(err, errlen, "%s", e ? e : "dlopen failed");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *syms[i].fn = dlsym(h, syms[i].name);
        if (*syms[i].fn == NULL) {
            snprintf(err, errlen, "%s %s: no symbol %s", path, what, syms[i].name);
            for (size_t j = 0; j < n; j++) *syms[j].fn = NULL;
            dlclose(h);
            return NULL;
        }
    }
    return h;
}

#endif
