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

#ifndef GORAI_BUILD_ID
#define GORAI_BUILD_ID "unset"
#endif
const char *gorai_build_id(void) { return GORAI_BUILD_ID; }

static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER;
static gorai_go_library library;
static const gorai_go_library *loaded; /* &library once initialised; read without the mutex */
static int failed;
static char *path, *module_dir;
/* The module's arguments, kept from the load for goraiInit. */
static char **args;
static size_t *arg_lens;
static int nargs;

/* beside is a new string, the path of name in the folder of file: NULL without memory. */
static char *beside(const char *file, const char *name) {
    const char *slash = strrchr(file, '/');
    size_t dirlen = slash != NULL ? (size_t)(slash - file) : 1;
    char *p = malloc(dirlen + strlen(name) + 2);
    if (p == NULL) return NULL;
    memcpy(p, slash != NULL ? file : ".", dirlen);
    p[dirlen] = 0;
    if (*name != 0) sprintf(p + dirlen, "/%s", name);
    return p;
}

/* absolute is a new string, path made absolute against the working directory (links are kept: the
 * backends are looked for beside the path Redis was given), so that a later change of directory
 * (CONFIG SET dir) changes neither where the library nor where the backends are. */
static char *absolute(const char *path) {
    if (path[0] == '/') return strdup(path);
    char *cwd = getcwd(NULL, 0);
    char *p = cwd != NULL ? malloc(strlen(cwd) + strlen(path) + 2) : NULL;
    if (p != NULL) sprintf(p, "%s/%s", cwd, path);
    free(cwd);
    return p;
}

/* find_library is the library beside the module's file, or beside the file a link to it names
 * (a link to build/gorai.so finds its gorai_go.so); NULL, logged, when neither is there. */
static char *find_library(RedisModuleCtx *ctx, const char *module) {
    char *p = beside(module, GORAI_GO_FILE);
    if (p != NULL && access(p, R_OK) == 0) return p;
    char *real = realpath(module, NULL);
    char *q = real != NULL ? beside(real, GORAI_GO_FILE) : NULL;
    free(real);
    if (q != NULL && access(q, R_OK) == 0) {
        free(p);
        return q;
    }
    RedisModule_Log(ctx, "warning", "gorai: %s is missing: it must be beside the module's file", p != NULL ? p : GORAI_GO_FILE);
    free(p);
    free(q);
    return NULL;
}

/* forget_arguments frees what a load before this one (refused: MODULE LOAD) kept. */
static void forget_arguments(void) {
    for (int i = 0; i < nargs; i++) free(args[i]);
    free(args);
    free(arg_lens);
    free(path);
    free(module_dir);
    args = NULL, arg_lens = NULL, path = NULL, module_dir = NULL;
    nargs = 0;
}

int gorai_go_prepare(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    /* A MODULE LOAD refused by the library (a key that names no backend) leaves it loaded, and this
     * file's state with it: the next load starts afresh, and may initialise it again. */
    forget_arguments();
    failed = 0;
    char *module = absolute(gorai_module_path());
    if (module == NULL) return REDISMODULE_ERR;
    path = find_library(ctx, module);
    module_dir = beside(module, "");
    free(module);
    if (path == NULL || module_dir == NULL) return REDISMODULE_ERR;
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
