// Package onnx is the ONNX backend: ONNX Runtime's official shared library, opened at run time
// through github.com/yalue/onnxruntime_go (which dlopens it), so that gorai has no link-time
// dependency on it and loads it only when a model first needs it. A blank import registers it
// as "ONNX".
package onnx

import (
	"errors"
	"os"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"gorai/backends"
	"gorai/tensor"
)

// DefaultLibrary is where the library is by default, relative to BACKENDSPATH; the path that
// build/fetch-onnxruntime.sh fills.
const DefaultLibrary = "onnx/libonnxruntime.so.1"

func init() {
	backends.Register(backends.Driver{
		Name:           "ONNX",
		RDBIndex:       3,
		DefaultLibrary: DefaultLibrary,
		Open:           Open,
		Info: func(b backends.Backend, env backends.InfoEnv) []backends.InfoField {
			return []backends.InfoField{
				{Name: "onnxruntime_version", Value: b.Version()},
				{Name: "onnxruntime_memory", Value: memoryInUse()},
				{Name: "onnxruntime_memory_access_num", Value: memoryAccesses()},
				{Name: "onnxruntime_maximum_run_sessions_number", Value: env.RunSessions},
			}
		},
	})
}

var library = backends.Library{Name: "ONNX Runtime", Hint: "build/fetch-onnxruntime.sh fetches it"}

// Open loads ONNX Runtime from libPath and makes its environment, with gorai's allocator
// registered, once per process (backends.Library): ORT has one environment, and the binding one
// library handle.
func Open(libPath string) (backends.Backend, error) {
	err := library.Open(libPath, func(path string) error {
		ort.SetSharedLibraryPath(path)
		// ONNX Runtime's Linux builds start Microsoft's telemetry with the environment: a log file
		// per process in /tmp, never removed, and uploads where a CA bundle is found. A database
		// sends nothing out unasked; the operator's own setting stands.
		if _, set := os.LookupEnv("ORT_DISABLE_TELEMETRY"); !set {
			os.Setenv("ORT_DISABLE_TELEMETRY", "1")
		}
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return innermost(err)
		}
		if err := registerAllocator(path); err != nil {
			ort.DestroyEnvironment()
			return err
		}
		tensor.CatchFaults("libonnxruntime")
		// Tensors come from gorai's allocator; what ONNX Runtime makes with new and malloc besides is
		// checked at those calls.
		tensor.GuardLibraries("libonnxruntime")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return backend{}, nil
}

type backend struct{}

func (backend) Name() string    { return "ONNX" }
func (backend) Version() string { return ort.GetVersion() }

// Errors of model creation with RedisAI's texts (src/backends/onnxruntime.c).
var (
	errNoCUDA        = errors.New("ERR GPU requested but ONNX couldn't find CUDA")
	errNotOpen       = errors.New("ERR ONNX backend is not loaded")
	errClosedSession = errors.New("ERR ONNXRuntime session was not allocated")
)

// NewModel makes a session from the blob. Input and output names (and their order, which binds
// the command's INPUTS and OUTPUTS) come from the model.
func (backend) NewModel(blob []byte, opts backends.ModelOptions) (backends.Model, error) {
	if !ort.IsInitialized() {
		return nil, errNotOpen
	}
	gpu, id, err := backends.ParseDevice(opts.Device)
	if id < 0 {
		id = 0 // ORT's CUDA provider wants a device number
	}
	if err != nil {
		return nil, err
	}
	if !opts.Trusted {
		if err := checkExternalData(blob); err != nil {
			return nil, err
		}
		if err := checkUnsafeOps(blob); err != nil {
			return nil, err
		}
	}
	setMemoryLimit(opts.MemoryLimit) // the configuration's, the same for every model
	so, err := sessionOptions(opts, gpu, id)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()

	// The binding wants the names before it makes the session, so a first, temporary session
	// reads them; it also rejects a blob that is not a model.
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(blob)
	if err != nil {
		return nil, innermost(err)
	}
	m := &model{inputs: names(ins), outputs: names(outs), timeout: opts.ExecutionTimeout, bounded: shapeBound(blob)}
	handed := handedOver(m.inputs, m.outputs)
	m.unsupported = unsupportedRun(m.outputs, outs)
	if m.unsupported == nil {
		m.unsupported = sparseOutput(blob)
	}
	m.bound = boundOutputs(outs, handed)
	m.session, err = ort.NewDynamicAdvancedSessionWithONNXData(blob, m.inputs, m.outputs, so)
	if err != nil {
		return nil, innermost(err)
	}
	m.cInputs, m.cOutputs = newCNames(m.inputs), newCNames(m.outputs)
	return m, nil
}

// sessionOptions are RedisAI's (basic graph optimizations, threads from the configuration) with
// gorai's defaults: one intra-op thread that does not spin unless INTRA_OP_PARALLELISM says
// otherwise, because ORT's default pool (a spinning worker per core) takes CPU from Redis' own
// thread and the clients (measured: 22.8k against 32.4k mnist runs/s).
func sessionOptions(opts backends.ModelOptions, gpu bool, id int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, innermost(err)
	}
	if err := configure(so, opts, gpu, id); err != nil {
		so.Destroy()
		return nil, err
	}
	return so, nil
}

func configure(so *ort.SessionOptions, opts backends.ModelOptions, gpu bool, id int) error {
	if err := so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableBasic); err != nil {
		return innermost(err)
	}
	intra := opts.IntraOpThreads
	if intra <= 0 {
		intra = 1
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return innermost(err)
		}
	}
	if err := so.SetIntraOpNumThreads(intra); err != nil {
		return innermost(err)
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return innermost(err)
		}
	}
	if !gpu {
		return useEnvAllocator(so)
	}
	// The official CPU package has no CUDA provider; a library built with one would work.
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return errNoCUDA
	}
	defer cuda.Destroy()
	if cuda.Update(map[string]string{"device_id": strconv.Itoa(id)}) != nil ||
		so.AppendExecutionProviderCUDA(cuda) != nil {
		return errNoCUDA
	}
	return nil
}

// useEnvAllocator makes a CPU session take its memory from the environment's allocator, gorai's
// (allocator.cc), as RedisAI's do: ORT's arena would keep freed memory for itself, out of the
// allocator's sight.
func useEnvAllocator(so *ort.SessionOptions) error {
	if err := so.AddSessionConfigEntry("session.use_env_allocators", "1"); err != nil {
		return innermost(err)
	}
	if err := so.SetCpuMemArena(false); err != nil {
		return innermost(err)
	}
	return nil
}

func names(infos []ort.InputOutputInfo) []string {
	n := make([]string, len(infos))
	for i, info := range infos {
		n[i] = info.Name
	}
	return n
}

// innermost is the error at the bottom of the binding's wrapping: ORT's own message where ORT
// failed (the binding adds only its own context above it), on one line as RedisAI replies it.
func innermost(err error) error {
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		err = u
	}
	return errors.New(oneLine(err.Error()))
}

var flatten = strings.NewReplacer("\n", " ", "\r", " ")

func oneLine(s string) string { return flatten.Replace(s) }
