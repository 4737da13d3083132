package onnx

import (
	"fmt"
	"slices"

	"gorai/backends/protowalk"

	ort "github.com/yalue/onnxruntime_go"
)

// The binding hands over a sequence or map output (RedisAI skips them, and so does gorai) by
// converting every tensor it holds; one it cannot convert (a FLOAT16 tensor in a sequence) fails the
// run in words of its own ("not enough space") and leaks the outputs after it, which it converts in
// order. A sparse output fails its conversion the same way, after the run. ONNX Runtime does not say
// what a sequence or map holds, and shows a sparse output as a tensor; the model says: unconvertibleOutput
// reads its graph's outputs' types, and the runs of a model with such an output fail before they are
// made, as those of a model with an optional output (unsupportedRun).
func unconvertibleOutput(blob []byte) error {
	return walk(blob, protoOutputsModel, func(m *protowalk.Message, f protowalk.Field) error {
		if m == protoOutputsGraph && f.Num == graphOutput && f.Wire == 2 {
			return checkOutput(f.Data)
		}
		return nil
	})
}

// checkOutput refuses an output (a ValueInfoProto) that is a sparse tensor, or a sequence or map
// holding anything but tensors of ortTypes, sequences and maps of them.
func checkOutput(valueInfo []byte) error {
	name := protowalk.Bytes(valueInfo, valueInfoName)
	refuse := func(what string) error {
		return fmt.Errorf("ERR ONNX output %s: sequences and maps of %s are not supported", name, what)
	}
	return walk(valueInfo, protoValueInfo, func(m *protowalk.Message, f protowalk.Field) error {
		switch {
		case m == protoOutputType && f.Num == typeSparseTensor:
			return fmt.Errorf("ERR ONNX output %s: sparse tensor outputs are not supported", name)
		case m == protoElementTensor && f.Num == tensorTypeElem, m == protoMapType && f.Num == mapKeyType:
			if et := ort.TensorElementDataType(f.Varint); !slices.Contains(convertible, et) {
				return refuse(et.String())
			}
		case m == protoElementType && f.Num == typeOptional:
			return refuse("optional values")
		case m == protoElementType && f.Num == typeSparseTensor:
			return refuse("sparse tensors")
		}
		return nil
	})
}

// convertible are the element types the binding copies by their type: RedisAI's tensors' (ortTypes),
// UINT32 and UINT64. It copies any other as one byte per element, which fails for wider ones (FLOAT16)
// and reads past the data of packed ones (INT4).
var convertible = func() []ort.TensorElementDataType {
	ets := []ort.TensorElementDataType{ort.TensorElementDataTypeUint32, ort.TensorElementDataTypeUint64}
	for _, et := range ortTypes {
		ets = append(ets, et)
	}
	return ets
}()

// The messages of onnx.proto from a model to the types of its graph's outputs, and their fields read.
var (
	protoOutputsModel  = &protowalk.Message{Name: "ModelProto"}
	protoOutputsGraph  = &protowalk.Message{Name: "GraphProto"}
	protoValueInfo     = &protowalk.Message{Name: "ValueInfoProto"}
	protoOutputType    = &protowalk.Message{Name: "TypeProto"}
	protoSequenceType  = &protowalk.Message{Name: "TypeProto.Sequence"}
	protoMapType       = &protowalk.Message{Name: "TypeProto.Map"}
	protoElementType   = &protowalk.Message{Name: "TypeProto"} // within a sequence or map
	protoElementTensor = &protowalk.Message{Name: "TypeProto.Tensor"}
)

const (
	graphOutput      = 12 // GraphProto.output
	valueInfoName    = 1  // ValueInfoProto.name
	tensorTypeElem   = 1  // TypeProto.Tensor.elem_type
	mapKeyType       = 1  // TypeProto.Map.key_type
	typeOptional     = 9  // TypeProto.optional_type
	typeSparseTensor = 8  // TypeProto.sparse_tensor_type
)

func init() {
	protoOutputsModel.Children = map[int]*protowalk.Message{7: protoOutputsGraph}                // graph
	protoValueInfo.Children = map[int]*protowalk.Message{2: protoOutputType}                     // type
	protoOutputType.Children = map[int]*protowalk.Message{4: protoSequenceType, 5: protoMapType} // sequence_type, map_type
	protoSequenceType.Children = map[int]*protowalk.Message{1: protoElementType}                 // elem_type
	protoMapType.Children = map[int]*protowalk.Message{2: protoElementType}                      // value_type
	protoElementType.Children = map[int]*protowalk.Message{                                      // tensor_type, sequence_type, map_type
		1: protoElementTensor, 4: protoSequenceType, 5: protoMapType}
}
