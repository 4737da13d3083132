// Package backends is what the core knows of the ML runtimes: a Backend makes Models from
// serialized blobs, a Model runs on tensors. Runtimes register themselves here under RedisAI's
// backend names, database/sql style, so the core never imports a runtime's internals, and their
// libraries are opened only when first needed: the module loads and serves tensors with no ML
// library installed.
package backends

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorai/tensor"
)

// Backend is an opened runtime.
type Backend interface {
	Name() string    // RedisAI's name: "ONNX", "TORCH", "TF", "TFLITE"
	Version() string // the library's own version, for INFO
	// NewModel builds a model from a blob as clients store it. Its errors are reply texts
	// (RedisAI passes the runtime's message through, flattened to one line).
	NewModel(blob []byte, opts ModelOptions) (Model, error)
}

// Model is a loaded model. Run may be called from many goroutines at once; Close is called once,
// after the last Run has returned.
type Model interface {
	// Run takes the inputs in the order of InputNames (it keeps no reference to them after it
	// returns) and gives new tensors, owned by the caller, in the order of OutputNames. An
	// output the runtime cannot express as a tensor is a zero Tensor (RedisAI skips it too).
	Run(inputs []tensor.Tensor) ([]tensor.Tensor, error)
	InputNames() []string
	OutputNames() []string
	Close()
}

// ShapeBound is implemented by models that can tell whether their runs' work is set by the shapes of
// their inputs alone: no loops, and no sizes taken from the inputs' values (every op of the model
// on a list of such ops). Only such a model's runs are made on Redis' main thread when its recent
// runs were short (exec.RunsInPlace): another's run on an input of the same size could take seconds
// there (an ONNX Loop whose trip count is an input), with every client waiting.
type ShapeBound interface {
	ShapeBound() bool
}

// BatchSizeWorded is implemented by models whose backend words the error for a batch whose outputs are
// not the batch's size otherwise than RedisAI's others do (TF).
type BatchSizeWorded interface {
	BatchSizeError() error
}

// ScriptBackend is a backend that also runs scripts (TORCH: TorchScript source).
type ScriptBackend interface {
	Backend
	// NewScript compiles source. Each entry point must exist with the signature
	// (tensors: List[Tensor], keys: List[str], args: List[str]); errors are reply texts.
	NewScript(source []byte, opts ScriptOptions) (Script, error)
}

// ScriptOptions are the settings a script is built with.
type ScriptOptions struct {
	Device         string
	EntryPoints    []string // empty for scripts stored with the deprecated AI.SCRIPTSET
	IntraOpThreads int
	InterOpThreads int
	Trusted        bool            // as ModelOptions.Trusted
	Wanted         context.Context // as ModelOptions.Wanted
}

// Script is a compiled script. Run may be called from many goroutines at once; Close is called
// once, after the last Run has returned.
type Script interface {
	// Run calls function fn. An entry point gets the inputs as a List[Tensor], and keys and args
	// as List[str]; any other function (RedisAI's legacy calling) gets the inputs positionally,
	// a trailing List[Tensor] parameter taking the rest. The returned Tensor, List or Tuple of
	// tensors is flattened into exactly nOutputs tensors, owned by the caller (0: the return
	// value is ignored). ctx is handed to what the script calls back into (Redis' commands and
	// models run as the user who ran the script).
	Run(ctx context.Context, fn string, inputs []tensor.Tensor, keys, args []string, nOutputs int) ([]tensor.Tensor, error)
	Close()
}

