#include "loader.h"

#include "dlopen.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TensorFlow's C API types, declared here as the C API defines them (tensorflow/c/c_api.h, tf_buffer.h,
 * tf_tstring.h) so that gorai builds without TensorFlow's headers. Only the layouts of TF_Output,
 * TF_Buffer and TF_TString matter; the rest are opaque. */
typedef struct TF_Status TF_Status;
typedef struct TF_Graph TF_Graph;
typedef struct TF_Operation TF_Operation;
typedef struct TF_ImportGraphDefOptions TF_ImportGraphDefOptions;
typedef struct TF_SessionOptions TF_SessionOptions;
typedef struct TF_Session TF_Session;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_DeviceList TF_DeviceList;
typedef struct {
    TF_Operation *oper;
    int index;
} TF_Output;
typedef struct {
    const void *data;
    size_t length;
    void (*data_deallocator)(void *data, size_t length);
} TF_Buffer;
/* A tstring is 24 bytes, 8-aligned (its largest form is a size, a capacity and a pointer). */
typedef struct {
    uint64_t raw[3];
} TF_TString;

enum { TF_OK = 0 };

/* The functions used. Filled once by gorai_tf_open (under the Go side's lock), read-only after. */
static struct {
    const char *(*Version)(void);
    TF_Status *(*NewStatus)(void);
    void (*DeleteStatus)(TF_Status *);
    int (*GetCode)(const TF_Status *);
    const char *(*Message)(const TF_Status *);
    TF_Graph *(*NewGraph)(void);
    void (*DeleteGraph)(TF_Graph *);
    TF_Buffer *(*NewBufferFromString)(const void *, size_t);
    void (*DeleteBuffer)(TF_Buffer *);
    TF_ImportGraphDefOptions *(*NewImportGraphDefOptions)(void);
    void (*DeleteImportGraphDefOptions)(TF_ImportGraphDefOptions *);
    void (*GraphImportGraphDef)(TF_Graph *, const TF_Buffer *, const TF_ImportGraphDefOptions *, TF_Status *);
    TF_Operation *(*GraphOperationByName)(TF_Graph *, const char *);
    const char *(*OperationOpType)(TF_Operation *);
    TF_SessionOptions *(*NewSessionOptions)(void);
    void (*DeleteSessionOptions)(TF_SessionOptions *);
    void (*SetConfig)(TF_SessionOptions *, const void *, size_t, TF_Status *);
    TF_Session *(*NewSession)(TF_Graph *, const TF_SessionOptions *, TF_Status *);
    void (*CloseSession)(TF_Session *, TF_Status *);
    void (*DeleteSession)(TF_Session *, TF_Status *);
    void (*SessionRun)(TF_Session *, const TF_Buffer *, const TF_Output *, TF_Tensor *const *, int, const TF_Output *,
                       TF_Tensor **, int, const TF_Operation *const *, int, TF_Buffer *, TF_Status *);
    TF_DeviceList *(*SessionListDevices)(TF_Session *, TF_Status *);
    void (*DeleteDeviceList)(TF_DeviceList *);
    int (*DeviceListCount)(const TF_DeviceList *);
    const char *(*DeviceListType)(const TF_DeviceList *, int, TF_Status *);
    TF_Tensor *(*NewTensor)(int, const int64_t *, int, void *, size_t, void (*)(void *, size_t, void *), void *);
    TF_Tensor *(*AllocateTensor)(int, const int64_t *, int, size_t);
    void (*DeleteTensor)(TF_Tensor *);
    int (*TensorType)(const TF_Tensor *);
    int (*NumDims)(const TF_Tensor *);
    int64_t (*Dim)(const TF_Tensor *, int);
    size_t (*TensorByteSize)(const TF_Tensor *);
    void *(*TensorData)(const TF_Tensor *);
    int64_t (*TensorElementCount)(const TF_Tensor *);
    void (*StringInit)(TF_TString *);
    void (*StringAssignView)(TF_TString *, const char *, size_t);
    const char *(*StringGetDataPointer)(const TF_TString *);
    size_t (*StringGetSize)(const TF_TString *);
} tf;

