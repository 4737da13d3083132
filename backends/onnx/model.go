package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
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
	outInfo     []ort.InputOutputInfo
	scalar      []atomic.Bool  // outputs run into a scalar of our own (see run)
	bound       []*boundOutput // outputs ORT may write into tensors of ours (nil where not)
	handed      []bool         // outputs ORT gives another value than ours (see handedOver)
	unsupported error          // see unsupportedRun
	timeout     time.Duration  // the kill switch's limit per run; 0: none
	bounded     bool           // see ShapeBound
}

// ShapeBound reports whether every op of the model is of shapeBoundOps (backends.ShapeBound).
func (m *model) ShapeBound() bool { return m.bounded }

func (m *model) InputNames() []string  { return m.inputs }
func (m *model) OutputNames() []string { return m.outputs }

func (m *model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.session != nil {
		m.session.Destroy()
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
	out, results, err := m.runBound(in, rows)
	if errors.Is(err, ort.ZeroShapeLengthError) && m.learnScalars() {
		out, results, err = m.runBound(in, rows)
	}
	if err != nil {
		return nil, innermost(err)
	}
	defer destroyAll(out)

	for i, v := range out {
		if !results[i].IsZero() {
			continue // bound: ORT wrote it in place
		}
		t, err := fromORT(v)
		if err != nil {
			releaseAll(results)
			return nil, fmt.Errorf("ERR ONNX output %s: %v", m.outputs[i], err)
		}
		results[i] = t
	}
	return results, nil
}

// runBound runs with the bound outputs and the scalars; if that fails, and not by the kill switch,
// it runs again with neither (whose failure is the one reported), and if ORT then succeeds (the binding may still fail on a scalar) the
// model computes other shapes than those: its outputs are not bound again, and the scalars are
// forgotten until a run makes one again (an undeclared shape can be a scalar in one run only).
// rows is the inputs' dim 0 (see boundOutput.batch).
func (m *model) runBound(in []ort.Value, rows int64) ([]ort.Value, []tensor.Tensor, error) {
	bind := anyBound(m.bound, rows) || m.anyScalar()
	out, results, killed, err := m.run(in, bind, rows)
	if err == nil || killed || !bind {
		return out, results, err
	}
	out, results, _, err2 := m.run(in, false, rows)
	if err2 != nil && !errors.Is(err2, ort.ZeroShapeLengthError) {
		return nil, nil, err2 // the model's own failure: the first may be ORT's refusal of a bound shape
	}
	unbindAll(m.bound)
	for i := range m.scalar {
		m.scalar[i].Store(false)
	}
	return out, results, err2
}

// run lets ORT write each output, when bind is set: into its tensor if the output is bound, into
// a scalar of ours for outputs known to be scalars (the binding cannot make a Go value from ORT's);
// and otherwise into memory ORT allocates with the shape it computes. results holds the bound
// outputs' tensors (zero for the others). killed reports a run the kill switch stopped.
func (m *model) run(in []ort.Value, bind bool, rows int64) (out []ort.Value, results []tensor.Tensor, killed bool, err error) {
	out = make([]ort.Value, len(m.outputs))
	results = make([]tensor.Tensor, len(m.outputs))
	defer func() {
		if err != nil {
			destroyAll(out)
			releaseAll(results)
			out, results = nil, nil
		}
	}()
	for i := 0; bind && i < len(out); i++ {
		if m.scalar[i].Load() {
			if out[i], err = emptyScalar(m.outInfo[i].DataType); err != nil {
				return
			}
		} else {
			var bound bool
			if results[i], out[i], bound, err = m.bound[i].bind(rows); err != nil {
				return
			} else if !bound {
				out[i] = nil
			}
		}
	}
	kill, err := m.armKillSwitch()
	if err != nil {
		return
	}
	err = m.session.RunWithOptions(in, out, kill.options())
	return out, results, kill.disarm(), err
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

// learnScalars marks as scalars the outputs that may be (numeric tensors declared without
// dimensions, which is also how ORT shows an unknown shape, and that ORT computes), after a run
// failed on a scalar output: the run is made again. It reports whether anything changed.
func (m *model) learnScalars() bool {
	changed := false
	for i, info := range m.outInfo {
		if !m.handed[i] && info.OrtValueType == ort.ONNXTypeTensor && len(info.Dimensions) == 0 && !m.scalar[i].Load() {
			if v, err := emptyScalar(info.DataType); err == nil {
				v.Destroy()
				m.scalar[i].Store(true)
				changed = true
			}
		}
	}
	return changed
}

// anyScalar reports whether an output is run into a scalar of ours.
func (m *model) anyScalar() bool {
	for i := range m.scalar {
		if m.scalar[i].Load() {
			return true
		}
	}
	return false
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

// unsupportedRun is the error of a run of a model the binding cannot run, or with an output it cannot
// hand over, nil when there is none: its runs fail before they are made. The binding cannot run a
// model without inputs or outputs (it panics, and the run's outputs and timer were lost with it). A
// tensor output of an element type no tensor of RedisAI's holds (none of ortTypes: FLOAT16, BFLOAT16,
// UINT32...) would fail in words the binding's failure to hold it does not have ("not enough space");
// an optional output, when it holds nothing, would crash the process (the binding asks ORT the type of
// a value that has none). Sparse outputs, which ONNX Runtime shows as tensors, are refused from the
// graph (unconvertibleOutput). RedisAI's ONNX Runtime (1.7) knew no optional type.
func unsupportedRun(inputs, names []string, infos []ort.InputOutputInfo) error {
	if len(inputs) == 0 {
		return errors.New("ERR ONNX models without inputs are not supported")
	}
	if len(names) == 0 {
		return errors.New("ERR ONNX models without outputs are not supported")
	}
	for i, info := range infos {
		switch info.OrtValueType {
		case ort.ONNXTypeSequence, ort.ONNXTypeMap:
			continue // converted by the binding, then skipped, as RedisAI skips them (but see unconvertibleOutput)
		case ort.ONNXTypeOptional:
			return fmt.Errorf("ERR ONNX output %s: optional outputs are not supported", names[i])
		case ort.ONNXTypeTensor:
		default:
			return fmt.Errorf("ERR ONNX output %s: outputs of type %v are not supported", names[i], info.OrtValueType)
		}
		if slices.Contains(slices.Collect(maps.Values(ortTypes)), info.DataType) {
			continue
		}
		return fmt.Errorf("ERR ONNX output %s: type %s has no tensor data type", names[i], info.DataType)
	}
	return nil
}

// emptyScalar is a scalar output of ORT's element type et.
func emptyScalar(et ort.TensorElementDataType) (ort.Value, error) {
	switch et {
	case ort.TensorElementDataTypeFloat:
		return value(ort.NewEmptyScalar[float32]())
	case ort.TensorElementDataTypeDouble:
		return value(ort.NewEmptyScalar[float64]())
	case ort.TensorElementDataTypeInt8:
		return value(ort.NewEmptyScalar[int8]())
	case ort.TensorElementDataTypeInt16:
		return value(ort.NewEmptyScalar[int16]())
	case ort.TensorElementDataTypeInt32:
		return value(ort.NewEmptyScalar[int32]())
	case ort.TensorElementDataTypeInt64:
		return value(ort.NewEmptyScalar[int64]())
	case ort.TensorElementDataTypeUint8:
		return value(ort.NewEmptyScalar[uint8]())
	case ort.TensorElementDataTypeUint16:
		return value(ort.NewEmptyScalar[uint16]())
	case ort.TensorElementDataTypeBool:
		return value(ort.NewEmptyScalar[bool]())
	}
	return nil, fmt.Errorf("no scalar of type %s", et)
}

// elem reads the one element of a scalar's data (host byte order, as tensors hold it).
func elem[T any](d []byte) T {
	var v T
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)), d)
	return v
}