// ModelOptions are the settings a model is built with.
type ModelOptions struct {
	Device         string // as stored: CPU, CPU:<n>, GPU, GPU:<n> (any case)
	IntraOpThreads int    // 0: the backend's default for gorai
	InterOpThreads int    // 0: the backend's default
	// Inputs and Outputs name the graph nodes to feed and fetch, for runtimes whose blobs do not
	// say (TF); others take the names from the model and ignore these.
	Inputs, Outputs []string
	// ExecutionTimeout, when positive, is how long one run may take before the runtime is told
	// to stop it (MODEL_EXECUTION_TIMEOUT; ONNX only, as in RedisAI).
	ExecutionTimeout time.Duration
	// MemoryLimit, when positive, caps the bytes the runtime holds for all its models together
	// (BACKEND_MEMORY_LIMIT; ONNX only, as in RedisAI): a model or run that needs more fails.
	MemoryLimit int64
	// Trusted: the blob is one Redis itself hands over (its RDB or AOF being loaded, its master's
	// stream), not a client's (AI.MODELSTORE, RESTORE, the low-level API). A client's is checked
	// first: tried in a process of its own where a damaged blob can crash the runtime (TFLITE,
	// TORCH), and refused where it would reach files outside the model (ONNX, TF, TORCH).
	Trusted bool
	// Wanted is done once nobody waits for the model any more (the storing client left): a trial
	// not begun by then is skipped, and the build fails with ErrNotWanted. Nil: always wanted.
	Wanted context.Context
}

// ErrNotWanted fails a build nobody waits for any more: trials are made one at a time, and a store
// abandoned by its client (one that timed out, say) held up the next client's behind it.
var ErrNotWanted = errors.New("ERR the store was dropped: its client has gone")

// LoadError is a backend that could not be opened. Commands reply with RedisAI's fixed text
// ("ERR Could not load backend" for a model that needs it, "ERR error loading backend" for
// AI.CONFIG LOADBACKEND) and log this error, which says why.
type LoadError struct {
	Backend, Path string
	Err           error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("could not load backend %s from %s: %v", e.Backend, e.Path, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Driver is a backend as the core knows it before its library is opened: what a runtime's package
// registers from its init. The registry of drivers is the one list of backends: the module's
// load-time arguments, AI.MODELSTORE's backend argument, the RDB backend numbers, the AOF rewrite,
// INFO's fields, the preload and the scripts' runtime all come from it. Adding a backend is a
// package that registers a Driver, and a blank import of it in the module (module/backends.go).
type Driver struct {
	// Name is RedisAI's name for the backend, upper-case ("TF"); it is matched case-insensitively.
	// INFO's backends_config section reports a path given for it as <lower-case name>_path.
	Name string
	// RDBIndex is the backend's number in RDB files (RedisAI's: TF 0, TFLITE 1, TORCH 2, ONNX 3).
	// The registry lists the backends in this order, as RedisAI's INFO does.
	RDBIndex int
	// DefaultLibrary is where the library is when no path was given, relative to BACKENDSPATH.
	DefaultLibrary string
	// Open loads the library from libPath (once it succeeds, never again: see Load and Open).
	Open func(libPath string) (Backend, error)
	// Info gives the backend's fields in INFO's backends_info section, once it is open (nil: none).
	Info func(b Backend, env InfoEnv) []InfoField
	// Scripts: the opened Backend is a ScriptBackend, the one that AI.SCRIPTSTORE uses (TORCH).
	Scripts bool
	// NodeNames: the runtime's blobs do not name their graph's inputs and outputs, so AI.MODELSTORE
	// takes them (INPUTS n names... OUTPUTS m names...) and the AOF rewrite writes them back (TF).
	NodeNames bool
	// UseHost, when set, is handed the module's Host (see SetHost), for a runtime whose code calls
	// back into Redis (TORCH scripts' redis.execute and redisAI.model_execute); nil takes it back.
	UseHost func(Host)
}

// InfoEnv is what a backend's INFO fields may depend on beside the backend itself.
type InfoEnv struct {
	// RunSessions is how many runs may be in flight at once: the device queues times
	// THREADS_PER_QUEUE (ONNX's onnxruntime_maximum_run_sessions_number).
	RunSessions int64
}

// InfoField is one INFO field: Value is a string or an int64.
type InfoField struct {
	Name  string
	Value any
}

// Host is what the module offers runtimes whose code calls back into Redis. Both methods run on the
// goroutine of the caller's run (possibly many at once) and get the context that run was given.
type Host interface {
	// Execute runs a Redis command as the run's user and returns its reply: nil, a string, an
	// int64 or a []any of those; an error reply (returned, or inside an array) is an error.
	Execute(ctx context.Context, cmd string, args []string) (any, error)
	// ModelExecute runs the model stored at key on inputs (which it does not own) and returns
	// nOutputs new tensors, owned by the caller.
	ModelExecute(ctx context.Context, key string, inputs []tensor.Tensor, nOutputs int) ([]tensor.Tensor, error)
}

// entry is one registered backend and what became of its opening.
type entry struct {
	Driver
	// opening is held while the library is opened, and while the fields below change: a caller that
	// needs the backend while another opens it waits for that opening instead of starting its own.
	opening sync.Mutex
	path    string // where the backend was opened from
	err     error  // the last failure, replayed to lazy loads of the same path (see failsAgain)
	// preloaded: opened by Preload and not yet asked for, so an explicit Open of the same path is still
	// the first one (the preload stays invisible to AI.CONFIG LOADBACKEND).
	preloaded bool
	// opened is the Backend once opened; never unset (libraries cannot be unloaded safely). It is
	// read without taking opening: INFO, on Redis' main thread, must not wait for a library to open.
	opened atomic.Value
}

var (
	mu       sync.Mutex // guards registry, ordered and host
	registry = map[string]*entry{}
	ordered  []*entry // by RDBIndex
	host     Host     // the module's, handed to drivers registered later too
)

// key makes names case-insensitive, as RedisAI's backend names are.
func key(name string) string { return strings.ToUpper(name) }

// Register makes a backend known under d.Name and d.RDBIndex, both unique. Backends call it from
// init, so the core only needs a blank import.
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[key(d.Name)]; dup {
		panic("backends: Register called twice for " + d.Name)
	}
	for _, e := range ordered {
		if e.RDBIndex == d.RDBIndex {
			panic(fmt.Sprintf("backends: %s and %s both have RDB index %d", e.Name, d.Name, d.RDBIndex))
		}
	}
	if d.RDBIndex < 0 {
		panic(fmt.Sprintf("backends: %s has a negative RDB index", d.Name))
	}
	d.Name = key(d.Name)
	e := &entry{Driver: d}
	registry[e.Name] = e
	ordered = append(ordered, e)
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].RDBIndex < ordered[j].RDBIndex })
	if host != nil && d.UseHost != nil {
		d.UseHost(host)
	}
}

