/* The grammar of the module's load-time arguments ("KEY VALUE ..." after --loadmodule's path): in C,
 * so that the module refuses a bad setting at load without starting the Go runtime, which it loads at
 * first need (module/go_library.c). Go's ParseLoadArgs calls this same code. Arguments are (pointer,
 * length) pairs, not NUL-terminated. */
#ifndef GORAI_LOAD_ARGS_H
#define GORAI_LOAD_ARGS_H

#include <stddef.h>

typedef struct gorai_settings {
    long long threads_per_queue;
    long long intra_op_parallelism; /* 0: the backend's default */
    long long inter_op_parallelism; /* 0: the backend's default */
    long long model_chunk_size;
    long long model_execution_timeout; /* ms, ONNX only */
    long long backend_memory_limit;    /* MB, ONNX only; 0: unlimited */
    long long main_thread_run_limit;   /* µs; 0: never */
    int preload_backends;
    /* the index of BACKENDSPATH's value in the arguments; -1 when not given */
    int backends_path;
    /* the pairs whose key names no setting: a backend to load at start (Go knows their names), or
     * a mistake that Go reports */
    int other_keys;
} gorai_settings;

/* gorai_settings_default is the settings of a module loaded without arguments. */
void gorai_settings_default(gorai_settings *s);

/* gorai_parse_load_args applies the n arguments to *s (which it sets to the defaults first). It
 * returns -1 when they are good; otherwise the index of the key whose value is refused, or n for an
 * odd count: gorai_load_args_error words it. A key that names no setting is counted in other_keys. */
int gorai_parse_load_args(const char *const *args, const size_t *lens, int n, gorai_settings *s);

/* gorai_is_setting reports whether key names a setting (case-insensitively). */
int gorai_is_setting(const char *key, size_t len);

/* gorai_load_args_error writes into buf (cap bytes, NUL-terminated) the line RedisAI logs before
 * refusing to load, for the refusal bad that gorai_parse_load_args returned. */
void gorai_load_args_error(char *buf, size_t cap, const char *const *args, const size_t *lens, int n, int bad);

#endif
