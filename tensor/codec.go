package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// Errors of the BLOB and VALUES codecs, worded as RedisAI words them (without the "ERR " prefix,
// which the command layer adds).
var (
	ErrTooLarge        = errors.New("tensor is too large")
	ErrDataLength      = errors.New("data length does not match tensor shape and type")
	ErrBoolElements    = errors.New("BOOL tensor elements must be 0 or 1")
	ErrStringCount     = errors.New("Number of string elements in data blob does not match tensor length")
	ErrInvalidValue    = errors.New("invalid value")
	ErrNullInCString   = errors.New("C-string value contains null character")
	ErrWrongValueCount = errors.New("wrong number of values was given in 'AI.TENSORSET' command")
)

// ElementCount is the product of dims, refused when it overflows or exceeds limit.
func ElementCount(shape []int64, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d <= 0 || n > limit/d {
			return 0, ErrTooLarge
		}
		n *= d
	}
	return n, nil
}

// Zeros is a zero-filled tensor (STRING: every element ""), refused before allocating when its
// data would exceed limit bytes.
func Zeros(dt DType, shape []int64, limit int64) (Tensor, error) {
	n, err := ElementCount(shape, limit)
	if err != nil {
		return Tensor{}, err
	}
	size := dt.ElemSize()
	if dt.IsString() {
		size = 1 // each "" is its terminating NUL
	}
	if n > limit/int64(size) {
		return Tensor{}, ErrTooLarge
	}
	t, err := newTensor(dt, shape, n, int(n)*size, true)
	if err != nil {
		return Tensor{}, err
	}
	if dt.IsString() {
		for i, off := 0, t.offsets(); i < len(off); i++ {
			off[i] = uint64(i)
		}
	}
	return t, nil
}

// FromBlob copies raw row-major bytes into a new tensor. A STRING blob is its elements, each
// NUL-terminated, one after another.
func FromBlob(dt DType, shape []int64, blob []byte) (Tensor, error) {
	n, err := ElementCount(shape, math.MaxInt64)
	if err != nil {
		return Tensor{}, err
	}
	if dt.IsString() {
		return stringsFromBlob(shape, n, blob)
	}
	if n > int64(len(blob)) || n*int64(dt.ElemSize()) != int64(len(blob)) {
		return Tensor{}, ErrDataLength
	}
	if dt.IsBool() && !allZeroOrOne(blob) {
		return Tensor{}, ErrBoolElements
	}
	t, err := newTensor(dt, shape, n, len(blob), false)
	if err != nil {
		return Tensor{}, err
	}
	copy(t.Data(), blob)
	return t, nil
}

func allZeroOrOne(b []byte) bool {
	for _, v := range b {
		if v > 1 {
			return false
		}
	}
	return true
}

func stringsFromBlob(shape []int64, n int64, blob []byte) (Tensor, error) {
	if len(blob) == 0 || blob[len(blob)-1] != 0 || int64(bytes.Count(blob, []byte{0})) != n {
		return Tensor{}, ErrStringCount
	}
	t, err := newTensor(String, shape, n, len(blob), false)
	if err != nil {
		return Tensor{}, err
	}
	copy(t.Data(), blob)
	off, start := t.offsets(), 0
	for i := range off {
		off[i] = uint64(start)
		start += bytes.IndexByte(blob[start:], 0) + 1
	}
	return t, nil
}

// FromValues parses one text value per element: numbers for numeric dtypes (range-checked), 0 or 1
// for BOOL, C strings for STRING.
func FromValues(dt DType, shape []int64, values [][]byte) (Tensor, error) {
	n, err := ElementCount(shape, math.MaxInt64)
	if err != nil {
		return Tensor{}, err
	}
	if n != int64(len(values)) {
		return Tensor{}, ErrWrongValueCount
	}
	if dt.IsString() {
		return stringsFromValues(shape, values)
	}
	t, err := newTensor(dt, shape, n, int(n)*dt.ElemSize(), false)
	if err != nil {
		return Tensor{}, err
	}
	data := t.Data()
	for i, v := range values {
		if !putValue(dt, data, i, v) {
			t.Release()
			return Tensor{}, ErrInvalidValue
		}
	}
	return t, nil
}

// putValue parses v and stores it as element i of data.
func putValue(dt DType, data []byte, i int, v []byte) bool {
	if dt.IsFloat() {
		f, ok := ParseDouble(v)
		if !ok {
			return false
		}
		if dt.Bits == 32 {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(f)))
		} else {
			binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(f))
		}
		return true
	}
	x, ok := ParseInt(v)
	if !ok || !inRange(dt, x) {
		return false
	}
	switch dt.Bits {
	case 8:
		data[i] = byte(x)
	case 16:
		binary.LittleEndian.PutUint16(data[2*i:], uint16(x))
	case 32:
		binary.LittleEndian.PutUint32(data[4*i:], uint32(x))
	default:
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return true
}

// inRange checks x against the dtype's range. RedisAI 1.2.7 rejects every negative value for signed
// dtypes (a bug in its check); gorai accepts the full signed range.
func inRange(dt DType, x int64) bool {
	switch {
	case dt.IsBool():
		return x == 0 || x == 1
	case dt.IsSigned():
		if dt.Bits == 64 {
			return true
		}
		limit := int64(1) << (dt.Bits - 1)
		return x >= -limit && x < limit
	default:
		return x >= 0 && x < int64(1)<<dt.Bits
	}
}

func stringsFromValues(shape []int64, values [][]byte) (Tensor, error) {
	size := 0
	for i, v := range values {
		// A value may carry its own terminating NUL, but no other.
		if len(v) > 0 && v[len(v)-1] == 0 {
			v = v[:len(v)-1]
			values[i] = v
		}
		if bytes.IndexByte(v, 0) >= 0 {
			return Tensor{}, ErrNullInCString
		}
		size += len(v) + 1
	}
	t, err := newTensor(String, shape, int64(len(values)), size, false)
	if err != nil {
		return Tensor{}, err
	}
	data, off, pos := t.Data(), t.offsets(), 0
	for i, v := range values {
		off[i] = uint64(pos)
		pos += copy(data[pos:], v)
		data[pos] = 0
		pos++
	}
	return t, nil
}

// Float is element i of a FLOAT or DOUBLE tensor.
func (t Tensor) Float(i int) float64 {
	if t.DType().Bits == 32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data()[4*i:])))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(t.Data()[8*i:]))
}

// Int is element i of an integer or BOOL tensor.
func (t Tensor) Int(i int) int64 {
	d, dt := t.Data(), t.DType()
	switch {
	case dt.Bits == 8 && dt.IsSigned():
		return int64(int8(d[i]))
	case dt.Bits == 8:
		return int64(d[i])
	case dt.Bits == 16 && dt.IsSigned():
		return int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
	case dt.Bits == 16:
		return int64(binary.LittleEndian.Uint16(d[2*i:]))
	case dt.Bits == 32:
		return int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
	default:
		return int64(binary.LittleEndian.Uint64(d[8*i:]))
	}
}

// Str is element i of a STRING tensor, without its NUL.
func (t Tensor) Str(i int) []byte {
	d := t.Data()[t.offsets()[i]:]
	return d[:bytes.IndexByte(d, 0)]
}

// ParseInt reads a decimal integer exactly as Redis' string2ll does: optional '-', no '+', no
// leading zeros, no spaces, within int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' || u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// ParseDouble reads a number as Redis' string2d does: the whole text, no leading space, no NaN,
// no overflow.
func ParseDouble(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' || b[0] == '\v' || b[0] == '\f' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
