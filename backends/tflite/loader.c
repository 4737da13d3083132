#include "loader.h"

#include "dlopen.h"
#include "memory.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* LiteRT's C API types, declared here as litert/c/ of google-ai-edge/LiteRT defines them for the pinned
 * ai-edge-litert 2.3.0 (litert_common.h, litert_layout.h, litert_model_types.h, litert_tensor_buffer_types.h)
 * so that gorai builds without LiteRT's headers. Only the layouts of LiteRtLayout and LiteRtRankedTensorType
 * matter (tflite_test.go checks them against real models); the handles are opaque. */
typedef struct LiteRtEnvironmentT *LiteRtEnvironment;
typedef struct LiteRtModelT *LiteRtModel;
typedef struct LiteRtSubgraphT *LiteRtSubgraph;
typedef struct LiteRtSignatureT *LiteRtSignature;
typedef struct LiteRtTensorT *LiteRtTensor;
typedef struct LiteRtOptionsT *LiteRtOptions;
typedef struct LiteRtCompiledModelT *LiteRtCompiledModel;
typedef struct LiteRtTensorBufferT *LiteRtTensorBuffer;
typedef int LiteRtStatus;
typedef size_t LiteRtParamIndex;

typedef struct {
    unsigned int rank : 7;
    unsigned int has_strides : 1;
    int32_t dimensions[GORAI_TFL_MAX_RANK];
    uint32_t strides[GORAI_TFL_MAX_RANK];
} LiteRtLayout;

typedef struct {
    int element_type;
    LiteRtLayout layout;
} LiteRtRankedTensorType;

_Static_assert(sizeof(LiteRtRankedTensorType) == 72, "LiteRtRankedTensorType is 72 bytes in LiteRT's ABI");

enum {
    kLiteRtStatusOk = 0,
    kLiteRtHwAcceleratorCpu = 1,
    kLiteRtTensorBufferTypeHostMemory = 1,
    kLiteRtRankedTensorType = 0,
};

/* The functions used. Filled once by gorai_tfl_open (under the Go side's lock), read-only after. */
static struct {
    LiteRtStatus (*CreateEnvironment)(int, const void *, LiteRtEnvironment *);
    LiteRtStatus (*CreateModelFromBuffer)(LiteRtEnvironment, const void *, size_t, LiteRtModel *);
    void (*DestroyModel)(LiteRtModel);
    LiteRtStatus (*GetMainModelSubgraphIndex)(LiteRtModel, LiteRtParamIndex *);
    LiteRtStatus (*GetModelSubgraph)(LiteRtModel, LiteRtParamIndex, LiteRtSubgraph *);
    LiteRtStatus (*GetNumModelSignatures)(LiteRtModel, LiteRtParamIndex *);
    LiteRtStatus (*GetModelSignature)(LiteRtModel, LiteRtParamIndex, LiteRtSignature *);
    LiteRtStatus (*GetSignatureSubgraph)(LiteRtSignature, LiteRtSubgraph *);
    LiteRtStatus (*GetNumSignatureInputs)(LiteRtSignature, LiteRtParamIndex *);
    LiteRtStatus (*GetSignatureInputTensorByIndex)(LiteRtSignature, LiteRtParamIndex, LiteRtTensor *);
    LiteRtStatus (*GetNumSignatureOutputs)(LiteRtSignature, LiteRtParamIndex *);
    LiteRtStatus (*GetSignatureOutputTensorByIndex)(LiteRtSignature, LiteRtParamIndex, LiteRtTensor *);
    LiteRtStatus (*GetNumSubgraphInputs)(LiteRtSubgraph, LiteRtParamIndex *);
    LiteRtStatus (*GetSubgraphInput)(LiteRtSubgraph, LiteRtParamIndex, LiteRtTensor *);
    LiteRtStatus (*GetNumSubgraphOutputs)(LiteRtSubgraph, LiteRtParamIndex *);
    LiteRtStatus (*GetSubgraphOutput)(LiteRtSubgraph, LiteRtParamIndex, LiteRtTensor *);
    LiteRtStatus (*GetTensorName)(LiteRtTensor, const char **);
    LiteRtStatus (*GetTensorIndex)(LiteRtTensor, uint32_t *);
    LiteRtStatus (*GetTensorTypeId)(LiteRtTensor, int *);
    LiteRtStatus (*GetRankedTensorType)(LiteRtTensor, LiteRtRankedTensorType *);
    LiteRtStatus (*CreateOptions)(LiteRtOptions *);
    void (*DestroyOptions)(LiteRtOptions);
    LiteRtStatus (*SetOptionsHardwareAccelerators)(LiteRtOptions, int);
    LiteRtStatus (*CreateCompiledModel)(LiteRtEnvironment, LiteRtModel, LiteRtOptions, LiteRtCompiledModel *);
    void (*DestroyCompiledModel)(LiteRtCompiledModel);
    LiteRtStatus (*GetCompiledModelInputTensorLayout)(LiteRtCompiledModel, LiteRtParamIndex, LiteRtParamIndex,
                                                      LiteRtLayout *);
    LiteRtStatus (*GetCompiledModelOutputTensorLayouts)(LiteRtCompiledModel, LiteRtParamIndex, size_t, LiteRtLayout *,
                                                        bool);
    LiteRtStatus (*CompiledModelResizeInputTensorNonStrict)(LiteRtCompiledModel, LiteRtParamIndex, LiteRtParamIndex,
                                                            const int *, size_t);
    LiteRtStatus (*RunCompiledModel)(LiteRtCompiledModel, LiteRtParamIndex, size_t, LiteRtTensorBuffer *, size_t,
                                     LiteRtTensorBuffer *);
    LiteRtStatus (*CreateManagedTensorBuffer)(LiteRtEnvironment, int, const LiteRtRankedTensorType *, size_t,
                                              LiteRtTensorBuffer *);
    LiteRtStatus (*CreateTensorBufferFromHostMemory)(const LiteRtRankedTensorType *, void *, size_t, void (*)(void *),
                                                     LiteRtTensorBuffer *);
    LiteRtStatus (*DuplicateTensorBuffer)(LiteRtTensorBuffer);
    LiteRtStatus (*GetTensorBufferHostMemory)(LiteRtTensorBuffer, void **);
    LiteRtStatus (*GetTensorBufferSize)(LiteRtTensorBuffer, size_t *);
    void (*DestroyTensorBuffer)(LiteRtTensorBuffer);
} lrt;