// fromORT copies an ORT output into a new tensor. A value that is not a tensor (a sequence or a
// map, such as scikit-learn's ZipMap) gives the zero Tensor, as RedisAI skips those.
func fromORT(v ort.Value) (tensor.Tensor, error) {
	switch v := v.(type) {
	case *ort.Tensor[float32]:
		return tensorFrom(tensor.Float, v.GetShape(), v.GetData())
	case *ort.Tensor[float64]:
		return tensorFrom(tensor.Double, v.GetShape(), v.GetData())
	case *ort.Tensor[int8]:
		return tensorFrom(tensor.Int8, v.GetShape(), v.GetData())
	case *ort.Tensor[int16]:
		return tensorFrom(tensor.Int16, v.GetShape(), v.GetData())
	case *ort.Tensor[int32]:
		return tensorFrom(tensor.Int32, v.GetShape(), v.GetData())
	case *ort.Tensor[int64]:
		return tensorFrom(tensor.Int64, v.GetShape(), v.GetData())
	case *ort.Tensor[uint8]:
		return tensorFrom(tensor.UInt8, v.GetShape(), v.GetData())
	case *ort.Tensor[uint16]:
		return tensorFrom(tensor.UInt16, v.GetShape(), v.GetData())
	case *ort.Tensor[bool]:
		return tensorFrom(tensor.Bool, v.GetShape(), v.GetData())
	case *ort.Scalar[float32]:
		return scalarFrom(tensor.Float, v.GetData())
	case *ort.Scalar[float64]:
		return scalarFrom(tensor.Double, v.GetData())
	case *ort.Scalar[int8]:
		return scalarFrom(tensor.Int8, v.GetData())
	case *ort.Scalar[int16]:
		return scalarFrom(tensor.Int16, v.GetData())
	case *ort.Scalar[int32]:
		return scalarFrom(tensor.Int32, v.GetData())
	case *ort.Scalar[int64]:
		return scalarFrom(tensor.Int64, v.GetData())
	case *ort.Scalar[uint8]:
		return scalarFrom(tensor.UInt8, v.GetData())
	case *ort.Scalar[uint16]:
		return scalarFrom(tensor.UInt16, v.GetData())
	case *ort.Scalar[bool]:
		return scalarFrom(tensor.Bool, v.GetData())
	case *ort.StringTensor:
		return stringsFrom(v)
	case *ort.Sequence, *ort.Map:
		return tensor.Tensor{}, nil
	}
	return tensor.Tensor{}, fmt.Errorf("type %s has no tensor data type", ort.TensorElementDataType(v.DataType()))
}