// Drivers are the registered backends, by RDB index.
func Drivers() []Driver {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Driver, len(ordered))
	for i, e := range ordered {
		out[i] = e.Driver
	}
	return out
}

// Names are the registered backends' names, by RDB index.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, len(ordered))
	for i, e := range ordered {
		out[i] = e.Name
	}
	return out
}

// Lookup is the backend registered under name (any case).
func Lookup(name string) (Driver, bool) {
	mu.Lock()
	defer mu.Unlock()
	if e := registry[key(name)]; e != nil {
		return e.Driver, true
	}
	return Driver{}, false
}

// ByIndex is the backend registered under RDB index i.
func ByIndex(i int) (Driver, bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range ordered {
		if e.RDBIndex == i {
			return e.Driver, true
		}
	}
	return Driver{}, false
}

// ScriptDriver is the backend that runs scripts (the first by RDB index, should there be more).
func ScriptDriver() (Driver, bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range ordered {
		if e.Scripts {
			return e.Driver, true
		}
	}
	return Driver{}, false
}

// SetHost hands h to every backend that wants it (Driver.UseHost), now and as they register; nil
// takes it back.
func SetHost(h Host) {
	mu.Lock()
	host = h
	var use []func(Host)
	for _, e := range ordered {
		if e.UseHost != nil {
			use = append(use, e.UseHost)
		}
	}
	mu.Unlock()
	for _, u := range use {
		u(h)
	}
}

// Load is the lazy path (a model that needs the backend, an RDB load): the opened backend, or
// the backend opened now from libPath. A library that failed to open is remembered and its failure
// returned again, without another try, until an explicit Open succeeds; a missing one is looked for
// again (see failsAgain).
func Load(name, libPath string) (Backend, error) {
	e, err := lookup(name, libPath)
	if err != nil {
		return nil, err
	}
	e.opening.Lock()
	defer e.opening.Unlock()
	e.preloaded = false
	return e.openLazily(name, libPath)
}

