#include "load_args.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* The integer settings: name, smallest and largest value, field. */
typedef struct integer_setting {
    const char *name;
    long long min, max;
    size_t offset;
} integer_setting;

/* MAX_THREADS bounds the thread counts: each queue's workers are threads, and so are the runtimes' pools;
 * THREADS_PER_QUEUE 100000 was taken, and Go ended the process at its 10,000-thread limit as the workers
 * started (a stack dump of a million lines in the log). */
#define MAX_THREADS 1024
#define FIELD(f) offsetof(gorai_settings, f)
static const integer_setting integers[] = {
    {"THREADS_PER_QUEUE", 1, MAX_THREADS, FIELD(threads_per_queue)},
    {"INTRA_OP_PARALLELISM", 1, MAX_THREADS, FIELD(intra_op_parallelism)},
    {"INTER_OP_PARALLELISM", 1, MAX_THREADS, FIELD(inter_op_parallelism)},
    {"MODEL_CHUNK_SIZE", 1, LLONG_MAX, FIELD(model_chunk_size)},
    {"MODEL_EXECUTION_TIMEOUT", 1000, LLONG_MAX, FIELD(model_execution_timeout)},
    {"BACKEND_MEMORY_LIMIT", 1, LLONG_MAX, FIELD(backend_memory_limit)},
    {"MAIN_THREAD_RUN_LIMIT", 0, LLONG_MAX, FIELD(main_thread_run_limit)},
};
enum { NUM_INTEGERS = sizeof integers / sizeof integers[0] };

static int named(const char *s, size_t len, const char *name) {
    return len == strlen(name) && strncasecmp(s, name, len) == 0;
}

static const integer_setting *integer_named(const char *key, size_t len) {
    for (int i = 0; i < NUM_INTEGERS; i++)
        if (named(key, len, integers[i].name)) return &integers[i];
    return NULL;
}

void gorai_settings_default(gorai_settings *s) {
    *s = (gorai_settings){
        .threads_per_queue = 1,
        .model_chunk_size = 511 * 1024 * 1024,
        .model_execution_timeout = 5000,
        .main_thread_run_limit = 100,
        .preload_backends = 1,
        .backends_path = -1,
    };
}

int gorai_is_setting(const char *key, size_t len) {
    return named(key, len, "BACKENDSPATH") || named(key, len, "PRELOAD_BACKENDS") || integer_named(key, len) != NULL;
}

/* apply sets one setting but BACKENDSPATH (an index, see gorai_parse_load_args): 0 when its value is
 * refused. */
static int apply(gorai_settings *s, const char *key, size_t klen, const char *val, size_t vlen) {
    const integer_setting *in = integer_named(key, klen);
    if (in != NULL) {
        long long v;
        if (!gorai_parse_int(val, vlen, &v) || v < in->min || v > in->max) return 0;
        *(long long *)((char *)s + in->offset) = v;
        return 1;
    }
    if (named(key, klen, "PRELOAD_BACKENDS")) {
        if (named(val, vlen, "yes"))
            s->preload_backends = 1;
        else if (named(val, vlen, "no"))
            s->preload_backends = 0;
        else
            return 0;
        return 1;
    }
    s->other_keys++;
    return 1;
}

int gorai_parse_load_args(const char *const *args, const size_t *lens, int n, gorai_settings *s) {
    gorai_settings_default(s);
    if (n % 2 != 0) return n;
    for (int i = 0; i < n; i += 2) {
        if (named(args[i], lens[i], "BACKENDSPATH"))
            s->backends_path = i + 1;
        else if (!apply(s, args[i], lens[i], args[i + 1], lens[i + 1]))
            return i;
    }
    return -1;
}

void gorai_load_args_error(char *buf, size_t cap, const char *const *args, const size_t *lens, int n, int bad) {
    if (bad >= n || bad < 0) {
        snprintf(buf, cap, "ERR even number of arguments required for the module's load-time configuration, got %d", n);
        return;
    }
    snprintf(buf, cap, "ERR error processing argument: %.*s %.*s", (int)lens[bad], args[bad], (int)lens[bad + 1],
             args[bad + 1]);
}