/* One environment for the process: it holds LiteRT's accelerator registry, which models share. */
static LiteRtEnvironment env;

int gorai_tfl_open(const char *path, char *err, size_t errlen) {
    gorai_symbol syms[] = {
        {"LiteRtCreateEnvironment", (void **)&lrt.CreateEnvironment},
        {"LiteRtCreateModelFromBuffer", (void **)&lrt.CreateModelFromBuffer},
        {"LiteRtDestroyModel", (void **)&lrt.DestroyModel},
        {"LiteRtGetMainModelSubgraphIndex", (void **)&lrt.GetMainModelSubgraphIndex},
        {"LiteRtGetModelSubgraph", (void **)&lrt.GetModelSubgraph},
        {"LiteRtGetNumModelSignatures", (void **)&lrt.GetNumModelSignatures},
        {"LiteRtGetModelSignature", (void **)&lrt.GetModelSignature},
        {"LiteRtGetSignatureSubgraph", (void **)&lrt.GetSignatureSubgraph},
        {"LiteRtGetNumSignatureInputs", (void **)&lrt.GetNumSignatureInputs},
        {"LiteRtGetSignatureInputTensorByIndex", (void **)&lrt.GetSignatureInputTensorByIndex},
        {"LiteRtGetNumSignatureOutputs", (void **)&lrt.GetNumSignatureOutputs},
        {"LiteRtGetSignatureOutputTensorByIndex", (void **)&lrt.GetSignatureOutputTensorByIndex},
        {"LiteRtGetNumSubgraphInputs", (void **)&lrt.GetNumSubgraphInputs},
        {"LiteRtGetSubgraphInput", (void **)&lrt.GetSubgraphInput},
        {"LiteRtGetNumSubgraphOutputs", (void **)&lrt.GetNumSubgraphOutputs},
        {"LiteRtGetSubgraphOutput", (void **)&lrt.GetSubgraphOutput},
        {"LiteRtGetTensorName", (void **)&lrt.GetTensorName},
        {"LiteRtGetTensorIndex", (void **)&lrt.GetTensorIndex},
        {"LiteRtGetTensorTypeId", (void **)&lrt.GetTensorTypeId},
        {"LiteRtGetRankedTensorType", (void **)&lrt.GetRankedTensorType},
        {"LiteRtCreateOptions", (void **)&lrt.CreateOptions},
        {"LiteRtDestroyOptions", (void **)&lrt.DestroyOptions},
        {"LiteRtSetOptionsHardwareAccelerators", (void **)&lrt.SetOptionsHardwareAccelerators},
        {"LiteRtCreateCompiledModel", (void **)&lrt.CreateCompiledModel},
        {"LiteRtDestroyCompiledModel", (void **)&lrt.DestroyCompiledModel},
        {"LiteRtGetCompiledModelInputTensorLayout", (void **)&lrt.GetCompiledModelInputTensorLayout},
        {"LiteRtGetCompiledModelOutputTensorLayouts", (void **)&lrt.GetCompiledModelOutputTensorLayouts},
        {"LiteRtCompiledModelResizeInputTensorNonStrict", (void **)&lrt.CompiledModelResizeInputTensorNonStrict},
        {"LiteRtRunCompiledModel", (void **)&lrt.RunCompiledModel},
        {"LiteRtCreateManagedTensorBuffer", (void **)&lrt.CreateManagedTensorBuffer},
        {"LiteRtCreateTensorBufferFromHostMemory", (void **)&lrt.CreateTensorBufferFromHostMemory},
        {"LiteRtDuplicateTensorBuffer", (void **)&lrt.DuplicateTensorBuffer},
        {"LiteRtGetTensorBufferHostMemory", (void **)&lrt.GetTensorBufferHostMemory},
        {"LiteRtGetTensorBufferSize", (void **)&lrt.GetTensorBufferSize},
        {"LiteRtDestroyTensorBuffer", (void **)&lrt.DestroyTensorBuffer},
    };
    if (gorai_dlopen_symbols(path, syms, sizeof syms / sizeof syms[0], "(LiteRT's C API)", err, errlen) == NULL) {
        return -1;
    }
    LiteRtStatus st = lrt.CreateEnvironment(0, NULL, &env);
    if (st != kLiteRtStatusOk) {
        snprintf(err, errlen, "LiteRtCreateEnvironment failed (LiteRT status %d)", st);
        return -1;
    }
    return 0;
}

