package onnx

import (
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"gorai/tensor"
)

// model is one ORT session. ORT sessions may run from many threads at once; the lock only keeps
// Close from freeing the session under a Run.
type model struct {
	mu          sync.RWMutex
	session     *ort.DynamicAdvancedSession // nil once closed
	inputs      []string
	outputs     []string
	cInputs     cNames // inputs and outputs, for ORT's Run
	cOutputs    cNames
	bound       []*boundOutput // outputs ORT may write into tensors of ours (nil where not)
	unsupported error          // see unsupportedRun
	timeout     time.Duration  // the kill switch's limit per run; 0: none
	bounded     bool           // see ShapeBound
}

// ShapeBound reports whether every op of the model is of shapeBoundOps (backends.ShapeBound).
func (m *model) ShapeBound() bool { return m.bounded }

func (m *model) InputNames() []string  { return m.inputs }
func (m *model) OutputNames() []string { return m.outputs }

// Close releases the session.
func (m *model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.session != nil {
		m.session.Destroy()
		m.cInputs.free()
		m.cOutputs.free()
		m.session = nil
	}
}

// Run feeds the inputs to ORT without copying them (ORT reads the tensors' C memory in place).
// Outputs of a declared shape (dim 0 may be free: the batch) are written by ORT into their tensors
// (see boundOutput); the others are copied into new tensors.
func (m *model) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	if len(inputs) != len(m.inputs) {
		return nil, fmt.Errorf("ERR Expected %d inputs but got %d", len(m.inputs), len(inputs))
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.session == nil {
		return nil, errClosedSession
	}

	if m.unsupported != nil {
		return nil, m.unsupported
	}
	in := make([]ort.Value, len(inputs))
	defer destroyAll(in)
	for i, t := range inputs {
		v, err := toORT(t)
		if err != nil {
			return nil, fmt.Errorf("ERR ONNX input %s: %v", m.inputs[i], err)
		}
		in[i] = v
	}
	rows := batchRows(inputs)
	made, results, err := m.runBound(in, rows)
	if err != nil {
		return nil, innermost(err)
	}
	defer releaseMade(made)
	for i, v := range made {
		if v == nil {
			continue // bound: ORT wrote it in place
		}
		made[i] = nil // takeOutput releases it
		t, err := takeOutput(v)
		if err != nil {
			releaseAll(results)
			return nil, fmt.Errorf("ERR ONNX output %s: %v", m.outputs[i], err)
		}
		results[i] = t
	}
	return results, nil
}

// runBound runs with the bound outputs; if that fails, and not by the kill switch or a fault, it
// runs again without (whose failure is the one reported), and if ORT then succeeds the model
// computes other shapes than those it declares: its outputs are not bound again. rows is the
// inputs' dim 0 (see boundOutput.batch).
func (m *model) runBound(in []ort.Value, rows int64) ([]unsafe.Pointer, []tensor.Tensor, error) {
	bind := anyBound(m.bound, rows)
	made, results, stopped, err := m.run(in, bind, rows)
	if err == nil || stopped || !bind {
		return made, results, err
	}
	made, results, _, err = m.run(in, false, rows)
	if err != nil {
		return nil, nil, err // the model's own failure: the first may be ORT's refusal of a bound shape
	}
	unbindAll(m.bound)
	return made, results, nil
}

// run lets ORT write each output, when bind is set, into its tensor if the output is bound; and
// otherwise into memory ORT allocates with the shape it computes (made). results holds the bound
// outputs' tensors (zero for the others). stopped reports a run the kill switch or a fault stopped.
func (m *model) run(in []ort.Value, bind bool, rows int64) (made []unsafe.Pointer, results []tensor.Tensor, stopped bool, err error) {
	out := make([]ort.Value, len(m.outputs))
	results = make([]tensor.Tensor, len(m.outputs))
	defer func() {
		destroyAll(out)
		if err != nil {
			releaseAll(results)
			results = nil
		}
	}()
	for i := 0; bind && i < len(out); i++ {
		var bound bool
		if results[i], out[i], bound, err = m.bound[i].bind(rows); err != nil {
			return
		} else if !bound {
			out[i] = nil
		}
	}
	kill, err := m.armKillSwitch()
	if err != nil {
		return
	}
	made, faulted, err := ortRun(sessionPointer(m.session), kill.options(), m.cInputs, m.cOutputs, in, out)
	stopped = kill.disarm() || faulted
	return made, results, stopped, err
}

// killSwitch tells ORT to stop a run that has taken longer than the model's timeout (RedisAI's
// MODEL_EXECUTION_TIMEOUT), so that a runaway model cannot hold a worker for ever. The run then
// fails with ORT's "Exiting due to terminate flag being set to true".
type killSwitch struct {
	mu    sync.Mutex
	ro    *ort.RunOptions // nil once disarmed, or when there is no timeout
	timer *time.Timer
	fired bool
}

func (m *model) armKillSwitch() (*killSwitch, error) {
	k := &killSwitch{}
	if m.timeout <= 0 {
		return k, nil
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, err
	}
	k.ro = ro
	k.timer = time.AfterFunc(m.timeout, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.ro != nil {
			k.ro.Terminate()
			k.fired = true
		}
	})
	return k, nil
}

func (k *killSwitch) options() *ort.RunOptions { return k.ro }

