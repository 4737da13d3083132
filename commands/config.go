package commands

// Load-time configuration: the module's arguments after --loadmodule.

/*
#cgo CFLAGS: -O2 -Wall -Wextra -I${SRCDIR}/../tensor
#include "load_args.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"path/filepath"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// Config holds the module's settings. Backend paths are kept as given; they are loaded later, on
// first use.
type Config struct {
	// BackendsPath is where backend libraries are looked up: <module dir>/backends until the BACKENDSPATH
	// argument or AI.CONFIG BACKENDSPATH sets it (BackendsPathSet), as RedisAI, whose AI.CONFIG GET
	// BACKENDSPATH answers nil until then.
	BackendsPath          string
	BackendsPathSet       bool
	BackendPaths          map[string]string // a registered backend's name ("TF") -> path
	ThreadsPerQueue       int64
	IntraOpParallelism    int64 // 0: the backend's default
	InterOpParallelism    int64 // 0: the backend's default
	ModelChunkSize        int64
	ModelExecutionTimeout int64 // ms, ONNX only
	BackendMemoryLimit    int64 // MB, ONNX only; 0: unlimited
	// MainThreadRunLimit: a model run known to take at most this many µs may run on Redis' main
	// thread when nothing else waits (exec.RunsInPlace); 0: never.
	MainThreadRunLimit int64
	// PreloadBackends: open, at the server's start, the backends whose libraries are in place.
	PreloadBackends bool
	// OnChange, when set, is called after AI.CONFIG has changed a setting.
	OnChange func(*Config)
}

// DefaultConfig is the configuration of a module loaded from moduleDir with no arguments.
func DefaultConfig(moduleDir string) Config {
	var s C.gorai_settings
	C.gorai_settings_default(&s)
	return configOf(moduleDir, &s)
}

// configOf is the configuration that settings s (load_args.c) give a module loaded from moduleDir.
func configOf(moduleDir string, s *C.gorai_settings) Config {
	return Config{
		BackendsPath:          filepath.Join(moduleDir, "backends"),
		BackendPaths:          map[string]string{},
		ThreadsPerQueue:       int64(s.threads_per_queue),
		IntraOpParallelism:    int64(s.intra_op_parallelism),
		InterOpParallelism:    int64(s.inter_op_parallelism),
		ModelChunkSize:        int64(s.model_chunk_size),
		ModelExecutionTimeout: int64(s.model_execution_timeout),
		BackendMemoryLimit:    int64(s.backend_memory_limit),
		MainThreadRunLimit:    int64(s.main_thread_run_limit),
		PreloadBackends:       s.preload_backends != 0,
	}
}

// ParseLoadArgs applies "KEY VALUE ..." pairs to the default configuration through the module's
// grammar of them (load_args.c, which the module runs at load without Go); a key that names no
// setting must name a registered backend, whose path is kept. The error is the line RedisAI logs
// before refusing to load.
func ParseLoadArgs(moduleDir string, args [][]byte) (Config, error) {
	var s C.gorai_settings
	paths := map[string]string{}
	var msg [256]C.char
	bad := tensor.WithCArgs(args, func(p, l unsafe.Pointer, n int) C.int {
		ptrs, lens := (**C.char)(p), (*C.size_t)(l)
		bad := C.gorai_parse_load_args(ptrs, lens, C.int(n), &s)
		for i := 0; bad < 0 && s.other_keys > 0 && i < n; i += 2 {
			if C.gorai_is_setting(unsafe.Slice(ptrs, n)[i], unsafe.Slice(lens, n)[i]) != 0 {
				continue
			}
			if name, ok := backendNamed(args[i]); ok {
				paths[name] = string(args[i+1])
			} else {
				bad = C.int(i)
			}
		}
		if bad >= 0 {
			C.gorai_load_args_error(&msg[0], C.size_t(len(msg)), ptrs, lens, C.int(n), bad)
		}
		return bad
	})
	c := configOf(moduleDir, &s)
	if bad >= 0 {
		return c, errors.New(C.GoString(&msg[0]))
	}
	if s.backends_path >= 0 {
		c.BackendsPath, c.BackendsPathSet = string(args[s.backends_path]), true
	}
	c.BackendPaths = paths
	return c, nil
}

// backendNamed is the registered backend that name names, in any case.
func backendNamed(name []byte) (string, bool) {
	for _, b := range backends.Names() {
		if bytes.EqualFold(name, []byte(b)) {
			return b, true
		}
	}
	return "", false
}

var (
	errUnsupportedSubcommand = errf("ERR unsupported subcommand")
	errLoadingBackend        = errf("ERR error loading backend")
	errBackendsPathMissing   = errf("ERR BACKENDSPATH: missing path argument")
	errChunkSizeMissing      = errf("ERR MODEL_CHUNK_SIZE: missing chunk size")
	errChunkSizeInvalid      = errf("ERR MODEL_CHUNK_SIZE: invalid chunk size")
)

// ConfigCommand: AI.CONFIG LOADBACKEND backend path | BACKENDSPATH path | MODEL_CHUNK_SIZE bytes |
// GET BACKENDSPATH|MODEL_CHUNK_SIZE. Not replicated: each server has its own configuration.
func ConfigCommand(env Env, args [][]byte) error {
	c := env.Runtime.Config()
	sub, rest := args[1], args[2:]
	switch {
	case is(sub, "LOADBACKEND"):
		if len(rest) < 2 {
			return ErrWrongArity
		}
		if err := env.Runtime.MayLoadLibraries(); err != nil {
			return err
		}
		name, err := parseBackend(rest[0])
		if err != nil {
			return err
		}
		if env.Runtime.LoadBackend(name, c.ResolveBackendPath(string(rest[1]))) != nil {
			return errLoadingBackend
		}
	case is(sub, "BACKENDSPATH"):
		if len(rest) < 1 {
			return errBackendsPathMissing
		}
		// A backend not yet opened is opened from BACKENDSPATH at its first use.
		if err := env.Runtime.MayLoadLibraries(); err != nil {
			return err
		}
		c.BackendsPath, c.BackendsPathSet = string(rest[0]), true
	case is(sub, "MODEL_CHUNK_SIZE"):
		if len(rest) < 1 {
			return errChunkSizeMissing
		}
		n, ok := tensor.ParseInt(rest[0])
		if !ok || n <= 0 {
			return errChunkSizeInvalid
		}
		c.ModelChunkSize = n
	case is(sub, "GET"):
		if len(rest) < 1 {
			return ErrWrongArity
		}
		switch {
		case is(rest[0], "BACKENDSPATH") && c.BackendsPathSet:
			env.Out.Bulk(c.BackendsPath)
		case is(rest[0], "MODEL_CHUNK_SIZE"):
			env.Out.Int(c.ModelChunkSize)
		default:
			env.Out.Null()
		}
		return nil
	default:
		return errUnsupportedSubcommand
	}
	if c.OnChange != nil {
		c.OnChange(c)
	}
	env.Out.OK()
	return nil
}

// ResolveBackendPath puts a relative library path under BACKENDSPATH.
func (c *Config) ResolveBackendPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.BackendsPath, p)
}
