package onnx

import (
	"errors"

	"gorai/backends/protowalk"
)

// ONNX lets a tensor keep its bytes in a file beside the model (TensorProto.data_location EXTERNAL, with
// external_data naming the file). A model stored from bytes has no folder: ONNX Runtime 1.30 resolves the
// name against Redis' working directory and takes any file under it, so such a model put dump.rdb, the
// AOF or an ACL file into a tensor that a client can read: every key and password hash, whatever the
// client's ACL (measured: a model whose initializer was "passwd", in a Redis started with --dir /etc,
// answered the file's first bytes). No model sent as a blob can use external data, so gorai refuses them.
var errExternalData = errors.New("ERR ONNX models with external data (tensors kept in files beside the model) cannot be stored")

// errTooDeep refuses a model whose graphs nest deeper than maxDepth, where the check stops looking.
var errTooDeep = errors.New("ERR ONNX model's graphs nest too deep")

const maxDepth = 256

// checkExternalData refuses a model with a tensor whose data is external, in its graph, its subgraphs
// (If, Loop, Scan attributes), its constants and sparse tensors, its functions (their nodes and their
// attributes' defaults), or its training graphs. A blob that is not a
// well-formed message is left to ONNX Runtime, which says so in its words.
func checkExternalData(blob []byte) error {
	return walk(blob, protoModel, func(m *protowalk.Message, f protowalk.Field) error {
		if m == protoTensor && (f.Num == tensorExternalData || f.Num == tensorDataLocation && f.Varint == dataLocationExternal) {
			return errExternalData
		}
		return nil
	})
}

// walk is protowalk.Walk to maxDepth, whose stop too deep is errTooDeep.
func walk(msg []byte, m *protowalk.Message, visit func(*protowalk.Message, protowalk.Field) error) error {
	err := protowalk.Walk(msg, m, maxDepth, visit)
	if errors.Is(err, protowalk.ErrTooDeep) {
		return errTooDeep
	}
	return err
}

// The messages of onnx.proto that can hold a TensorProto, and the fields that do.
var (
	protoTensor       = &protowalk.Message{Name: "TensorProto"}
	protoSparseTensor = &protowalk.Message{Name: "SparseTensorProto"}
	protoAttribute    = &protowalk.Message{Name: "AttributeProto"}
	protoNode         = &protowalk.Message{Name: "NodeProto"}
	protoGraph        = &protowalk.Message{Name: "GraphProto"}
	protoFunction     = &protowalk.Message{Name: "FunctionProto"}
	protoTraining     = &protowalk.Message{Name: "TrainingInfoProto"}
	protoModel        = &protowalk.Message{Name: "ModelProto"}
)

func init() {
	protoSparseTensor.Children = map[int]*protowalk.Message{1: protoTensor, 2: protoTensor} // values, indices
	protoAttribute.Children = map[int]*protowalk.Message{                                   // t, g, tensors, graphs, sparse_tensor, sparse_tensors
		5: protoTensor, 6: protoGraph, 10: protoTensor, 11: protoGraph, 22: protoSparseTensor, 23: protoSparseTensor}
	protoNode.Children = map[int]*protowalk.Message{5: protoAttribute} // attribute
	protoGraph.Children = map[int]*protowalk.Message{                  // node, initializer, sparse_initializer
		1: protoNode, 5: protoTensor, 15: protoSparseTensor}
	protoFunction.Children = map[int]*protowalk.Message{7: protoNode, 11: protoAttribute} // node, attribute_proto
	protoTraining.Children = map[int]*protowalk.Message{1: protoGraph, 2: protoGraph}     // initialization, algorithm
	protoModel.Children = map[int]*protowalk.Message{                                     // graph, training_info, functions
		7: protoGraph, 20: protoTraining, 25: protoFunction}
}

// TensorProto's fields that say its data is external: external_data (13), and data_location (14) EXTERNAL (1).
const (
	tensorExternalData   = 13
	tensorDataLocation   = 14
	dataLocationExternal = 1
)
