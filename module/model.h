/* The stored model: what RDB, AOF and AI.MODELGET need (metadata and the exact blob, in Redis'
 * memory), and a handle to the Go-side session that runs it. */
#ifndef GORAI_MODEL_H
#define GORAI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "redismodule.h"

/* The registered backends by their RDB number (RedisAI's: TF 0, TFLITE 1, TORCH 2, ONNX 3), as Go
 * sets them at load from the registry (module/backends.go): the name (NULL for a number no backend
 * has) and whether AI.MODELSTORE takes the model's INPUTS and OUTPUTS (TF). */
extern const char **gorai_backend_names;
extern unsigned char *gorai_backend_node_names;
extern uint64_t gorai_backend_count;

typedef struct gorai_model {
    int64_t refcount; /* atomic; the keyspace holds one reference, each run in flight another */
    uint64_t backend;
    char *device; /* NUL-terminated, as the client typed it */
    char *tag;
    size_t taglen;
    uint64_t batchsize, minbatchsize, minbatchtimeout;
    uint64_t ninputs, noutputs;
    char **inputs, **outputs; /* NUL-terminated names */
    char *blob;
    size_t bloblen;
    uintptr_t session; /* the Go session's handle; 0 when none */
    int aof_modelset;  /* the device is one only AI.MODELSET takes: the AOF rewrite writes AI.MODELSET */
} gorai_model;

/* gorai_model_new makes an empty model with refcount 1; the fields are filled by the caller with
 * memory from gorai_strdup / gorai_names (stored.h). */
gorai_model *gorai_model_new(void);
void gorai_model_retain(gorai_model *m);
void gorai_model_release(gorai_model *m);

/* Models are split into chunks of this many bytes in RDB and AOF (MODEL_CHUNK_SIZE). */
extern size_t gorai_model_chunk_size;

extern RedisModuleType *gorai_model_type;
int gorai_create_model_type(RedisModuleCtx *ctx);

#endif