int gorai_tf_open(const char *path, char *err, size_t errlen) {
    /* libtensorflow_framework.so.2, which the library needs, is found beside it through its RUNPATH
     * ($ORIGIN). */
    gorai_symbol syms[] = {
        {"TF_Version", (void **)&tf.Version},
        {"TF_NewStatus", (void **)&tf.NewStatus},
        {"TF_DeleteStatus", (void **)&tf.DeleteStatus},
        {"TF_GetCode", (void **)&tf.GetCode},
        {"TF_Message", (void **)&tf.Message},
        {"TF_NewGraph", (void **)&tf.NewGraph},
        {"TF_DeleteGraph", (void **)&tf.DeleteGraph},
        {"TF_NewBufferFromString", (void **)&tf.NewBufferFromString},
        {"TF_DeleteBuffer", (void **)&tf.DeleteBuffer},
        {"TF_NewImportGraphDefOptions", (void **)&tf.NewImportGraphDefOptions},
        {"TF_DeleteImportGraphDefOptions", (void **)&tf.DeleteImportGraphDefOptions},
        {"TF_GraphImportGraphDef", (void **)&tf.GraphImportGraphDef},
        {"TF_GraphOperationByName", (void **)&tf.GraphOperationByName},
        {"TF_OperationOpType", (void **)&tf.OperationOpType},
        {"TF_NewSessionOptions", (void **)&tf.NewSessionOptions},
        {"TF_DeleteSessionOptions", (void **)&tf.DeleteSessionOptions},
        {"TF_SetConfig", (void **)&tf.SetConfig},
        {"TF_NewSession", (void **)&tf.NewSession},
        {"TF_CloseSession", (void **)&tf.CloseSession},
        {"TF_DeleteSession", (void **)&tf.DeleteSession},
        {"TF_SessionRun", (void **)&tf.SessionRun},
        {"TF_SessionListDevices", (void **)&tf.SessionListDevices},
        {"TF_DeleteDeviceList", (void **)&tf.DeleteDeviceList},
        {"TF_DeviceListCount", (void **)&tf.DeviceListCount},
        {"TF_DeviceListType", (void **)&tf.DeviceListType},
        {"TF_NewTensor", (void **)&tf.NewTensor},
        {"TF_AllocateTensor", (void **)&tf.AllocateTensor},
        {"TF_DeleteTensor", (void **)&tf.DeleteTensor},
        {"TF_TensorType", (void **)&tf.TensorType},
        {"TF_NumDims", (void **)&tf.NumDims},
        {"TF_Dim", (void **)&tf.Dim},
        {"TF_TensorByteSize", (void **)&tf.TensorByteSize},
        {"TF_TensorData", (void **)&tf.TensorData},
        {"TF_TensorElementCount", (void **)&tf.TensorElementCount},
        {"TF_StringInit", (void **)&tf.StringInit},
        {"TF_StringAssignView", (void **)&tf.StringAssignView},
        {"TF_StringGetDataPointer", (void **)&tf.StringGetDataPointer},
        {"TF_StringGetSize", (void **)&tf.StringGetSize},
    };
    if (gorai_dlopen_symbols(path, syms, sizeof syms / sizeof syms[0], "does not export TensorFlow's C API", err, errlen) ==
        NULL)
        return -1;
    /* The handle is never closed: TensorFlow's threads and registries live as long as the process. */
    return 0;
}

const char *gorai_tf_version(void) { return tf.Version(); }

/* errorf is a malloc'd message (NULL only without memory). */
static char *errorf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

static char *status_error(const TF_Status *st) {
    const char *m = tf.Message(st);
    return errorf("%s", m && m[0] ? m : "TensorFlow failed without a message");
}

struct gorai_tf_model {
    TF_Graph *graph;
    TF_Session *session;
    TF_Output *inputs, *outputs;
    int ninputs, noutputs;
};

static void model_destroy(gorai_tf_model *m) {
    if (m->session != NULL) {
        TF_Status *st = tf.NewStatus();
        tf.CloseSession(m->session, st);
        tf.DeleteSession(m->session, st);
        tf.DeleteStatus(st);
    }
    if (m->graph != NULL) {
        tf.DeleteGraph(m->graph);
    }
    free(m->inputs);
    free(m->outputs);
    free(m);
}

