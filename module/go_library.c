/* Loading the Go library at first need (go_library.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "go_library.h"

#define GORAI_GO_FILE "gorai_go.so"

static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER;
static gorai_go_library library;
static const gorai_go_library *loaded; /* &library once initialised; read without the mutex */
static int failed;
static char *path, *module_dir;
/* The module's arguments, kept from the load for goraiInit. */
static char **args;
static size_t *arg_lens;
static int nargs;

int gorai_go_prepare(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    const char *module = gorai_module_path();
    const char *slash = strrchr(module, '/');
    size_t dirlen = slash != NULL ? (size_t)(slash - module) : 1;
    module_dir = malloc(dirlen + 1);
    path = malloc(dirlen + sizeof("/" GORAI_GO_FILE));
    if (module_dir == NULL || path == NULL) return REDISMODULE_ERR;
    memcpy(module_dir, slash != NULL ? module : ".", dirlen);
    module_dir[dirlen] = 0;
    sprintf(path, "%s/%s", module_dir, GORAI_GO_FILE);
    if (access(path, R_OK) != 0) {
        RedisModule_Log(ctx, "warning", "gorai: %s is missing: it must be beside the module's file", path);
        return REDISMODULE_ERR;
    }
    args = calloc((size_t)argc + 1, sizeof *args);
    arg_lens = calloc((size_t)argc + 1, sizeof *arg_lens);
    if (args == NULL || arg_lens == NULL) return REDISMODULE_ERR;
    for (int i = 0; i < argc; i++) {
        const char *s = RedisModule_StringPtrLen(argv[i], &arg_lens[i]);
        if ((args[i] = malloc(arg_lens[i] + 1)) == NULL) return REDISMODULE_ERR;
        memcpy(args[i], s, arg_lens[i] + 1);
    }
    nargs = argc;
    return REDISMODULE_OK;
}

/* open_library fills the table from the library and runs goraiInit: 0 when any of it fails. */
static int open_library(void) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    char msg[512];
    if (handle == NULL) {
        snprintf(msg, sizeof msg, "gorai: could not load %s: %s", path, dlerror());
        gorai_log(NULL, "warning", msg);
        return 0;
    }
#define GORAI_GO_LOOKUP(ret, name, params)                                                                             \
    if ((library.name = (ret(*) params)dlsym(handle, #name)) == NULL) {                                               \
        snprintf(msg, sizeof msg, "gorai: %s has no %s: not the library of this module's build", path, #name);        \
        gorai_log(NULL, "warning", msg);                                                                               \
        return 0;                                                                                                      \
    }
    GORAI_GO_CALLS(GORAI_GO_LOOKUP)
#undef GORAI_GO_LOOKUP
    return library.goraiInit(args, arg_lens, nargs, module_dir) == REDISMODULE_OK;
}

const gorai_go_library *gorai_go(void) {
    const gorai_go_library *lib = __atomic_load_n(&loaded, __ATOMIC_ACQUIRE);
    if (lib != NULL) return lib;
    pthread_mutex_lock(&loading);
    if (loaded == NULL && !failed) {
        if (open_library())
            __atomic_store_n(&loaded, &library, __ATOMIC_RELEASE);
        else
            failed = 1;
    }
    lib = loaded;
    pthread_mutex_unlock(&loading);
    return lib;
}

const gorai_go_library *gorai_go_loaded(void) { return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE); }
