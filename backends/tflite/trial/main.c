/* gorai-tflite-trial LIBRARY < MODEL: loads a .tflite model with LiteRT's library at LIBRARY and runs it once
 * on zeros, in a process of its own. LiteRT does not verify a flatbuffer fully, and a damaged one can crash it
 * (a segmentation fault while compiling, measured with a few bytes changed); the TFLITE backend runs this
 * before it loads a model a client sent (../trial.go), so that such a model crashes this and not Redis.
 *
 * Exit status: 0 it loaded (its run may have failed: the message is on stdout, and the model is stored, as
 * RedisAI stores a model whose runs fail); 1 LiteRT refused it, its message on stdout (the model's store
 * fails with it); 2 usage, or the library or the input could not be read. A signal: it crashed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../loader.h"

/* read_all reads standard input into a malloc'd buffer. */
static char *read_all(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap) break;
        char *bigger = realloc(buf, cap *= 2);
        if (bigger == NULL) free(buf);
        buf = bigger;
    }
    if (buf == NULL || ferror(stdin)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    closefrom(3); /* what Redis leaves open across exec (its AOF file) is not this program's */
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY < MODEL\n", argv[0]);
        return 2;
    }
    char msg[1024];
    if (gorai_tfl_open(argv[1], msg, sizeof msg) != 0) {
        printf("%s\n", msg);
        return 2;
    }
    size_t len;
    char *blob = read_all(&len);
    if (blob == NULL) {
        printf("cannot read the model from standard input\n");
        return 2;
    }
    char *err = NULL;
    gorai_tfl_model *m = gorai_tfl_model_new(blob, len, &err);
    free(blob);
    if (m == NULL) {
        printf("%s\n", err ? err : "ERR out of memory");
        return 1;
    }
    if (gorai_tfl_model_trial(m, &err) != 0) printf("%s\n", err ? err : "ERR out of memory");
    gorai_tfl_model_free(m);
    return 0;
}
