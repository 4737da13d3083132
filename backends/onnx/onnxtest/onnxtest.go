// Package onnxtest makes ONNX models of a chosen size for tests: the fixtures are all small, and a
// test of ONNX Runtime's memory needs a model whose weights take megabytes.
package onnxtest

import (
	"encoding/binary"
	"fmt"
	"math"
)

// MatMul is Y = X·W with W [k,m] FLOAT, all ones: input X [1,k], output Y [1,m]. ONNX Runtime packs
// a constant W for its matrix kernels when it makes the session, in memory from its allocator: the
// session holds about 4·k·m bytes.
func MatMul(k, m int) []byte {
	w := make([]byte, 4*k*m)
	for i := 0; i < k*m; i++ {
		binary.LittleEndian.PutUint32(w[4*i:], math.Float32bits(1))
	}
	return model(cat(
		msg(1, node("MatMul", []string{"X", "W"}, "Y")),
		msg(5, cat(ints(1, []int64{int64(k), int64(m)}), varint(2, floatType), str(8, "W"), bytesField(9, w))),
		msg(11, valueInfo("X", floatType, []int64{1, int64(k)})),
		msg(12, valueInfo("Y", floatType, []int64{1, int64(m)})),
	))
}

// AddTwice is Y = (X + X) + (X + X), X and Y [1,n] FLOAT: a session with no weights whose run needs
// the intermediate X + X, 4·n bytes, from ONNX Runtime's allocator (Y is computed into the caller's
// tensor where the backend binds outputs).
func AddTwice(n int) []byte {
	shape := []int64{1, int64(n)}
	return model(cat(
		msg(1, node("Add", []string{"X", "X"}, "T")),
		msg(1, node("Add", []string{"T", "T"}, "Y")),
		msg(11, valueInfo("X", floatType, shape)),
		msg(12, valueInfo("Y", floatType, shape)),
	))
}

// ConstantOfShape is Y = zeros(shape): input shape INT64 [3], output Y FLOAT of that shape, not declared.
// A model of a few bytes whose run asks ONNX Runtime's allocator for as much memory as its input says.
func ConstantOfShape() []byte { return constantOfShape(3) }

// ConstantOfLength is ConstantOfShape with a shape of one dimension, input INT64 [1]: ONNX Runtime
// infers Y as [N], which a backend may take to be the batch (the input's dim 0, 1) and allocate
// before the run; the run then computes [length].
func ConstantOfLength() []byte { return constantOfShape(1) }

func constantOfShape(rank int64) []byte {
	return model(cat(
		msg(1, node("ConstantOfShape", []string{"shape"}, "Y")),
		msg(11, valueInfo("shape", int64Type, []int64{rank})),
		msg(12, valueInfo("Y", floatType, nil)),
	))
}

// EmptyOptional is Y = an empty optional of FLOAT [2,3] (opset 15's Optional with only its type),
// X [2,3] FLOAT unused: ONNX Runtime hands back an OrtValue that holds nothing.
func EmptyOptional() []byte {
	floats := msg(1, cat(varint(1, floatType), msg(2, cat(msg(1, varint(1, 2)), msg(1, varint(1, 3)))))) // TypeProto.tensor_type
	optional := msg(9, msg(1, floats))                                                                   // TypeProto.optional_type
	typeAttr := cat(str(1, "type"), msg(14, floats), varint(20, attributeTypeProto))                     // AttributeProto name, tp, type
	return model(cat(
		msg(1, cat(node("Optional", nil, "Y"), msg(5, typeAttr))),
		msg(11, valueInfo("X", floatType, []int64{2, 3})),
		msg(12, cat(str(1, "Y"), msg(2, optional))),
	))
}

