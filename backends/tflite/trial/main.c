/* gorai-tflite-trial LIBRARY: the TFLITE backend's trial program (../../trial.h, ../trial.go). LiteRT does not
 * verify a flatbuffer fully, and a damaged one can crash it (a segmentation fault while compiling, measured with
 * one byte changed) or make it allocate gigabytes when it runs. Two kinds of trial, by the blob's first byte:
 *
 * 'M' then the model: loaded and run once on zeros of its inputs' shapes, and once more on ones when a kernel
 * refused the zeros' values (a division of integers by zero; not for memory). Taken when it loaded and ran;
 * refused, with LiteRT's message, when LiteRT refused it or its run failed: a model that cannot run on its own
 * inputs' shapes within the cap is damaged (LiteRT fails the run of one that would allocate gigabytes in Redis
 * with "Failed to allocate tensors" under the cap, or throws), and it is not stored.
 *
 * 'R', the shapes of a run (4 bytes little-endian: the number of inputs; for each, 4 bytes of rank and that
 * many 8-byte dims), then the model: run once on zeros of those shapes (then ones, as above), within the memory
 * the machine has left, before Redis runs it so. LiteRT sizes every tensor from the inputs' shapes, so a small
 * model run on a larger input than it was tried on (a Tile of its input, say) can ask for more than the machine
 * holds, which Redis' allocator hands out unreserved and the kernel then kills Redis for. */
#include "trial.h"

#include "../loader.h"
#include "memory.h"

/* ran_short says whether a failed trial's allocation was refused by the cap (malloc's ENOMEM, new's bad_alloc). */
static int ran_short(const char *err) {
    return errno == ENOMEM || (err != NULL && strstr(err, "bad_alloc") != NULL);
}

/* trial runs the model on zeros of the shapes (NULL: its compiled ones), then on ones when its kernels failed on
 * the zeros: a kernel may refuse the zeros' values (a division of integers by zero), and a model is judged by a
 * run all its kernels made. errno cannot tell that refusal from a refused allocation: LiteRT's run leaves ENOMEM
 * behind after a division by zero too. A run short of memory on zeros is short of it on ones. *ones says
 * whether it came to ones. */
static int trial(gorai_tfl_model *m, const int64_t *dims, const int *ranks, int *ones, char **err) {
    errno = 0;
    *ones = 0;
    int rc = gorai_tfl_model_trial(m, dims, ranks, 0, err);
    if (rc != GORAI_TFL_KERNEL_FAILED) return rc;
    free(*err);
    *err = NULL;
    errno = 0;
    *ones = 1;
    return gorai_tfl_model_trial(m, dims, ranks, 1, err);
}

static int try_model(const char *blob, size_t len) {
    char *err = NULL;
    gorai_tfl_model *m = gorai_tfl_model_new(blob, len, &err);
    if (m == NULL) return gorai_trial_refuse("TFLITE", "model", err);
    int ones;
    if (trial(m, NULL, NULL, &ones, &err) != 0) {
        printf("ERR TFLITE model failed to run on %s of its inputs' shapes, within " GORAI_TRIAL_ROOM
               ", when tried in a process of its own: %s\n",
               ones ? "zeros, nor on ones," : "zeros", err ? err : "out of memory");
        return GORAI_TRIAL_REFUSED;
    }
    return GORAI_TRIAL_TAKEN;
}

/* take reads n bytes from *p, which has *left bytes, into out. */
static int take(const char **p, size_t *left, void *out, size_t n) {
    if (*left < n) return -1;
    memcpy(out, *p, n);
    *p += n;
    *left -= n;
    return 0;
}

static int try_run(const char *blob, size_t len) {
    uint32_t n;
    if (take(&blob, &len, &n, sizeof n) != 0 || n > 4096) return GORAI_TRIAL_USAGE;
    int ranks[n ? n : 1];
    int64_t dims[n ? n : 1][GORAI_TFL_MAX_RANK];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t rank;
        if (take(&blob, &len, &rank, sizeof rank) != 0 || rank > GORAI_TFL_MAX_RANK ||
            take(&blob, &len, dims[i], rank * sizeof(int64_t)) != 0) {
            return GORAI_TRIAL_USAGE;
        }
        ranks[i] = (int)rank;
    }
    uint64_t left = gorai_memory_left();
    if (left > 0) gorai_trial_cap_room((size_t)left);
    char *err = NULL;
    gorai_tfl_model *m = gorai_tfl_model_new(blob, len, &err);
    if (m == NULL) return gorai_trial_refuse("TFLITE", "model", err);
    if (gorai_tfl_model_ninputs(m) != (int)n) return GORAI_TRIAL_USAGE;
    int ones;
    if (trial(m, &dims[0][0], ranks, &ones, &err) != 0) {
        /* A run refused for its shapes (inputs whose batches differ) leaves no ENOMEM (LiteRT refuses them before
         * it allocates) and is answered in LiteRT's words, as Redis' run of it is; an allocation the cap refused
         * leaves ENOMEM (malloc's, new's bad_alloc), and so may a kernel's failure on both zeros and ones. */
        if (!ran_short(err)) {
            printf("%s\n", err);
            return GORAI_TRIAL_REFUSED;
        }
        printf("ERR TFLITE model failed to run on %s of these inputs' shapes within the %llu bytes of memory "
               "left, when tried in a process of its own: %s\n",
               ones ? "zeros, nor on ones," : "zeros", (unsigned long long)left, err ? err : "out of memory");
        return GORAI_TRIAL_REFUSED;
    }
    return GORAI_TRIAL_TAKEN;
}

static int try_blob(const char *blob, size_t len) {
    if (len > 0 && blob[0] == 'M') return try_model(blob + 1, len - 1);
    if (len > 0 && blob[0] == 'R') return try_run(blob + 1, len - 1);
    printf("ERR unknown trial\n");
    return GORAI_TRIAL_USAGE;
}

int main(int argc, char **argv) {
    gorai_memory_ignore_address_limit();
    return gorai_trial_main(argc, argv, gorai_tfl_open, try_blob);
}