/* A tensor of the main subgraph: where the signature has it, its index in the subgraph, its name and element
 * type. */
typedef struct {
    LiteRtParamIndex sig_index;
    uint32_t tensor;
    const char *name; /* owned by the LiteRtModel */
    int dtype;
    /* An output's reservation (see reserve), kept from run to run; dirty is how much of it a run may have
     * written, zeroed again before the next (see clean_outputs). */
    void *mem;
    size_t room, dirty;
} port;

struct gorai_tfl_model {
    pthread_mutex_t mu; /* a compiled model's run and resize state is not safe across threads */
    void *blob;         /* LiteRT reads the flatbuffer in place for the model's lifetime */
    size_t len;
    LiteRtModel model;
    LiteRtCompiledModel compiled;
    LiteRtParamIndex signature;
    int ninputs, noutputs;
    port *inputs, *outputs;
    char *threw; /* the message of the exception a run threw, which ends the model's runs */
};

static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errorf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* describe fills ps[i] from tensor t of the main subgraph, which signature sig must list too, at a place
 * ps[0..i) do not have: a model may return one tensor twice, (y, y), and each output needs its own place
 * (a place left without a buffer crashed LiteRT's run). */
static int describe(LiteRtSignature sig, bool input, LiteRtTensor t, port *ps, int i) {
    port *p = &ps[i];
    uint32_t want, idx;
    int type_id;
    LiteRtRankedTensorType type;
    if (lrt.GetTensorName(t, &p->name) != kLiteRtStatusOk || lrt.GetTensorIndex(t, &want) != kLiteRtStatusOk ||
        lrt.GetTensorTypeId(t, &type_id) != kLiteRtStatusOk || type_id != kLiteRtRankedTensorType ||
        lrt.GetRankedTensorType(t, &type) != kLiteRtStatusOk) {
        return -1;
    }
    p->tensor = want;
    p->dtype = type.element_type;
    LiteRtParamIndex n;
    if ((input ? lrt.GetNumSignatureInputs(sig, &n) : lrt.GetNumSignatureOutputs(sig, &n)) != kLiteRtStatusOk) {
        return -1;
    }
    for (LiteRtParamIndex j = 0; j < n; j++) {
        LiteRtTensor s;
        LiteRtStatus st = input ? lrt.GetSignatureInputTensorByIndex(sig, j, &s)
                                : lrt.GetSignatureOutputTensorByIndex(sig, j, &s);
        bool taken = false;
        for (int k = 0; k < i; k++) taken = taken || ps[k].sig_index == j;
        if (!taken && st == kLiteRtStatusOk && lrt.GetTensorIndex(s, &idx) == kLiteRtStatusOk && idx == want) {
            p->sig_index = j;
            return 0;
        }
    }
    return -1;
}

/* ports lists the main subgraph's inputs or outputs in its own order (TF Lite's interpreter order, which
 * RedisAI's positional INPUTS and OUTPUTS follow); a signature may order them otherwise. */
static port *ports(LiteRtSubgraph sg, LiteRtSignature sig, bool input, int *count) {
    LiteRtParamIndex n;
    if ((input ? lrt.GetNumSubgraphInputs(sg, &n) : lrt.GetNumSubgraphOutputs(sg, &n)) != kLiteRtStatusOk) {
        return NULL;
    }
    port *ps = calloc(n ? n : 1, sizeof *ps);
    if (ps == NULL) return NULL;
    for (LiteRtParamIndex i = 0; i < n; i++) {
        LiteRtTensor t;
        if ((input ? lrt.GetSubgraphInput(sg, i, &t) : lrt.GetSubgraphOutput(sg, i, &t)) != kLiteRtStatusOk ||
            describe(sig, input, t, ps, (int)i) != 0) {
            free(ps);
            return NULL;
        }
    }
    *count = (int)n;
    return ps;
}

/* main_signature is the index of the first signature that runs the main subgraph, which LiteRT makes up
 * for models saved without signatures. */
static int main_signature(LiteRtModel model, LiteRtSubgraph main, LiteRtParamIndex *index, LiteRtSignature *sig) {
    LiteRtParamIndex n;
    if (lrt.GetNumModelSignatures(model, &n) != kLiteRtStatusOk) return -1;
    for (LiteRtParamIndex i = 0; i < n; i++) {
        LiteRtSubgraph sg;
        if (lrt.GetModelSignature(model, i, sig) == kLiteRtStatusOk &&
            lrt.GetSignatureSubgraph(*sig, &sg) == kLiteRtStatusOk && sg == main) {
            *index = i;
            return 0;
        }
    }
    return -1;
}

/* load_call is gorai_tfl_model_new's work for gorai_tfl_guard: m's blob is filled; m's LiteRT state is made. */
struct load_call {
    gorai_tfl_model *m;
    size_t len;
    char **err;
};

static int load(void *arg) {
    struct load_call *c = arg;
    gorai_tfl_model *m = c->m;
    LiteRtParamIndex main_index;
    LiteRtSubgraph main;
    LiteRtSignature sig;
    if (lrt.CreateModelFromBuffer(env, m->blob, c->len, &m->model) != kLiteRtStatusOk) {
        m->model = NULL;
        *c->err = errorf("Failed to load model from buffer");
        return -1;
    }
    if (lrt.GetMainModelSubgraphIndex(m->model, &main_index) != kLiteRtStatusOk ||
        lrt.GetModelSubgraph(m->model, main_index, &main) != kLiteRtStatusOk ||
        main_signature(m->model, main, &m->signature, &sig) != 0 ||
        (m->inputs = ports(main, sig, true, &m->ninputs)) == NULL ||
        (m->outputs = ports(main, sig, false, &m->noutputs)) == NULL) {
        *c->err = errorf("Failed to load model from buffer");
        return -1;
    }
    LiteRtOptions opts;
    if (lrt.CreateOptions(&opts) != kLiteRtStatusOk) {
        *c->err = errorf("Failed to construct interpreter");
        return -1;
    }
    LiteRtStatus st = lrt.SetOptionsHardwareAccelerators(opts, kLiteRtHwAcceleratorCpu);
    if (st == kLiteRtStatusOk) st = lrt.CreateCompiledModel(env, m->model, opts, &m->compiled);
    lrt.DestroyOptions(opts);
    if (st != kLiteRtStatusOk) {
        m->compiled = NULL;
        *c->err = errorf("Failed to construct interpreter");
        return -1;
    }
    return 0;
}

gorai_tfl_model *gorai_tfl_model_new(const void *blob, size_t len, char **err) {
    gorai_tfl_model *m = calloc(1, sizeof *m);
    if (m == NULL || (m->blob = malloc(len ? len : 1)) == NULL) {
        free(m);
        *err = errorf("ERR out of memory");
        return NULL;
    }
    memcpy(m->blob, blob, len);
    m->len = len;
    pthread_mutex_init(&m->mu, NULL);
    struct load_call c = {m, len, err};
    if (gorai_tfl_guard(load, &c, err) != 0) {
        gorai_tfl_model_free(m);
        return NULL;
    }
    return m;
}

int gorai_tfl_model_ninputs(const gorai_tfl_model *m) { return m->ninputs; }
int gorai_tfl_model_noutputs(const gorai_tfl_model *m) { return m->noutputs; }
const char *gorai_tfl_model_input_name(const gorai_tfl_model *m, int i) { return m->inputs[i].name; }
const char *gorai_tfl_model_output_name(const gorai_tfl_model *m, int i) { return m->outputs[i].name; }

const void *gorai_tfl_model_blob(const gorai_tfl_model *m, size_t *len) {
    *len = m->len;
    return m->blob;
}

/* compiled_dims is input i's compiled shape, a free dimension (-1) as 1; its rank, or -1. */
static int compiled_dims(const gorai_tfl_model *m, int i, int64_t dims[GORAI_TFL_MAX_RANK]) {
    LiteRtLayout l;
    if (lrt.GetCompiledModelInputTensorLayout(m->compiled, m->signature, m->inputs[i].sig_index, &l) !=
            kLiteRtStatusOk ||
        l.rank > GORAI_TFL_MAX_RANK) {
        return -1;
    }
    for (unsigned d = 0; d < l.rank; d++) dims[d] = l.dimensions[d] < 0 ? 1 : l.dimensions[d];
    return (int)l.rank;
}

struct dims_call {
    gorai_tfl_model *m;
    int i;
    int64_t *dims;
    int rank;
};

static int dims_locked(void *arg) {
    struct dims_call *c = arg;
    c->rank = compiled_dims(c->m, c->i, c->dims);
    return 0;
}

int gorai_tfl_model_input_dims(const gorai_tfl_model *m, int i, int64_t dims[GORAI_TFL_MAX_RANK]) {
    gorai_tfl_model *mm = (gorai_tfl_model *)m; /* its lock: a run may be resizing the inputs */
    struct dims_call c = {mm, i, dims, -1};
    char *err = NULL;
    pthread_mutex_lock(&mm->mu);
    int rc = gorai_tfl_guard(dims_locked, &c, &err);
    pthread_mutex_unlock(&mm->mu);
    free(err);
    return rc == 0 ? c.rank : -1;
}

static size_t element_size(int dtype) {
    switch (dtype) {
    case GORAI_TFL_BOOL:
    case GORAI_TFL_INT8:
    case GORAI_TFL_UINT8:
        return 1;
    case GORAI_TFL_INT16:
        return 2;
    case GORAI_TFL_FLOAT32:
    case GORAI_TFL_INT32:
        return 4;
    case GORAI_TFL_INT64:
        return 8;
    }
    return 0;
}

/* host_buffer makes a LiteRT-owned host buffer for a tensor of this type and shape; its memory is *mem. */
static LiteRtTensorBuffer host_buffer(int dtype, const LiteRtLayout *layout, size_t nbytes, void **mem) {
    LiteRtRankedTensorType type = {.element_type = dtype, .layout = *layout};
    LiteRtTensorBuffer b;
    if (lrt.CreateManagedTensorBuffer(env, kLiteRtTensorBufferTypeHostMemory, &type, nbytes ? nbytes : 1, &b) !=
        kLiteRtStatusOk) {
        return NULL;
    }
    if (lrt.GetTensorBufferHostMemory(b, mem) != kLiteRtStatusOk) {
        lrt.DestroyTensorBuffer(b);
        return NULL;
    }
    return b;
}

/* shape_text writes layout's dims as "[d0 d1 ...]" into buf (room for GORAI_TFL_MAX_RANK dims) and returns it. */
static const char *shape_text(const LiteRtLayout *layout, char buf[GORAI_TFL_MAX_RANK * 12 + 3]) {
    char *p = buf;
    *p++ = '[';
    for (unsigned d = 0; d < layout->rank && d < GORAI_TFL_MAX_RANK; d++)
        p += sprintf(p, d ? " %d" : "%d", (int)layout->dimensions[d]);
    strcpy(p, "]");
    return buf;
}

/* prepare checks the inputs and resizes the model's where the shapes given differ; 0 or -1 with *err. */
static int prepare(gorai_tfl_model *m, const gorai_tfl_input *in, bool *resized, char **err) {
    for (int i = 0; i < m->ninputs; i++) {
        if (in[i].dtype != m->inputs[i].dtype) {
            *err = errorf("Input tensor type doesn't match the type expected by the model definition");
            return -1;
        }
        if (in[i].ndim > GORAI_TFL_MAX_RANK) {
            *err = errorf("ERR TFLITE input %d has %d dimensions, LiteRT takes at most %d", i, in[i].ndim,
                          GORAI_TFL_MAX_RANK);
            return -1;
        }
        LiteRtLayout cur;
        if (lrt.GetCompiledModelInputTensorLayout(m->compiled, m->signature, m->inputs[i].sig_index, &cur) !=
            kLiteRtStatusOk) {
            *err = errorf("Failed to allocate tensors");
            return -1;
        }
        int dims[GORAI_TFL_MAX_RANK];
        bool same = (int)cur.rank == in[i].ndim;
        for (int d = 0; d < in[i].ndim; d++) {
            if (in[i].dims[d] > INT32_MAX) {
                *err = errorf("ERR TFLITE input %d: dimension %lld is too large", i, (long long)in[i].dims[d]);
                return -1;
            }
            dims[d] = (int)in[i].dims[d];
            same = same && cur.dimensions[d] == dims[d];
        }
        if (!same) {
            if (lrt.CompiledModelResizeInputTensorNonStrict(m->compiled, m->signature, m->inputs[i].sig_index, dims,
                                                            (size_t)in[i].ndim) != kLiteRtStatusOk) {
                *err = errorf("Failed to resize input tensor %d to the shape given", i);
                return -1;
            }
            *resized = true;
        }
    }
    return 0;
}

/* output_bytes sets *nbytes to the size of an output of this type and shape; -1 with *err when it cannot be
 * held. Redis' allocator would hand out a block the machine cannot hold, and the kernel kill Redis as it is
 * filled: the output is held three times (LiteRT's buffer, its copy, its tensor). */
static int output_bytes(int dtype, const LiteRtLayout *l, size_t *nbytes, char **err) {
    size_t n = element_size(dtype);
    bool overflow = false;
    for (unsigned d = 0; d < l->rank; d++) {
        size_t dim = l->dimensions[d] > 0 ? (size_t)l->dimensions[d] : 0;
        overflow = overflow || (dim > 0 && n > SIZE_MAX / dim);
        n *= dim;
    }
    if (overflow || n > SIZE_MAX / 3 || !gorai_memory_fits(3 * n)) {
        char shape[GORAI_TFL_MAX_RANK * 12 + 3];
        *err = errorf("ERR TFLITE output of shape %s: could not allocate tensor", shape_text(l, shape));
        return -1;
    }
    *nbytes = n;
    return 0;
}

/* unreserve unmaps what reserve mapped; the mapping's length is in the page before mem. */
static void unreserve(void *mem) {
    char *base = (char *)mem - sysconf(_SC_PAGESIZE);
    munmap(base, *(size_t *)base);
}

/* reserve maps *room bytes of address space, at least need, for an output: its pages taken only as they are
 * written (zeros until then), a page no access may touch after it; NULL when it cannot. LiteRT knows some
 * outputs' shapes only as the model runs (a Reshape to a shape the model computes, XNNPACK resizing as it runs)
 * and writes them whole into the buffer it is given: one sized from the shapes it gave before the run was
 * written past (a batch of 3 after a batch of 1). So the room is the most an output may take (output_bytes),
 * less where the address space is capped (the trial program's). A model keeps its outputs' reservations: a
 * mapping made and unmapped at each run cost a small model two thirds of its throughput. */
static void *reserve(size_t need, size_t *room) {
    /* The machine's memory, not the memory left: reading that costs a run tens of microseconds, and
     * output_bytes has checked what the output needs against it. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE), most = (size_t)sysconf(_SC_PHYS_PAGES) * page;
    *room = most / 3 > need ? most / 3 : need;
    for (;; *room /= 2) {
        *room = (*room + page - 1) / page * page;
        size_t len = *room + 2 * page;
        char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base != MAP_FAILED) {
            *(size_t *)base = len;
            if (mprotect(base + len - page, page, PROT_NONE) == 0) return base + page;
            munmap(base, len);
            return NULL;
        }
        if (*room / 2 < need) return NULL;
    }
}

/* shared is the slot in bufs of the input or earlier output that output i's tensor is, or -1. TF Lite lists an
 * input the model returns as it is as an output too, and LiteRT keeps one buffer per tensor, the last given:
 * the run would read the input from an output's empty buffer. */
static int shared(const gorai_tfl_model *m, int i) {
    uint32_t t = m->outputs[i].tensor;
    for (int j = 0; j < m->ninputs; j++) {
        if (m->inputs[j].tensor == t) return (int)m->inputs[j].sig_index;
    }
    for (int j = 0; j < i; j++) {
        if (m->outputs[j].tensor == t) return m->ninputs + (int)m->outputs[j].sig_index;
    }
    return -1;
}

/* output_buffer gives output i, of layout l as LiteRT has it before the run, its buffer in bufs (and its memory
 * in mems): the one of the tensor it shares, or a reservation. */
static int output_buffer(gorai_tfl_model *m, int i, const LiteRtLayout *l, LiteRtTensorBuffer *bufs, void **mems,
                         char **err) {
    port *p = &m->outputs[i];
    int k = m->ninputs + (int)p->sig_index, same = shared(m, i);
    if (same >= 0) {
        if (lrt.DuplicateTensorBuffer(bufs[same]) != kLiteRtStatusOk) {
            *err = errorf("Failed to allocate tensors");
            return -1;
        }
        bufs[k] = bufs[same];
        mems[k] = mems[same];
        return 0;
    }
    size_t need;
    if (output_bytes(p->dtype, l, &need, err) != 0) return -1;
    if (p->mem == NULL || need > p->room) {
        if (p->mem != NULL) unreserve(p->mem);
        p->mem = reserve(need, &p->room);
    }
    p->dirty = p->room; /* until the run's shapes are known (take_outputs) */
    LiteRtRankedTensorType type = {.element_type = p->dtype, .layout = *l};
    if (p->mem == NULL ||
        lrt.CreateTensorBufferFromHostMemory(&type, p->mem, p->room, NULL, &bufs[k]) != kLiteRtStatusOk) {
        bufs[k] = NULL;
        *err = errorf("Failed to allocate tensors");
        return -1;
    }
    mems[k] = p->mem;
    return 0;
}

/* clean_outputs zeroes what a run may have written into the outputs' reservations, so that the next run's
 * output holds nothing but what that run writes: the pages given back when it is large, a memset when small. */
static void clean_outputs(gorai_tfl_model *m) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < m->noutputs; i++) {
        port *p = &m->outputs[i];
        if (p->mem == NULL || p->dirty == 0) continue;
        if (p->dirty <= 16 * page) {
            memset(p->mem, 0, p->dirty);
        } else {
            madvise(p->mem, (p->dirty + page - 1) / page * page, MADV_DONTNEED);
        }
        p->dirty = 0;
    }
}