// ScalarString is Y = X[1], X STRING [2], Y a STRING of no dimensions (Gather with a scalar index).
func ScalarString() []byte {
	index := cat(varint(2, int64Type), str(8, "i"), bytesField(9, binary.LittleEndian.AppendUint64(nil, 1))) // TensorProto without dims
	return model(cat(
		msg(1, node("Gather", []string{"X", "i"}, "Y")),
		msg(5, index),
		msg(11, valueInfo("X", stringType, []int64{2})),
		msg(12, valueInfo("Y", stringType, nil)),
	))
}

// Expand is Y = X broadcast to dims: input X [1] FLOAT, dims a constant, output Y not declared. ONNX
// Runtime infers Y's shape when it makes the session, so a backend that writes Y into a tensor of its
// own makes that tensor before the run.
func Expand(dims []int64) []byte {
	raw := make([]byte, 0, 8*len(dims))
	for _, d := range dims {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(d))
	}
	return model(cat(
		msg(1, node("Expand", []string{"X", "dims"}, "Y")),
		msg(5, cat(ints(1, []int64{int64(len(dims))}), varint(2, int64Type), str(8, "dims"), bytesField(9, raw))),
		msg(11, valueInfo("X", floatType, []int64{1})),
		msg(12, valueInfo("Y", floatType, nil)),
	))
}

// HandedOver is Y = Neg(X), X [N,3] FLOAT, listing the outputs Y, X and Y: outputs that ONNX Runtime
// does not compute into the value it is given but hands another, X's and the last Y's.
func HandedOver() []byte {
	shape := []int64{-1, 3}
	return model(cat(
		msg(1, node("Neg", []string{"X"}, "Y")),
		msg(11, valueInfo("X", floatType, shape)),
		msg(12, valueInfo("Y", floatType, shape)),
		msg(12, valueInfo("X", floatType, shape)),
		msg(12, valueInfo("Y", floatType, shape)),
	))
}

// Squeeze is Y = Squeeze(X), FLOAT, X and Y of no declared shape: Y is a scalar when X is [1], and
// [n] when X is [n].
func Squeeze() []byte {
	return model(cat(
		msg(1, node("Squeeze", []string{"X"}, "Y")),
		msg(11, valueInfo("X", floatType, nil)),
		msg(12, valueInfo("Y", floatType, nil)),
	))
}

// SqueezeAndNeg is Y = Squeeze(X) and Z = Neg(W), FLOAT, none of them of a declared shape: Y is a scalar
// when X is [1], Z never is (W [n]).
func SqueezeAndNeg() []byte {
	return model(cat(
		msg(1, node("Squeeze", []string{"X"}, "Y")),
		msg(1, node("Neg", []string{"W"}, "Z")),
		msg(11, valueInfo("X", floatType, nil)),
		msg(11, valueInfo("W", floatType, nil)),
		msg(12, valueInfo("Y", floatType, nil)),
		msg(12, valueInfo("Z", floatType, nil)),
	))
}

// Cast is Y = Cast(X, to), X [N] FLOAT, Y [N] of the element type to (TensorProto's numbering: 10 FLOAT16,
// 16 BFLOAT16, 12 UINT32...).
func Cast(to uint64) []byte {
	to64 := cat(str(1, "to"), varint(3, to), varint(20, attributeInt)) // AttributeProto name, i, type
	return model(cat(
		msg(1, cat(node("Cast", []string{"X"}, "Y"), msg(5, to64))),
		msg(11, valueInfo("X", floatType, []int64{-1})),
		msg(12, valueInfo("Y", to, []int64{-1})),
	))
}

// SequenceThenTensor is S = [Cast(X, to)] (SequenceConstruct), Y = Neg(X), X [N] FLOAT: the outputs S, a
// sequence of tensors of the element type to, and Y, FLOAT of no declared shape (ONNX Runtime allocates it).
func SequenceThenTensor(to uint64) []byte {
	to64 := cat(str(1, "to"), varint(3, to), varint(20, attributeInt))
	elem := msg(1, varint(1, to)) // TypeProto.tensor_type of elem_type to
	return model(cat(
		msg(1, cat(node("Cast", []string{"X"}, "C"), msg(5, to64))),
		msg(1, node("SequenceConstruct", []string{"C"}, "S")),
		msg(1, node("Neg", []string{"X"}, "Y")),
		msg(11, valueInfo("X", floatType, []int64{-1})),
		msg(12, cat(str(1, "S"), msg(2, msg(4, msg(1, elem))))), // TypeProto.sequence_type
		msg(12, valueInfo("Y", floatType, nil)),
	))
}

