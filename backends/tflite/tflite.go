// Package tflite is the TFLITE backend: TensorFlow Lite flatbuffers (.tflite) run by LiteRT, TF Lite's
// successor, through its C API (the "compiled model" functions: LiteRtCreateModelFromBuffer,
// LiteRtCreateCompiledModel, LiteRtRunCompiledModel) from the libLiteRt.so of the official ai-edge-litert
// wheel, which build/fetch-litert.sh puts under build/backends/tflite/. That library does not export TF
// Lite's classic TfLiteInterpreter* C API, and ships no headers: loader.c declares the few functions and
// types it uses and opens the library with dlopen the first time a TFLITE model needs it. A blank import
// registers it as "TFLITE".
package tflite

/*
#cgo CFLAGS: -O2 -Wall -Wextra -fexceptions -I${SRCDIR}/.. -I${SRCDIR}/../../tensor
#cgo CXXFLAGS: -O2 -Wall -Wextra -std=c++17
#cgo LDFLAGS: -ldl -lpthread
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// DefaultLibrary is where the library is by default, relative to BACKENDSPATH; the path that
// build/fetch-litert.sh fills.
const DefaultLibrary = "tflite/libLiteRt.so"

func init() {
	backends.Register(backends.Driver{
		Name:           "TFLITE",
		RDBIndex:       1,
		DefaultLibrary: DefaultLibrary,
		Open:           Open,
		Info: func(b backends.Backend, _ backends.InfoEnv) []backends.InfoField {
			return []backends.InfoField{{Name: "TensorFlowLite_version", Value: b.Version()}}
		},
	})
}

var library = backends.Library{Name: "LiteRT", Hint: "build/fetch-litert.sh fetches it"}

// version is what INFO reports: the VERSION file beside the library (written by build/fetch-litert.sh from the
// wheel's version), since libLiteRt.so exports no version function; "unknown" without one, or for a bare
// library name, which dlopen looks up in its own search path.
var version string

// Open loads LiteRT's C library from libPath, once per process (backends.Library).
func Open(libPath string) (backends.Backend, error) {
	err := library.Open(libPath, func(path string) error {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		var msg [1024]C.char
		if C.gorai_tfl_open(cpath, &msg[0], C.size_t(len(msg))) != 0 {
			return errors.New(C.GoString(&msg[0]))
		}
		// LiteRT's C API takes no allocator: its large blocks are checked against the memory left at its
		// calls to the allocator instead.
		tensor.GuardLibraries("libLiteRt")
		version = readVersion(path)
		trial = backends.FindTrial("TFLITE", TrialProgram, path)
		trial.Start()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return backend{}, nil
}

func readVersion(libPath string) string {
	if !strings.Contains(libPath, "/") {
		return "unknown"
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(libPath), "VERSION"))
	if v := strings.TrimSpace(string(b)); err == nil && v != "" && !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return "unknown"
}

type backend struct{}

func (backend) Name() string { return "TFLITE" }

func (backend) Version() string { return version }

var (
	errNotOpen = errors.New("ERR TFLITE backend is not loaded")
	// RedisAI's text when its TF Lite could not use the GPU; gorai's LiteRT runs on the CPU only.
	errNoGPU = errors.New("Failed to set GPU delegate")
)

// NewModel compiles a .tflite flatbuffer for the CPU. Its inputs and outputs are those of the model's main
// subgraph, in order, named by their tensors (opts.Inputs and Outputs are not used: RedisAI refuses them for
// TFLITE). Errors are RedisAI's texts. A blob that is not opts.Trusted is tried in a process of its own first
// (trial.go).
func (backend) NewModel(blob []byte, opts backends.ModelOptions) (backends.Model, error) {
	if !library.IsOpen() {
		return nil, errNotOpen
	}
	gpu, _, err := backends.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	if gpu {
		return nil, errNoGPU
	}
	if !opts.Trusted {
		if err := trial.Try(opts.Wanted, "model", modelTrial, blob); err != nil {
			return nil, err
		}
	}
	var p unsafe.Pointer
	if len(blob) > 0 {
		p = unsafe.Pointer(&blob[0]) // copied by C during the call
	}
	var cerr *C.char
	h := C.gorai_tfl_model_new(p, C.size_t(len(blob)), &cerr)
	if h == nil {
		return nil, takeError(cerr)
	}
	m := &model{}
	if shapes := compiledShapes(h, int(C.gorai_tfl_model_ninputs(h))); shapes != nil {
		m.tried.add(shapes)
	}
	m.Init(h, func(h *C.gorai_tfl_model) { C.gorai_tfl_model_free(h) })
	for i := range int(C.gorai_tfl_model_ninputs(h)) {
		m.Inputs = append(m.Inputs, C.GoString(C.gorai_tfl_model_input_name(h, C.int(i))))
	}
	for i := range int(C.gorai_tfl_model_noutputs(h)) {
		m.Outputs = append(m.Outputs, C.GoString(C.gorai_tfl_model_output_name(h, C.int(i))))
	}
	return m, nil
}

// takeError is a message from loader.c, freed.
func takeError(cerr *C.char) error {
	if cerr == nil {
		return errors.New("ERR out of memory")
	}
	defer C.free(unsafe.Pointer(cerr))
	return errors.New(C.GoString(cerr))
}