/* take_outputs copies each output as the run left it: LiteRT's shapes before the run may be stale. */
static int take_outputs(gorai_tfl_model *m, LiteRtTensorBuffer *bufs, void **mems, gorai_tfl_output *out, char **err) {
    LiteRtLayout layouts[m->noutputs ? m->noutputs : 1];
    if (lrt.GetCompiledModelOutputTensorLayouts(m->compiled, m->signature, (size_t)m->noutputs, layouts, false) !=
        kLiteRtStatusOk) {
        *err = errorf("Failed to invoke the TFLITE model (its outputs' shapes are unknown)");
        return -1;
    }
    for (int i = 0; i < m->noutputs; i++) {
        port *p = &m->outputs[i];
        const LiteRtLayout *l = &layouts[p->sig_index];
        int k = m->ninputs + (int)p->sig_index;
        gorai_tfl_output *o = &out[i];
        size_t size;
        if (output_bytes(p->dtype, l, &o->nbytes, err) != 0) return -1;
        if (lrt.GetTensorBufferSize(bufs[k], &size) != kLiteRtStatusOk || o->nbytes > size) {
            *err = errorf("Failed to invoke the TFLITE model (output %d is larger than its buffer)", i);
            return -1;
        }
        if (p->mem != NULL) p->dirty = o->nbytes; /* the run wrote the output at the shape it left */
        o->dtype = p->dtype;
        o->ndim = (int)l->rank;
        for (int d = 0; d < o->ndim; d++) o->dims[d] = l->dimensions[d];
        if (o->nbytes == 0) continue;
        if ((o->data = malloc(o->nbytes)) == NULL) {
            *err = errorf("ERR out of memory");
            return -1;
        }
        memcpy(o->data, mems[k], o->nbytes);
    }
    return 0;
}

