// Package torch is the TORCH backend: TorchScript models and scripts run by Debian's libtorch through a
// small C++ shim (shim/torch_shim.cpp, built by build/build-torch-shim.sh into libgorai_torch.so). The
// shim links libtorch; gorai does not: the package opens the shim with dlopen (loader.c) the first time a
// TORCH model or script needs it, because libtorch's closure is 470 MB and takes half a second to load. A
// blank import registers it as "TORCH". Scripts (script.go) may call Redis through the extension builtins
// redis.execute, redis.asList and redisAI.model_execute, which the module serves (redis.go).
package torch

/*
#cgo CFLAGS: -O2 -Wall -Wextra -I${SRCDIR}/.. -I${SRCDIR}/../../tensor
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "loader.h"
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// DefaultLibrary is where the shim is by default, relative to BACKENDSPATH; the path that
// build/build-torch-shim.sh fills.
const DefaultLibrary = "torch/libgorai_torch.so"

func init() {
	backends.Register(backends.Driver{
		Name:           "TORCH",
		RDBIndex:       2,
		DefaultLibrary: DefaultLibrary,
		Open:           Open,
		Info: func(b backends.Backend, _ backends.InfoEnv) []backends.InfoField {
			return []backends.InfoField{{Name: "Torch_version", Value: b.Version()}}
		},
		Scripts: true,
		UseHost: useHost,
	})
}

var library = backends.Library{Name: "the torch shim", Hint: "build/build-torch-shim.sh builds it"}

// Open loads the shim (and with it libtorch) from libPath, once per process (backends.Library).
func Open(libPath string) (backends.Backend, error) {
	err := library.Open(libPath, func(path string) error {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		var msg [1024]C.char
		if C.gorai_torch_open(cpath, &msg[0], C.size_t(len(msg))) != 0 {
			text := C.GoString(&msg[0])
			if strings.Contains(text, "libtorch") || strings.Contains(text, "libc10") {
				text += " (libtorch is missing: build/fetch-torch.sh puts it beside the shim)"
			}
			return errors.New(text)
		}
		// The shim's CPU allocator checks libtorch's tensors; what libtorch makes with new and malloc
		// besides (a script's lists and strings) is checked at those calls instead.
		tensor.GuardLibraries("libtorch_cpu")
		tensor.CatchFaults("libtorch_cpu")
		trial = backends.FindTrial("TORCH", TrialProgram, path)
		trial.Start()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return backend{}, nil
}

type backend struct{}

func (backend) Name() string { return "TORCH" }

// Version is libtorch's version as the shim was built against it (RedisAI 1.2.7 reports "NA").
func (backend) Version() string { return C.GoString(C.gorai_torch_lib_version()) }

// NewModel loads a TorchScript module (torch.jit.save's file) and builds forward's execution plan, so
// that the first run costs what the others do. Inputs are named after forward's arguments (self
// excluded); outputs are as many "" as forward's return type holds tensors, as RedisAI reports them.
// Thread counts are set process-wide, as RedisAI does (see setThreads).
func (backend) NewModel(blob []byte, opts backends.ModelOptions) (backends.Model, error) {
	gpu, id, err := backends.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	if err := checkArchive(blob, !opts.Trusted); err != nil {
		return nil, err
	}
	if !opts.Trusted {
		if err := trial.Try(opts.Wanted, "model", modelTrial, blob); err != nil {
			return nil, err
		}
	}
	if err := setThreads(opts.InterOpThreads, opts.IntraOpThreads); err != nil {
		return nil, err
	}
	var cerr *C.char
	var p unsafe.Pointer
	if len(blob) > 0 {
		p = unsafe.Pointer(&blob[0]) // read during the call only (the shim copies it)
	}
	cgpu := C.int(0)
	if gpu {
		cgpu = 1
	}
	h := C.gorai_torch_lib_model_load(p, C.size_t(len(blob)), cgpu, C.int(id), &cerr)
	if h == nil {
		return nil, takeError(cerr)
	}
	m := &model{}
	m.Init(h, func(h unsafe.Pointer) { C.gorai_torch_lib_model_free(h) })
	if !opts.Trusted {
		if err := m.checkOps(); err != nil {
			m.Close()
			return nil, err
		}
	}
	m.Inputs = make([]string, int(C.gorai_torch_lib_model_num_inputs(h)))
	for i := range m.Inputs {
		m.Inputs[i] = C.GoString(C.gorai_torch_lib_model_input_name(h, C.int(i)))
	}
	n := int(C.gorai_torch_lib_model_num_outputs(h))
	if n < 0 {
		C.gorai_torch_lib_model_free(h)
		return nil, errUnknownOutputs
	}
	m.Outputs = make([]string, n)
	return m, nil
}

// checkOps refuses a model whose compiled code calls an op the shim refuses in a client's code (files,
// memory outside its tensors: torch_shim.cpp's refusedOp), in any method, block or forked function.
func (m *model) checkOps() error {
	h, ok := m.Acquire()
	if !ok {
		return errClosed
	}
	defer m.Release()
	var cerr *C.char
	if C.gorai_torch_lib_model_check_files(h, &cerr) != 0 {
		return takeError(cerr)
	}
	return nil
}

// errUnknownOutputs refuses a forward that returns List[Tensor]: TorchScript does not say how long the
// list is, and a model needs a fixed number of outputs. RedisAI 1.2.7 refuses it too, with "Erorr while
// trying to retrive model outputs number: bad optional access".
var errUnknownOutputs = errors.New("forward returns a List of unknown length: a model needs a fixed number of outputs (return a Tuple)")

// takeError is the shim's error, freed; a text without ERR, as RedisAI passes libtorch's through.
func takeError(cerr *C.char) error {
	if cerr == nil {
		return errors.New("torch shim failed without a message")
	}
	defer C.gorai_torch_lib_free_string(cerr)
	return errors.New(oneLine(C.GoString(cerr)))
}

var flatten = strings.NewReplacer("\n", " ", "\r", " ")

func oneLine(s string) string { return flatten.Replace(s) }

// cudaAvailable reports whether libtorch sees a CUDA device; the shim must be open.
func cudaAvailable() bool { return C.gorai_torch_lib_cuda_available() != 0 }

// setThreads sets libtorch's thread counts, process-wide. Intra-op threads default to one: libtorch's
// own default is an OpenMP pool of one thread per core, whose workers spin after each run and take
// the cores that Redis' main thread and the clients need (THREADS_PER_QUEUE gives parallelism across
// requests instead). An inter-op count of 0 leaves libtorch's.
func setThreads(interOp, intraOp int) error {
	if intraOp == 0 {
		intraOp = 1
	}
	var cerr *C.char
	if C.gorai_torch_lib_set_threads(C.int(interOp), C.int(intraOp), &cerr) != 0 {
		return takeError(cerr)
	}
	return nil
}