/* has_gpu reports whether the session has a GPU device (RedisAI's test for "couldn't find CUDA"). */
static int has_gpu(TF_Session *s) {
    TF_Status *st = tf.NewStatus();
    TF_DeviceList *list = tf.SessionListDevices(s, st);
    int found = 0;
    if (list != NULL && tf.GetCode(st) == TF_OK) {
        int n = tf.DeviceListCount(list);
        for (int i = 0; i < n && !found; i++) {
            const char *type = tf.DeviceListType(list, i, st);
            found = type != NULL && strcmp(type, "GPU") == 0;
        }
    }
    if (list != NULL) {
        tf.DeleteDeviceList(list);
    }
    tf.DeleteStatus(st);
    return found;
}

gorai_tf_model *gorai_tf_model_new(const void *graph, size_t len, const char *const *inputs, int ninputs,
                                   const char *const *outputs, int noutputs, const void *config, size_t configlen,
                                   int gpu, char **err) {
    gorai_tf_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        *err = errorf("ERR out of memory");
        return NULL;
    }
    m->ninputs = ninputs;
    m->noutputs = noutputs;
    m->inputs = calloc(ninputs > 0 ? (size_t)ninputs : 1, sizeof(TF_Output));
    m->outputs = calloc(noutputs > 0 ? (size_t)noutputs : 1, sizeof(TF_Output));
    m->graph = tf.NewGraph();
    TF_Status *st = tf.NewStatus();
    if (m->inputs == NULL || m->outputs == NULL || m->graph == NULL || st == NULL) {
        *err = errorf("ERR out of memory");
        goto fail;
    }

    TF_Buffer *buf = tf.NewBufferFromString(graph, len);
    TF_ImportGraphDefOptions *opts = tf.NewImportGraphDefOptions();
    tf.GraphImportGraphDef(m->graph, buf, opts, st);
    tf.DeleteImportGraphDefOptions(opts);
    tf.DeleteBuffer(buf);
    if (tf.GetCode(st) != TF_OK) {
        *err = status_error(st); /* "Invalid GraphDef" for a blob that does not parse */
        goto fail;
    }

    /* RedisAI's checks and texts (src/backends/tensorflow.c). */
    for (int i = 0; i < ninputs; i++) {
        TF_Operation *op = tf.GraphOperationByName(m->graph, inputs[i]);
        if (op == NULL || strcmp(tf.OperationOpType(op), "Placeholder") != 0) {
            *err = errorf("ERR Input node named \"%s\" not found in TF graph.", inputs[i]);
            goto fail;
        }
        m->inputs[i] = (TF_Output){op, 0};
    }
    for (int i = 0; i < noutputs; i++) {
        TF_Operation *op = tf.GraphOperationByName(m->graph, outputs[i]);
        if (op == NULL) {
            *err = errorf("ERR Output node named \"%s\" not found in TF graph", outputs[i]);
            goto fail;
        }
        m->outputs[i] = (TF_Output){op, 0};
    }

    TF_SessionOptions *so = tf.NewSessionOptions();
    if (configlen > 0) {
        tf.SetConfig(so, config, configlen, st);
        if (tf.GetCode(st) != TF_OK) {
            *err = status_error(st);
            tf.DeleteSessionOptions(so);
            goto fail;
        }
    }
    m->session = tf.NewSession(m->graph, so, st);
    tf.DeleteSessionOptions(so);
    if (tf.GetCode(st) != TF_OK || m->session == NULL) {
        *err = status_error(st);
        m->session = NULL;
        goto fail;
    }
    if (gpu && !has_gpu(m->session)) {
        *err = errorf("ERR GPU requested but TF couldn't find CUDA");
        goto fail;
    }
    tf.DeleteStatus(st);
    return m;

fail:
    if (st != NULL) {
        tf.DeleteStatus(st);
    }
    model_destroy(m);
    return NULL;
}

void gorai_tf_model_free(gorai_tf_model *m) { model_destroy(m); }

/* The inputs' memory belongs to their gorai tensors, which outlive the run. */
static void no_dealloc(void *data, size_t len, void *arg) {
    (void)data;
    (void)len;
    (void)arg;
}

/* make_input wraps an input's memory as a TF tensor: numeric data as it is, STRING elements as views of
 * theirs (TF_TString views own nothing, and the run only reads them). */