/* run_call is one run's work for gorai_tfl_guard, done under the model's lock. */
struct run_call {
    gorai_tfl_model *m;
    const gorai_tfl_input *in;
    LiteRtTensorBuffer *bufs;
    void **mems;
    gorai_tfl_output *out;
    char **err;
};

static int run_locked(void *arg) {
    struct run_call *c = arg;
    gorai_tfl_model *m = c->m;
    const gorai_tfl_input *in = c->in;
    LiteRtTensorBuffer *bufs = c->bufs;
    void **mems = c->mems;
    char **err = c->err;
    bool resized = false;
    if (prepare(m, in, &resized, err) != 0) return -1;
    LiteRtLayout layouts[m->noutputs ? m->noutputs : 1];
    if (lrt.GetCompiledModelOutputTensorLayouts(m->compiled, m->signature, (size_t)m->noutputs, layouts, resized) !=
        kLiteRtStatusOk) {
        *err = errorf("Failed to allocate tensors");
        return -1;
    }
    /* bufs holds the signature's inputs then its outputs, in the signature's order. */
    LiteRtTensorBuffer *ins = bufs, *outs = bufs + m->ninputs;
    for (int i = 0; i < m->ninputs; i++) {
        LiteRtLayout l = {.rank = (unsigned)in[i].ndim};
        for (int d = 0; d < in[i].ndim; d++) l.dimensions[d] = (int32_t)in[i].dims[d];
        LiteRtParamIndex s = m->inputs[i].sig_index;
        if ((ins[s] = host_buffer(in[i].dtype, &l, in[i].nbytes, &mems[s])) == NULL) {
            *err = errorf("Failed to allocate tensors");
            return -1;
        }
        if (in[i].nbytes > 0) memcpy(mems[s], in[i].data, in[i].nbytes);
    }
    for (int i = 0; i < m->noutputs; i++) {
        if (output_buffer(m, i, &layouts[m->outputs[i].sig_index], bufs, mems, err) != 0) return -1;
    }
    LiteRtStatus st =
        lrt.RunCompiledModel(m->compiled, m->signature, (size_t)m->ninputs, ins, (size_t)m->noutputs, outs);
    if (st != kLiteRtStatusOk) {
        *err = errorf("Failed to invoke the TFLITE model (LiteRT status %d)", st);
        return GORAI_TFL_KERNEL_FAILED;
    }
    return take_outputs(m, bufs, mems, c->out, err);
}