// disarm stops the timer and frees the options, and reports whether the switch fired; the lock
// keeps a firing timer from using them.
func (k *killSwitch) disarm() bool {
	if k.ro == nil {
		return false
	}
	k.timer.Stop()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ro.Destroy()
	k.ro = nil
	return k.fired
}

// destroyAll frees ORT values; the binding may leave typed nil pointers behind when it fails.
func destroyAll(vs []ort.Value) {
	for _, v := range vs {
		if v != nil && !reflect.ValueOf(v).IsNil() {
			v.Destroy()
		}
	}
}

// value drops the binding's typed nil on error, so that a nil Value means "none".
func value[V ort.Value](v V, err error) (ort.Value, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ortTypes maps tensor dtypes to ORT's element types; every RedisAI dtype has one.
var ortTypes = map[tensor.DType]ort.TensorElementDataType{
	tensor.Float:  ort.TensorElementDataTypeFloat,
	tensor.Double: ort.TensorElementDataTypeDouble,
	tensor.Int8:   ort.TensorElementDataTypeInt8,
	tensor.Int16:  ort.TensorElementDataTypeInt16,
	tensor.Int32:  ort.TensorElementDataTypeInt32,
	tensor.Int64:  ort.TensorElementDataTypeInt64,
	tensor.UInt8:  ort.TensorElementDataTypeUint8,
	tensor.UInt16: ort.TensorElementDataTypeUint16,
	tensor.Bool:   ort.TensorElementDataTypeBool,
	tensor.String: ort.TensorElementDataTypeString,
}

// toORT wraps a tensor's C memory as an ORT value, without a copy. ORT does not write to inputs.
// Strings and scalars are copied: the binding fills string tensors itself and wraps no memory
// for shapes without dimensions.
func toORT(t tensor.Tensor) (ort.Value, error) {
	dt := t.DType()
	et, ok := ortTypes[dt]
	if !ok {
		return nil, fmt.Errorf("unsupported data type %s", dt.Name())
	}
	shape := ort.Shape(t.Shape())
	switch {
	case dt.IsString():
		if len(shape) == 0 {
			return nil, fmt.Errorf("a STRING input needs at least one dimension")
		}
		s, err := ort.NewStringTensor(shape)
		if err != nil {
			return nil, err
		}
		strs := make([]string, t.Len())
		for i := range strs {
			strs[i] = string(t.Str(i))
		}
		if err := s.SetContents(strs); err != nil {
			s.Destroy()
			return nil, err
		}
		return s, nil
	case len(shape) == 0:
		return scalarToORT(t)
	}
	return value(ort.NewCustomDataTensor(shape, t.Data(), et))
}

func scalarToORT(t tensor.Tensor) (ort.Value, error) {
	d := t.Data()
	switch t.DType() {
	case tensor.Float:
		return value(ort.NewScalar(elem[float32](d)))
	case tensor.Double:
		return value(ort.NewScalar(elem[float64](d)))
	case tensor.Int8:
		return value(ort.NewScalar(elem[int8](d)))
	case tensor.Int16:
		return value(ort.NewScalar(elem[int16](d)))
	case tensor.Int32:
		return value(ort.NewScalar(elem[int32](d)))
	case tensor.Int64:
		return value(ort.NewScalar(elem[int64](d)))
	case tensor.UInt8:
		return value(ort.NewScalar(elem[uint8](d)))
	case tensor.UInt16:
		return value(ort.NewScalar(elem[uint16](d)))
	case tensor.Bool:
		return value(ort.NewScalar(d[0] != 0))
	}
	return nil, fmt.Errorf("unsupported scalar type %s", t.DType().Name())
}

// unsupportedRun is the error of a run of a model with an output gorai cannot hand over, nil when there
// is none: its runs fail before they are made. A tensor output of an element type no tensor of
// RedisAI's holds (none of ortTypes: FLOAT16, BFLOAT16, UINT32...) would fail only after the run; an
// optional output, when it holds nothing, crashed the process (ORT was asked the type of a value that
// has none). Sparse outputs, which ONNX Runtime shows as tensors, are refused from the graph
// (sparseOutput). RedisAI's ONNX Runtime (1.7) knew no optional type.
func unsupportedRun(names []string, infos []ort.InputOutputInfo) error {
	for i, info := range infos {
		switch info.OrtValueType {
		case ort.ONNXTypeSequence, ort.ONNXTypeMap:
			continue // skipped, as RedisAI skips them
		case ort.ONNXTypeOptional:
			return fmt.Errorf("ERR ONNX output %s: optional outputs are not supported", names[i])
		case ort.ONNXTypeTensor:
		default:
			return fmt.Errorf("ERR ONNX output %s: outputs of type %v are not supported", names[i], info.OrtValueType)
		}
		if _, ok := dtypeOf[info.DataType]; ok {
			continue
		}
		return fmt.Errorf("ERR ONNX output %s: type %s has no tensor data type", names[i], info.DataType)
	}
	return nil
}

// elem reads the one element of a scalar's data (host byte order, as tensors hold it).
func elem[T any](d []byte) T {
	var v T
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)), d)
	return v
}

// checkShape refuses the empty outputs that ORT can make (a dimension of 0) and tensors cannot hold.
func checkShape(shape ort.Shape) error {
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("shape %v is empty; tensors need dimensions > 0", []int64(shape))
		}
	}
	return nil
}
