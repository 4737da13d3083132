package onnx

import (
	"fmt"

	"gorai/backends/protowalk"
)

// ONNX Runtime shows a sparse tensor output as a tensor of its dense shape: gorai would bind a dense
// tensor for it, which ORT refuses, and then find after the run a value it cannot store. The model's
// graph says what its outputs are: sparseOutput reads them, and the runs of a model with a sparse
// output fail before they are made, as those of a model with an optional output (unsupportedRun).
func sparseOutput(blob []byte) error {
	return walk(blob, protoOutputsModel, func(m *protowalk.Message, f protowalk.Field) error {
		if m == protoOutputsGraph && f.Num == graphOutput && f.Wire == 2 && isSparse(protowalk.Bytes(f.Data, valueInfoType)) {
			return fmt.Errorf("ERR ONNX output %s: sparse tensor outputs are not supported", protowalk.Bytes(f.Data, valueInfoName))
		}
		return nil
	})
}

// isSparse reports whether a TypeProto is a sparse tensor's.
func isSparse(typeProto []byte) bool {
	sparse := false
	protowalk.Fields(typeProto, func(f protowalk.Field) error {
		sparse = sparse || f.Num == typeSparseTensor && f.Wire == 2
		return nil
	})
	return sparse
}

// The messages of onnx.proto from a model to its graph's outputs, and their fields read.
var (
	protoOutputsModel = &protowalk.Message{Name: "ModelProto"}
	protoOutputsGraph = &protowalk.Message{Name: "GraphProto"}
)

const (
	graphOutput      = 12 // GraphProto.output
	valueInfoName    = 1  // ValueInfoProto.name
	valueInfoType    = 2  // ValueInfoProto.type
	typeSparseTensor = 8  // TypeProto.sparse_tensor_type
)

func init() {
	protoOutputsModel.Children = map[int]*protowalk.Message{7: protoOutputsGraph} // graph
}
