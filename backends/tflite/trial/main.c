/* gorai-tflite-trial LIBRARY: the TFLITE backend's trial program (../../trial.h, ../trial.go). Each model is
 * loaded with LiteRT's library and run once on zeros of its inputs' shapes: LiteRT does not verify a
 * flatbuffer fully, and a damaged one can crash it (a segmentation fault while compiling, measured with one
 * byte changed) or make it allocate gigabytes when it runs.
 *
 * A model is taken when it loaded and ran; refused, with LiteRT's message, when LiteRT refused it or its run
 * failed: a model that cannot run on its own inputs' shapes within the cap is damaged (LiteRT fails the run of
 * one that would allocate gigabytes in Redis with "Failed to allocate tensors" under the cap, or throws), and
 * it is not stored. */
#include "trial.h"

#include "../loader.h"

static int try_model(const char *blob, size_t len) {
    char *err = NULL;
    gorai_tfl_model *m = gorai_tfl_model_new(blob, len, &err);
    if (m == NULL) return gorai_trial_refuse("TFLITE", "model", err);
    if (gorai_tfl_model_trial(m, &err) != 0) {
        printf("ERR TFLITE model failed to run on zeros of its inputs' shapes, within " GORAI_TRIAL_ROOM
               ", when tried in a process of its own: %s\n",
               err ? err : "out of memory");
        return GORAI_TRIAL_REFUSED;
    }
    return GORAI_TRIAL_TAKEN;
}

int main(int argc, char **argv) { return gorai_trial_main(argc, argv, gorai_tfl_open, try_model); }