int gorai_tfl_model_run(gorai_tfl_model *m, const gorai_tfl_input *inputs, int ninputs, gorai_tfl_output *outputs,
                        char **err) {
    if (ninputs != m->ninputs) {
        *err = errorf("ERR TFLITE model takes %d inputs, got %d", m->ninputs, ninputs);
        return -1;
    }
    int n = m->ninputs + m->noutputs;
    LiteRtTensorBuffer *bufs = calloc(n ? n : 1, sizeof *bufs);
    void **mems = calloc(n ? n : 1, sizeof *mems);
    if (bufs == NULL || mems == NULL) {
        free(bufs);
        free(mems);
        *err = errorf("ERR out of memory");
        return -1;
    }
    memset(outputs, 0, (size_t)m->noutputs * sizeof *outputs);
    pthread_mutex_lock(&m->mu);
    int rc;
    if (m->threw != NULL) {
        /* LiteRT's state is unknown after an exception: the model is not run again. */
        *err = errorf("%s (in an earlier run; store the model again)", m->threw);
        rc = -1;
    } else {
        struct run_call c = {m, inputs, bufs, mems, outputs, err};
        rc = gorai_tfl_guard(run_locked, &c, err);
        if (rc == GORAI_TFL_THREW) m->threw = strdup(*err);
        clean_outputs(m);
    }
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < n; i++) {
        if (bufs[i] != NULL) lrt.DestroyTensorBuffer(bufs[i]);
    }
    free(bufs);
    free(mems);
    if (rc != 0) {
        for (int i = 0; i < m->noutputs; i++) {
            free(outputs[i].data);
            outputs[i].data = NULL;
        }
    }
    return rc;
}

