package commands

// Load-time configuration: the module's arguments after --loadmodule.

import (
	"bytes"
	"fmt"
	"path/filepath"

	"gorai/backends"
	"gorai/tensor"
)

// Config holds the module's settings. Backend paths are kept as given; they are loaded later, on
// first use.
type Config struct {
	BackendsPath          string
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
	return Config{
		BackendsPath:          filepath.Join(moduleDir, "backends"),
		BackendPaths:          map[string]string{},
		ThreadsPerQueue:       1,
		ModelChunkSize:        511 * 1024 * 1024,
		ModelExecutionTimeout: 5000,
		MainThreadRunLimit:    100,
		PreloadBackends:       true,
	}
}

// integer options: name, minimum value, field.
func (c *Config) integerOption(name []byte) (min int64, field *int64) {
	switch {
	case bytes.EqualFold(name, []byte("THREADS_PER_QUEUE")):
		return 1, &c.ThreadsPerQueue
	case bytes.EqualFold(name, []byte("INTRA_OP_PARALLELISM")):
		return 1, &c.IntraOpParallelism
	case bytes.EqualFold(name, []byte("INTER_OP_PARALLELISM")):
		return 1, &c.InterOpParallelism
	case bytes.EqualFold(name, []byte("MODEL_CHUNK_SIZE")):
		return 1, &c.ModelChunkSize
	case bytes.EqualFold(name, []byte("MODEL_EXECUTION_TIMEOUT")):
		return 1000, &c.ModelExecutionTimeout
	case bytes.EqualFold(name, []byte("BACKEND_MEMORY_LIMIT")):
		return 1, &c.BackendMemoryLimit
	case bytes.EqualFold(name, []byte("MAIN_THREAD_RUN_LIMIT")):
		return 0, &c.MainThreadRunLimit
	}
	return 0, nil
}

// ParseLoadArgs applies "KEY VALUE ..." pairs to the default configuration, BACKENDSPATH first (so
// that relative backend paths can be resolved against it later, whatever the order given). The
// error is the line RedisAI logs before refusing to load.
func ParseLoadArgs(moduleDir string, args [][]byte) (Config, error) {
	c := DefaultConfig(moduleDir)
	if len(args)%2 != 0 {
		return c, fmt.Errorf("ERR even number of arguments required for the module's load-time configuration, got %d", len(args))
	}
	for i := 0; i < len(args); i += 2 {
		if bytes.EqualFold(args[i], []byte("BACKENDSPATH")) {
			c.BackendsPath = string(args[i+1])
		}
	}
	for i := 0; i < len(args); i += 2 {
		if err := c.apply(args[i], args[i+1]); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Config) apply(key, val []byte) error {
	if bytes.EqualFold(key, []byte("BACKENDSPATH")) {
		return nil
	}
	for _, b := range backends.Names() {
		if bytes.EqualFold(key, []byte(b)) {
			c.BackendPaths[b] = string(val)
			return nil
		}
	}
	if bytes.EqualFold(key, []byte("PRELOAD_BACKENDS")) {
		return parseYesNo(key, val, &c.PreloadBackends)
	}
	if min, field := c.integerOption(key); field != nil {
		if v, ok := tensor.ParseInt(val); ok && v >= min {
			*field = v
			return nil
		}
	}
	return fmt.Errorf("ERR error processing argument: %s %s", key, val)
}

// parseYesNo sets a switch from "yes" or "no".
func parseYesNo(key, val []byte, field *bool) error {
	switch {
	case bytes.EqualFold(val, []byte("yes")):
		*field = true
	case bytes.EqualFold(val, []byte("no")):
		*field = false
	default:
		return fmt.Errorf("ERR error processing argument: %s %s", key, val)
	}
	return nil
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
		c.BackendsPath = string(rest[0])
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
		case is(rest[0], "BACKENDSPATH"):
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