// Binary is Y = op(A, B) (Div, Mod, Add...), A, B and Y [N] of TensorProto's element type elemType
// (6 INT32, 7 INT64...).
func Binary(op string, elemType uint64) []byte {
	shape := []int64{-1}
	return model(cat(
		msg(1, node(op, []string{"A", "B"}, "Y")),
		msg(11, valueInfo("A", elemType, shape)),
		msg(11, valueInfo("B", elemType, shape)),
		msg(12, valueInfo("Y", elemType, shape)),
	))
}

// NoInputs is Y = a constant FLOAT [2] (1, 2), a model without inputs.
func NoInputs() []byte {
	value := cat(ints(1, []int64{2}), varint(2, floatType), bytesField(9, floatBytes(1, 2)))
	return model(cat(
		msg(1, cat(node("Constant", nil, "Y"), msg(5, cat(str(1, "value"), msg(5, value), varint(20, attributeTensor))))),
		msg(12, valueInfo("Y", floatType, []int64{2})),
	))
}

// NoOutputs is a graph that computes Neg(X), X [N] FLOAT, and lists no output.
func NoOutputs() []byte {
	return model(cat(
		msg(1, node("Neg", []string{"X"}, "Y")),
		msg(11, valueInfo("X", floatType, []int64{-1})),
	))
}

// SparseThenTensor is S = a sparse FLOAT [2,3] constant (1 at [0,1], 2 at [1,2]) and Y = Neg(X), X [N]
// FLOAT, Y of no declared shape (ONNX Runtime allocates it): a sparse output before a tensor one.
func SparseThenTensor() []byte {
	values := cat(ints(1, []int64{2}), varint(2, floatType), bytesField(9, floatBytes(1, 2)))
	var idx []byte
	for _, i := range []int64{0, 1, 1, 2} {
		idx = binary.LittleEndian.AppendUint64(idx, uint64(i))
	}
	indices := cat(ints(1, []int64{2, 2}), varint(2, int64Type), bytesField(9, idx))
	sparse := cat(msg(1, values), msg(2, indices), ints(3, []int64{2, 3}))                                   // SparseTensorProto
	sparseType := msg(8, cat(varint(1, floatType), msg(2, cat(msg(1, varint(1, 2)), msg(1, varint(1, 3)))))) // TypeProto.sparse_tensor_type
	return model(cat(
		msg(1, cat(node("Constant", nil, "S"), msg(5, cat(str(1, "sparse_value"), msg(22, sparse), varint(20, attributeSparseTensor))))),
		msg(1, node("Neg", []string{"X"}, "Y")),
		msg(11, valueInfo("X", floatType, []int64{-1})),
		msg(12, cat(str(1, "S"), msg(2, sparseType))),
		msg(12, valueInfo("Y", floatType, nil)),
	))
}

func floatBytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TensorProto's element types; AttributeProto's type INT.
const (
	floatType             = 1
	int64Type             = 7
	stringType            = 8
	attributeInt          = 2
	attributeTensor       = 4
	attributeSparseTensor = 11
	attributeTypeProto    = 13
)

// model is a ModelProto of the graph's fields.
func model(graph []byte) []byte {
	return cat(
		varint(1, 8),                           // IR version
		msg(8, cat(str(1, ""), varint(2, 17))), // opset 17 of the default domain
		msg(7, cat(str(2, "g"), graph)),
	)
}

// The protobuf messages of onnx.proto, as far as these models need them.

func node(op string, inputs []string, output string) []byte {
	var b []byte
	for _, in := range inputs {
		b = append(b, str(1, in)...)
	}
	return cat(b, str(2, output), str(4, op))
}