/* trial_call is gorai_tfl_model_trial's making of its inputs, for gorai_tfl_guard. */
struct trial_call {
    gorai_tfl_model *m;
    const int64_t *want; /* the shapes asked for, or NULL: the compiled ones */
    const int *ranks;
    int fill;
    gorai_tfl_input *in;
    int64_t (*dims)[GORAI_TFL_MAX_RANK];
    char **err;
};

/* fill_ones sets the count elements of type dtype at p to 1. */
static void fill_ones(void *p, int dtype, size_t count) {
    for (size_t i = 0; i < count; i++) {
        switch (dtype) {
        case GORAI_TFL_FLOAT32:
            ((float *)p)[i] = 1;
            break;
        case GORAI_TFL_INT32:
            ((int32_t *)p)[i] = 1;
            break;
        case GORAI_TFL_INT64:
            ((int64_t *)p)[i] = 1;
            break;
        case GORAI_TFL_INT16:
            ((int16_t *)p)[i] = 1;
            break;
        case GORAI_TFL_BOOL:
        case GORAI_TFL_INT8:
        case GORAI_TFL_UINT8:
            ((uint8_t *)p)[i] = 1;
            break;
        }
    }
}

/* trial_inputs makes inputs of each input's shape, every element c->fill. */
static int trial_inputs(void *arg) {
    struct trial_call *c = arg;
    gorai_tfl_model *m = c->m;
    for (int i = 0; i < m->ninputs; i++) {
        int rank;
        if (c->want == NULL) {
            rank = compiled_dims(m, i, c->dims[i]);
        } else {
            rank = c->ranks[i];
            if (rank >= 0 && rank <= GORAI_TFL_MAX_RANK)
                memcpy(c->dims[i], c->want + i * GORAI_TFL_MAX_RANK, (size_t)rank * sizeof(int64_t));
        }
        if (rank < 0 || rank > GORAI_TFL_MAX_RANK) {
            *c->err = errorf("Failed to allocate tensors");
            return -1;
        }
        gorai_tfl_input *in = &c->in[i];
        size_t n = element_size(m->inputs[i].dtype);
        for (int d = 0; d < rank; d++) {
            if (c->dims[i][d] < 0 || (c->dims[i][d] > 0 && n > SIZE_MAX / (size_t)c->dims[i][d])) {
                *c->err = errorf("ERR TFLITE input %d is too large", i);
                return -1;
            }
            n *= (size_t)c->dims[i][d];
        }
        *in = (gorai_tfl_input){.dtype = m->inputs[i].dtype, .ndim = rank, .dims = c->dims[i], .nbytes = n};
        void *data = calloc(n ? n : 1, 1);
        if (data == NULL) {
            *c->err = errorf("ERR out of memory");
            return -1;
        }
        size_t size = element_size(in->dtype);
        if (c->fill == 1 && size > 0) fill_ones(data, in->dtype, n / size);
        in->data = data;
    }
    return 0;
}