// Preload is Load ahead of any need, at the server's start: a backend it opens still looks unopened
// to the next Open of the same path. It returns nil and no error when the backend was open already
// (AI.CONFIG LOADBACKEND may have opened it first, from another path).
func Preload(name, libPath string) (Backend, error) {
	e, err := lookup(name, libPath)
	if err != nil {
		return nil, err
	}
	e.opening.Lock()
	defer e.opening.Unlock()
	if e.backend() != nil {
		return nil, nil
	}
	b, err := e.openLazily(name, libPath)
	e.preloaded = b != nil
	return b, err
}

// Open is the explicit path (a load-time argument, AI.CONFIG LOADBACKEND): it tries libPath even
// after a failure, and refuses a backend that is already open (RedisAI cannot load one twice),
// unless only a preload opened it, from this same path.
func Open(name, libPath string) (Backend, error) {
	e, err := lookup(name, libPath)
	if err != nil {
		return nil, err
	}
	e.opening.Lock()
	defer e.opening.Unlock()
	if b := e.backend(); b != nil {
		if e.preloaded && e.path == libPath {
			e.preloaded = false
			return b, nil
		}
		return nil, &LoadError{Backend: key(name), Path: libPath, Err: fmt.Errorf("already loaded")}
	}
	e.open1(name, libPath)
	if b := e.backend(); b != nil {
		return b, nil
	}
	return nil, e.err
}

// Loaded is the backend if it is open, else nil; it never opens anything, nor waits for an opening
// in progress (for INFO).
func Loaded(name string) Backend {
	mu.Lock()
	e := registry[key(name)]
	mu.Unlock()
	if e == nil {
		return nil
	}
	return e.backend()
}

func lookup(name, libPath string) (*entry, error) {
	mu.Lock()
	defer mu.Unlock()
	e := registry[key(name)]
	if e == nil {
		return nil, &LoadError{Backend: key(name), Path: libPath, Err: fmt.Errorf("no such backend in this build")}
	}
	return e, nil
}

func (e *entry) backend() Backend {
	b, _ := e.opened.Load().(Backend)
	return b
}

// openLazily is Load's rule, with opening held.
func (e *entry) openLazily(name, libPath string) (Backend, error) {
	if e.backend() == nil && !e.failsAgain(libPath) {
		e.open1(name, libPath)
	}
	if b := e.backend(); b != nil {
		return b, nil
	}
	return nil, e.err
}

// failsAgain reports whether a lazy load from libPath would only repeat the last failure: a library at
// libPath that did not open is not tried again (dlopen of a broken one, and its failure, on every command),
// but one that was not there is looked for again, as RedisAI does (a stat): it may be in place now.
func (e *entry) failsAgain(libPath string) bool {
	le, _ := e.err.(*LoadError)
	return le != nil && le.Path == libPath && !errors.Is(le.Err, fs.ErrNotExist)
}

// open1 opens the library, with opening held.
func (e *entry) open1(name, libPath string) {
	b, err := e.Open(libPath)
	if err != nil {
		e.err = &LoadError{Backend: key(name), Path: libPath, Err: err}
		return
	}
	e.path, e.err = libPath, nil
	e.opened.Store(b)
}

// ErrBadDevice is RedisAI's reply to a device no backend understands.
var ErrBadDevice = errors.New("ERR unsupported device")

// ParseDevice reads a device as RedisAI's parseDeviceStr does: anything that starts with CPU is
// the CPU; GPU is the default GPU (id -1); GPU:<n> is GPU n.
func ParseDevice(s string) (gpu bool, id int, err error) {
	u := strings.ToUpper(s)
	switch {
	case strings.HasPrefix(u, "CPU"):
		return false, 0, nil
	case u == "GPU":
		return true, -1, nil
	case strings.HasPrefix(u, "GPU:"):
		id, err := strconv.Atoi(u[4:])
		if err != nil || id < 0 {
			return false, 0, ErrBadDevice
		}
		return true, id, nil
	}
	return false, 0, ErrBadDevice
}
