package commands

// Tensor commands: AI.TENSORSET, AI.TENSORGET.

import (
	"bytes"
	"errors"
	"fmt"

	"gorai/tensor"
)

var (
	errInvalidDType   = errf("ERR invalid data type")
	errInvalidShape   = errf("ERR invalid or negative value found in tensor shape")
	errSingleBlob     = errf("ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command")
	errTensorTooLarge = errf("ERR tensor is larger than proto-max-bulk-len")
	errTooManyDims    = errf(fmt.Sprintf("ERR tensor has more than %d dimensions", tensor.MaxDims))
	errTensorEmpty    = errf("ERR tensor key is empty or in a different shard")
	errFormat         = errf("ERR unsupported data format")
	errBlobAndValues  = errf("ERR both BLOB and VALUES specified")
)

// TensorSet: AI.TENSORSET key type [dim ...] [BLOB data | VALUES v ...]
func TensorSet(env Env, args [][]byte) error {
	// The key is checked before the arguments, as RedisAI does.
	if _, err := env.Keys.Tensor(args[1]); err != nil {
		return err
	}
	t, err := ParseTensor(args[2:], env.Keys.MaxBulkLen)
	if err != nil {
		return err
	}
	if err := env.Keys.SetTensor(args[1], t); err != nil {
		return err
	}
	env.Keys.ReplicateVerbatim()
	env.Out.OK()
	return nil
}

// ParseTensor builds a tensor from "type [dim ...] [BLOB data | VALUES v ...]". maxBulkLen bounds
// a zero-filled tensor, whose size no argument limits; it is only asked for then.
func ParseTensor(args [][]byte, maxBulkLen func() int64) (tensor.Tensor, error) {
	dt, ok := tensor.ParseDType(args[0])
	if !ok {
		return tensor.Tensor{}, errInvalidDType
	}
	shape := make([]int64, 0, 8)
	for i := 1; i < len(args); i++ {
		switch {
		case bytes.EqualFold(args[i], []byte("BLOB")):
			if len(args) != i+2 {
				return tensor.Tensor{}, errSingleBlob
			}
			return tensorOrError(tensor.FromBlob(dt, shape, args[i+1]))
		case bytes.EqualFold(args[i], []byte("VALUES")):
			return tensorOrError(tensor.FromValues(dt, shape, args[i+1:]))
		}
		d, ok := tensor.ParseInt(args[i])
		if !ok || d <= 0 {
			return tensor.Tensor{}, errInvalidShape
		}
		if len(shape) == tensor.MaxDims {
			return tensor.Tensor{}, errTooManyDims
		}
		shape = append(shape, d)
	}
	t, err := tensor.Zeros(dt, shape, maxBulkLen())
	if errors.Is(err, tensor.ErrTooLarge) {
		return tensor.Tensor{}, errTensorTooLarge
	}
	return tensorOrError(t, err)
}

// tensorOrError gives codec errors their "ERR " prefix.
func tensorOrError(t tensor.Tensor, err error) (tensor.Tensor, error) {
	if err != nil {
		return tensor.Tensor{}, errf("ERR " + err.Error())
	}
	return t, nil
}

// TensorFormat is what AI.TENSORGET sends: META, and BLOB or VALUES.
type TensorFormat struct{ Meta, Blob, Values bool }

// ParseTensorFormat reads "[META] [BLOB | VALUES]" in any order; none means META BLOB.
func ParseTensorFormat(args [][]byte) (TensorFormat, error) {
	var f TensorFormat
	for _, a := range args {
		switch {
		case bytes.EqualFold(a, []byte("META")):
			f.Meta = true
		case bytes.EqualFold(a, []byte("BLOB")):
			f.Blob = true
		case bytes.EqualFold(a, []byte("VALUES")):
			f.Values = true
		default:
			return f, errFormat
		}
	}
	if f.Blob && f.Values {
		return f, errBlobAndValues
	}
	if len(args) == 0 {
		f = TensorFormat{Meta: true, Blob: true}
	}
	return f, nil
}

// TensorGet: AI.TENSORGET key [META] [BLOB | VALUES]
func TensorGet(env Env, args [][]byte) error {
	t, err := env.Keys.Tensor(args[1])
	if err != nil {
		return err
	}
	if t.IsZero() {
		return errTensorEmpty
	}
	f, err := ParseTensorFormat(args[2:])
	if err != nil {
		return err
	}
	ReplyTensor(env.Out, t, f)
	return nil
}

// ReplyTensor sends t in format f: ["dtype", T, "shape", [dims], "blob"|"values", data] with META,
// the data alone without.
func ReplyTensor(out Reply, t tensor.Tensor, f TensorFormat) {
	if f.Meta {
		n := 4
		if f.Blob || f.Values {
			n = 6
		}
		out.Array(n)
		out.Bulk("dtype")
		out.Bulk(t.DType().Name())
		out.Bulk("shape")
		shape := t.Shape()
		out.Array(len(shape))
		for _, d := range shape {
			out.Int(d)
		}
	}
	switch {
	case f.Blob:
		if f.Meta {
			out.Bulk("blob")
		}
		out.TensorData(t)
	case f.Values:
		if f.Meta {
			out.Bulk("values")
		}
		replyValues(out, t)
	}
}

func replyValues(out Reply, t tensor.Tensor) {
	n, dt := t.Len(), t.DType()
	out.Array(n)
	for i := 0; i < n; i++ {
		switch {
		case dt.IsFloat():
			out.Double(t.Float(i))
		case dt.IsString():
			out.BulkBytes(t.Str(i))
		default:
			out.Int(t.Int(i))
		}
	}
}