int gorai_tfl_model_trial(gorai_tfl_model *m, const int64_t *dims, const int *ranks, int fill, char **err) {
    int n = m->ninputs ? m->ninputs : 1, nout = m->noutputs ? m->noutputs : 1;
    gorai_tfl_input *in = calloc((size_t)n, sizeof *in);
    int64_t(*shapes)[GORAI_TFL_MAX_RANK] = calloc((size_t)n, sizeof *shapes);
    gorai_tfl_output *out = calloc((size_t)nout, sizeof *out);
    int rc = -1;
    if (in == NULL || shapes == NULL || out == NULL) {
        *err = errorf("ERR out of memory");
    } else {
        struct trial_call c = {m, dims, ranks, fill, in, shapes, err};
        if (gorai_tfl_guard(trial_inputs, &c, err) == 0) rc = gorai_tfl_model_run(m, in, m->ninputs, out, err);
    }
    for (int i = 0; out != NULL && i < m->noutputs; i++) free(out[i].data);
    for (int i = 0; in != NULL && i < m->ninputs; i++) free((void *)in[i].data);
    free(in);
    free(shapes);
    free(out);
    return rc;
}

void gorai_tfl_model_free(gorai_tfl_model *m) {
    if (m == NULL) return;
    if (m->compiled != NULL) lrt.DestroyCompiledModel(m->compiled);
    if (m->model != NULL) lrt.DestroyModel(m->model);
    pthread_mutex_destroy(&m->mu);
    for (int i = 0; m->outputs != NULL && i < m->noutputs; i++) {
        if (m->outputs[i].mem != NULL) unreserve(m->outputs[i].mem);
    }
    free(m->inputs);
    free(m->outputs);
    free(m->blob);
    free(m->threw);
    free(m);
}