func tensorFrom[T any](dt tensor.DType, shape ort.Shape, data []T) (tensor.Tensor, error) {
	if err := checkShape(shape); err != nil {
		return tensor.Tensor{}, err
	}
	var b []byte
	if len(data) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(data)*int(unsafe.Sizeof(data[0])))
	}
	return tensor.FromBlob(dt, shape, b)
}

func scalarFrom[T any](dt tensor.DType, v T) (tensor.Tensor, error) {
	return tensorFrom(dt, nil, []T{v})
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

// stringsFrom copies a STRING output: tensors keep each element NUL-terminated, so an element
// that holds a NUL cannot be stored.
func stringsFrom(v *ort.StringTensor) (tensor.Tensor, error) {
	shape := v.GetShape()
	if err := checkShape(shape); err != nil {
		return tensor.Tensor{}, err
	}
	strs, err := stringContents(v, shape)
	if err != nil {
		return tensor.Tensor{}, innermost(err)
	}
	var blob bytes.Buffer
	for _, s := range strs {
		if bytes.IndexByte([]byte(s), 0) >= 0 {
			return tensor.Tensor{}, fmt.Errorf("a string element holds a NUL byte")
		}
		blob.WriteString(s)
		blob.WriteByte(0)
	}
	return tensor.FromBlob(tensor.String, shape, blob.Bytes())
}

// stringContents reads a string tensor's elements: the binding's GetContents sizes its reading by the
// product of the dimensions, none for a scalar (it panicked), which holds one.
func stringContents(v *ort.StringTensor, shape ort.Shape) ([]string, error) {
	if len(shape) > 0 {
		return v.GetContents()
	}
	s, err := v.GetElement(0)
	return []string{s}, err
}
