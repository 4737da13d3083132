// Package tf is the TF backend: frozen TensorFlow graphs (binary GraphDefs) run by TensorFlow's C API, from
// the libtensorflow_cc.so.2 of the official tensorflow-cpu wheel (build/fetch-tensorflow.sh puts it, with
// libtensorflow_framework.so.2 beside it, under build/backends/tf/). gorai does not link it: the package
// opens it with dlopen (loader.c) the first time a TF model needs it, because it is 780 MB. Go bindings
// such as github.com/wamuir/graft link libtensorflow at build time, which would make TensorFlow a load-time
// requirement of the module, so the few TF_* functions used are resolved by hand instead. A blank import
// registers it as "TF".
package tf

/*
#cgo CFLAGS: -O2 -Wall -Wextra -I${SRCDIR}/..
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// DefaultLibrary is where the library is by default, relative to BACKENDSPATH; the path that
// build/fetch-tensorflow.sh fills.
const DefaultLibrary = "tf/libtensorflow_cc.so.2"

func init() {
	backends.Register(backends.Driver{
		Name:           "TF",
		RDBIndex:       0,
		DefaultLibrary: DefaultLibrary,
		Open:           Open,
		Info: func(b backends.Backend, _ backends.InfoEnv) []backends.InfoField {
			return []backends.InfoField{{Name: "TensorFlow_version", Value: b.Version()}}
		},
		NodeNames: true, // a GraphDef does not say which nodes are the inputs and outputs
	})
}

var library = backends.Library{Name: "TensorFlow", Hint: "build/fetch-tensorflow.sh fetches it"}

// Open loads TensorFlow's C library from libPath, once per process (backends.Library).
func Open(libPath string) (backends.Backend, error) {
	err := library.Open(libPath, func(path string) error {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		var msg [1024]C.char
		if C.gorai_tf_open(cpath, &msg[0], C.size_t(len(msg))) != 0 {
			return errors.New(oneLine(C.GoString(&msg[0])))
		}
		// TF's C API takes no allocator: its large blocks are checked against the memory left at its
		// calls to the allocator instead (libtensorflow_cc and the libtensorflow_framework it loaded).
		tensor.GuardLibraries("libtensorflow")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return backend{}, nil
}

type backend struct{}

func (backend) Name() string { return "TF" }

// Version is TensorFlow's own, TF_Version().
func (backend) Version() string { return C.GoString(C.gorai_tf_version()) }

var errNotOpen = errors.New("ERR TF backend is not loaded")

// NewModel imports a frozen graph and makes a session on it. The inputs are opts.Inputs, which must name
// Placeholder ops, and the outputs opts.Outputs, whose port 0 is fetched: operation names as SmartSim's
// freeze_model gives them, without ":0". Errors are TensorFlow's (one line) or RedisAI's texts.
func (backend) NewModel(blob []byte, opts backends.ModelOptions) (backends.Model, error) {
	if !library.IsOpen() {
		return nil, errNotOpen
	}
	gpu, id, err := backends.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	if !opts.Trusted {
		if err := checkOps(blob); err != nil {
			return nil, err
		}
	}
	config := sessionConfig(gpu, id, opts.IntraOpThreads, opts.InterOpThreads)

	names := make([]*C.char, 0, len(opts.Inputs)+len(opts.Outputs))
	defer func() {
		for _, n := range names {
			C.free(unsafe.Pointer(n))
		}
	}()
	for _, n := range append(append([]string(nil), opts.Inputs...), opts.Outputs...) {
		names = append(names, C.CString(n))
	}
	// A name holding a NUL names no node (C would see only its first part, as RedisAI prints it).
	for _, n := range opts.Inputs {
		if i := strings.IndexByte(n, 0); i >= 0 {
			return nil, fmt.Errorf("ERR Input node named \"%s\" not found in TF graph.", n[:i])
		}
	}
	for _, n := range opts.Outputs {
		if i := strings.IndexByte(n, 0); i >= 0 {
			return nil, fmt.Errorf("ERR Output node named \"%s\" not found in TF graph", n[:i])
		}
	}
	var ins, outs **C.char
	if len(opts.Inputs) > 0 {
		ins = &names[0]
	}
	if len(opts.Outputs) > 0 {
		outs = &names[len(opts.Inputs)]
	}
	// The graph is read during the call only (TF_NewBufferFromString copies it); so are the names and the
	// configuration. names is Go memory holding C pointers only.
	var blobp, configp unsafe.Pointer
	if len(blob) > 0 {
		blobp = unsafe.Pointer(&blob[0])
	}
	if len(config) > 0 {
		configp = unsafe.Pointer(&config[0])
	}
	cgpu := C.int(0)
	if gpu {
		cgpu = 1
	}
	var cerr *C.char
	h := C.gorai_tf_model_new(blobp, C.size_t(len(blob)), ins, C.int(len(opts.Inputs)), outs, C.int(len(opts.Outputs)),
		configp, C.size_t(len(config)), cgpu, &cerr)
	if h == nil {
		return nil, takeError(cerr)
	}
	m := &model{bounded: shapeBound(blob)}
	m.Init(h, func(h *C.gorai_tf_model) { C.gorai_tf_model_free(h) })
	m.Inputs, m.Outputs = append([]string(nil), opts.Inputs...), append([]string(nil), opts.Outputs...)
	return m, nil
}

// sessionConfig is the serialized ConfigProto (tensorflow/core/protobuf/config.proto) of a session, written
// by hand as RedisAI does. On the CPU: device_count {"GPU": 0}; on a GPU: gpu_options {allow_growth: true,
// visible_device_list: "<id>"}; the intra-op thread count when it is set (> 0); and the inter-op
// thread count when set, else -1: ops run on the calling worker's thread, not handed to TF's inter-op
// pool and back (the Keras FCN: 23k -> 30k runs/s with 50 clients, p50 0.22 -> 0.17 ms).
// (RedisAI sets each with its own TF_SetConfig, which replaces the whole configuration, so only its last
// one took effect; here they are one message.)
func sessionConfig(gpu bool, id, intra, inter int) []byte {
	var b []byte
	if gpu {
		opts := pbVarint(nil, 4, 1) // allow_growth
		if id >= 0 {
			opts = pbBytes(opts, 5, fmt.Appendf(nil, "%d", id)) // visible_device_list
		}
		b = pbBytes(b, 6, opts) // gpu_options
	} else {
		entry := pbBytes(nil, 1, []byte("GPU"))
		entry = pbVarint(entry, 2, 0)
		b = pbBytes(b, 1, entry) // device_count
	}
	if intra > 0 {
		b = pbVarint(b, 2, uint64(intra)) // intra_op_parallelism_threads
	}
	if inter <= 0 {
		inter = -1
	}
	b = pbVarint(b, 5, uint64(int64(inter))) // inter_op_parallelism_threads, negative as a 64-bit varint

	return b
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbVarint(b []byte, field int, v uint64) []byte {
	return appendVarint(appendVarint(b, uint64(field)<<3), v)
}

func pbBytes(b []byte, field int, data []byte) []byte {
	b = appendVarint(appendVarint(b, uint64(field)<<3|2), uint64(len(data)))
	return append(b, data...)
}

// takeError is a message from loader.c, freed; TensorFlow's own texts carry no ERR, as RedisAI passes them.
func takeError(cerr *C.char) error {
	if cerr == nil {
		return errors.New("ERR out of memory")
	}
	defer C.free(unsafe.Pointer(cerr))
	return errors.New(oneLine(C.GoString(cerr)))
}

var flatten = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func oneLine(s string) string { return flatten.Replace(s) }