static TF_Tensor *make_input(const gorai_tf_input *in, char **err) {
    if (in->dtype != GORAI_TF_STRING) {
        TF_Tensor *t = tf.NewTensor(in->dtype, in->dims, in->ndim, in->data, in->nbytes, no_dealloc, NULL);
        if (t == NULL) {
            *err = errorf("ERR TF input tensor of %zu bytes does not match its shape and type", in->nbytes);
        }
        return t;
    }
    TF_Tensor *t = tf.AllocateTensor(GORAI_TF_STRING, in->dims, in->ndim, (size_t)in->nelems * sizeof(TF_TString));
    if (t == NULL) {
        *err = errorf("ERR could not allocate a TF STRING tensor of %lld elements", (long long)in->nelems);
        return NULL;
    }
    TF_TString *s = tf.TensorData(t);
    const char *p = in->data, *end = p + in->nbytes;
    for (int64_t i = 0; i < in->nelems; i++) {
        tf.StringInit(&s[i]);
        const char *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
        if (nul == NULL) {
            /* Cannot happen with a valid tensor; the views need no freeing. */
            tf.DeleteTensor(t);
            *err = errorf("ERR TF STRING input has fewer than %lld elements", (long long)in->nelems);
            return NULL;
        }
        tf.StringAssignView(&s[i], p, (size_t)(nul - p));
        p = nul + 1;
    }
    return t;
}

int gorai_tf_model_run(gorai_tf_model *m, const gorai_tf_input *inputs, int ninputs, void **outputs, char **err) {
    if (ninputs != m->ninputs) {
        *err = errorf("ERR Expected %d inputs but got %d", m->ninputs, ninputs);
        return -1;
    }
    TF_Tensor **in = calloc(ninputs > 0 ? (size_t)ninputs : 1, sizeof *in);
    TF_Status *st = tf.NewStatus();
    int rc = -1;
    if (in == NULL || st == NULL) {
        *err = errorf("ERR out of memory");
        goto done;
    }
    for (int i = 0; i < ninputs; i++) {
        in[i] = make_input(&inputs[i], err);
        if (in[i] == NULL) {
            goto done;
        }
    }
    TF_Tensor **out = (TF_Tensor **)outputs;
    memset(out, 0, (size_t)m->noutputs * sizeof *out);
    tf.SessionRun(m->session, NULL, m->inputs, in, ninputs, m->outputs, out, m->noutputs, NULL, 0, NULL, st);
    if (tf.GetCode(st) != TF_OK) {
        *err = status_error(st);
        for (int i = 0; i < m->noutputs; i++) {
            if (out[i] != NULL) {
                tf.DeleteTensor(out[i]);
                out[i] = NULL;
            }
        }
        goto done;
    }
    rc = 0;

done:
    /* An output may share an input's buffer (an Identity of a Placeholder): the buffer stays alive, with the
     * memory it wraps, until that output is freed too. */
    if (in != NULL) {
        for (int i = 0; i < ninputs; i++) {
            if (in[i] != NULL) {
                tf.DeleteTensor(in[i]);
            }
        }
        free(in);
    }
    if (st != NULL) {
        tf.DeleteStatus(st);
    }
    return rc;
}

int gorai_tf_tensor_type(void *t) { return tf.TensorType(t); }
int gorai_tf_tensor_ndim(void *t) { return tf.NumDims(t); }
int64_t gorai_tf_tensor_dim(void *t, int i) { return tf.Dim(t, i); }
void *gorai_tf_tensor_data(void *t) { return tf.TensorData(t); }
size_t gorai_tf_tensor_nbytes(void *t) { return tf.TensorByteSize(t); }
int64_t gorai_tf_tensor_nelems(void *t) { return tf.TensorElementCount(t); }

const char *gorai_tf_tensor_string(void *t, int64_t i, size_t *len) {
    const TF_TString *s = (const TF_TString *)tf.TensorData(t) + i;
    *len = tf.StringGetSize(s);
    return tf.StringGetDataPointer(s);
}

/* TensorFlow frees what an output holds, its strings included, with its last reference. */
void gorai_tf_tensor_free(void *t) { tf.DeleteTensor(t); }