// valueInfo declares a tensor of elemType; of the shape (a dim < 0 is free, named N), or of no
// declared shape when shape is nil.
func valueInfo(name string, elemType uint64, shape []int64) []byte {
	tensorType := varint(1, elemType)
	if shape != nil {
		var dims []byte
		for _, d := range shape {
			dim := varint(1, uint64(d))
			if d < 0 {
				dim = str(2, "N")
			}
			dims = append(dims, msg(1, dim)...)
		}
		tensorType = cat(tensorType, msg(2, dims))
	}
	return cat(str(1, name), msg(2, msg(1, tensorType)))
}

func ints(field int, vs []int64) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, varint(field, uint64(v))...)
	}
	return b
}

func varint(field int, v uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, uint64(field)<<3), v)
}

func bytesField(field int, v []byte) []byte {
	b := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(field)<<3|2), uint64(len(v)))
	return append(b, v...)
}

func str(field int, s string) []byte { return bytesField(field, []byte(s)) }
func msg(field int, m []byte) []byte { return bytesField(field, m) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// ExternalData gives models whose FLOAT tensor W [n] keeps its bytes in the file at location
// (TensorProto.data_location EXTERNAL and external_data), by where W sits: "initializer" (Y = W, X [1]
// unused: a model ONNX Runtime takes, reading the file), "constant" (a Constant node's value), "subgraph"
// (an initializer of an If's branch), "sparse" (a sparse initializer's values), "function" (a Constant in a
// model-local function's body), "function attribute" (the default of a model-local function's attribute,
// which a Constant of its body takes by ref_attr_name: ONNX Runtime read the file), "training" (an
// initializer of a TrainingInfoProto's graph), "behind a group" (the initializer's model after an empty group of
// field 1000, which protobuf's parser skips) and "location only" (external_data without data_location). Only the first
// is a model that runs; the others are shaped as onnx.proto says, for checks that read the messages.
func ExternalData(location string, n int) map[string][]byte {
	ext := func(withLocation bool) []byte {
		t := cat(ints(1, []int64{int64(n)}), varint(2, floatType), str(8, "W"),
			msg(13, cat(str(1, "location"), str(2, location))), msg(13, cat(str(1, "length"), str(2, fmt.Sprint(4*n)))))
		if withLocation {
			t = append(t, varint(14, 1)...)
		}
		return t
	}
	io := cat(msg(11, valueInfo("X", floatType, []int64{1})), msg(12, valueInfo("Y", floatType, []int64{int64(n)})))
	constant := cat(str(2, "Y"), str(4, "Constant"), msg(5, cat(str(1, "value"), msg(5, ext(true)), varint(20, 4))))
	return map[string][]byte{
		"initializer": model(cat(msg(1, node("Identity", []string{"W"}, "Y")), msg(5, ext(true)), io)),
		"constant":    model(cat(msg(1, constant), io)),
		"subgraph": model(cat(msg(1, cat(str(1, "C"), str(2, "Y"), str(4, "If"),
			msg(5, cat(str(1, "then_branch"), msg(6, cat(str(2, "b"), msg(5, ext(true)))), varint(20, 5))))), io)),
		"sparse":   model(cat(msg(15, msg(1, ext(true))), io)),
		"function": cat(model(io), msg(25, cat(str(1, "f"), msg(7, constant)))),
		"function attribute": cat(model(io), msg(25, cat(str(1, "f"),
			msg(11, cat(str(1, "value"), msg(5, ext(true)), varint(20, 4)))))),
		"training": cat(model(io), msg(20, msg(1, msg(5, ext(true))))),
		"behind a group": cat([]byte{0xc3, 0x3e, 0xc4, 0x3e},
			model(cat(msg(1, node("Identity", []string{"W"}, "Y")), msg(5, ext(true)), io))),
		"location only": model(cat(msg(5, ext(false)), io)),
	}
}
