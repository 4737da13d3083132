package torch

/*
#include "loader.h"
*/
import "C"

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// The TORCH backend runs scripts too.
var _ backends.ScriptBackend = backend{}

// NewScript compiles TorchScript source into a compilation unit (its common indentation removed first,
// so that the indented nested def that inspect.getsource gives compiles) and checks each entry point's
// signature. Errors are TorchScript's compile message or RedisAI's entry-point texts, without ERR.
// Thread counts are set process-wide, as for models.
// errNULInSource refuses a source with a NUL byte: RedisAI reads a script's source as a C string (its RDB
// file keeps it so, NUL-terminated), and one stored with a NUL inside ran but could not be loaded back,
// from the RDB file or by a replica.
var errNULInSource = errors.New("ERR TORCH script source holds a NUL byte: it cannot be stored")

func (backend) NewScript(source []byte, opts backends.ScriptOptions) (backends.Script, error) {
	gpu, id, err := backends.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	if err := setThreads(opts.InterOpThreads, opts.IntraOpThreads); err != nil {
		return nil, err
	}
	if bytes.IndexByte(source, 0) >= 0 {
		return nil, errNULInSource
	}
	var cerr *C.char
	if !bytes.HasSuffix(source, []byte("\n")) {
		// TorchScript's parser wants the last line ended; Python's, which clients write for, does not.
		source = append(source[:len(source):len(source)], '\n')
	}
	if !opts.Trusted {
		if err := trial.Try(opts.Wanted, "script", scriptTrial, source); err != nil {
			return nil, err
		}
	}
	src := (*C.char)(unsafe.Pointer(&source[0])) // read during the call only
	ep := packStrings(opts.EntryPoints)
	cgpu := C.int(0)
	if gpu {
		cgpu = 1
	}
	h := C.gorai_torch_lib_script_compile(src, C.size_t(len(source)), cgpu, C.int(id), ep.data, ep.lens, ep.n, &cerr)
	if h == nil {
		return nil, takeError(cerr)
	}
	if !opts.Trusted && C.gorai_torch_lib_script_check_files(h, &cerr) != 0 {
		C.gorai_torch_lib_script_free(h)
		return nil, takeError(cerr)
	}
	return &script{h: h}, nil
}

// script is one compiled compilation unit. Its functions may run from many threads at once; the lock
// only keeps Close from freeing it under a Run.
type script struct {
	mu sync.RWMutex
	h  unsafe.Pointer // the shim's script; nil once closed
}

var errScriptClosed = errors.New("ERR torch script was freed")

func (s *script) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		C.gorai_torch_lib_script_free(s.h)
		s.h = nil
	}
}

// Run calls fn: an entry point with (inputs, keys, args), any other function with the inputs
// positionally. The inputs' C memory is handed to libtorch without a copy; the outputs are new tensors
// (none when nOutputs is 0, the function's result being ignored).
func (s *script) Run(ctx context.Context, fn string, inputs []tensor.Tensor, keys, args []string, nOutputs int) ([]tensor.Tensor, error) {
	in, err := describe(inputs, func(i int) string { return strconv.Itoa(i) })
	if err != nil {
		return nil, err
	}
	k, a := packStrings(keys), packStrings(args)
	name := packStrings([]string{fn})
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.h == nil {
		return nil, errScriptClosed
	}
	return collect(ctx, nOutputs, func(run C.uintptr_t, cerr **C.char) C.int {
		return C.gorai_torch_lib_script_run(s.h, name.data, C.size_t(len(fn)), C.int(len(in)), first(in),
			k.data, k.lens, k.n, a.data, a.lens, a.n, C.int(nOutputs), run, cerr)
	})
}

// packed is a list of strings as the shim takes it: their bytes one after another and their lengths,
// in Go memory that holds no pointers (so cgo lets C read it during a call).
type packed struct {
	data *C.char
	lens *C.size_t
	n    C.int
}

func packStrings(ss []string) packed {
	if len(ss) == 0 {
		return packed{}
	}
	total := 0
	for _, s := range ss {
		total += len(s)
	}
	buf := make([]byte, total+1) // +1: a valid address even when every string is empty
	lens := make([]C.size_t, len(ss))
	off := 0
	for i, s := range ss {
		off += copy(buf[off:], s)
		lens[i] = C.size_t(len(s))
	}
	return packed{data: (*C.char)(unsafe.Pointer(&buf[0])), lens: &lens[0], n: C.int(len(ss))}
}
