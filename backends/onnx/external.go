package onnx

import (
	"encoding/binary"
	"errors"
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
// (If, Loop, Scan attributes), its constants and sparse tensors, or its functions. A blob that is not a
// well-formed message is left to ONNX Runtime, which says so in its words.
func checkExternalData(blob []byte) error { return walk(blob, protoModel, 0) }

// protoMessage is a message of onnx.proto as the check sees it: the fields that hold messages it visits,
// by number, and whether it is a TensorProto.
type protoMessage struct {
	isTensor bool
	children map[int]*protoMessage
}

var (
	protoTensor       = &protoMessage{isTensor: true}
	protoSparseTensor = &protoMessage{}
	protoAttribute    = &protoMessage{}
	protoNode         = &protoMessage{}
	protoGraph        = &protoMessage{}
	protoFunction     = &protoMessage{}
	protoModel        = &protoMessage{}
)

func init() {
	protoSparseTensor.children = map[int]*protoMessage{1: protoTensor, 2: protoTensor} // values, indices
	protoAttribute.children = map[int]*protoMessage{                                   // t, g, tensors, graphs, sparse_tensor, sparse_tensors
		5: protoTensor, 6: protoGraph, 10: protoTensor, 11: protoGraph, 22: protoSparseTensor, 23: protoSparseTensor}
	protoNode.children = map[int]*protoMessage{5: protoAttribute} // attribute
	protoGraph.children = map[int]*protoMessage{                  // node, initializer, sparse_initializer
		1: protoNode, 5: protoTensor, 15: protoSparseTensor}
	protoFunction.children = map[int]*protoMessage{7: protoNode}                  // node
	protoModel.children = map[int]*protoMessage{7: protoGraph, 25: protoFunction} // graph, functions
}

// TensorProto's fields that say its data is external: external_data (13), and data_location (14) EXTERNAL (1).
const (
	tensorExternalData   = 13
	tensorDataLocation   = 14
	dataLocationExternal = 1
)

func walk(msg []byte, m *protoMessage, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return nil
		}
		msg = msg[n:]
		num, wire := int(key>>3), key&7
		switch wire {
		case 0: // varint
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return nil
			}
			if m.isTensor && num == tensorDataLocation && v == dataLocationExternal {
				return errExternalData
			}
			msg = msg[n:]
		case 1: // 64 bits
			if len(msg) < 8 {
				return nil
			}
			msg = msg[8:]
		case 5: // 32 bits
			if len(msg) < 4 {
				return nil
			}
			msg = msg[4:]
		case 2: // length-delimited: bytes, a string, packed numbers or a message
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return nil
			}
			data := msg[n : n+int(l)]
			msg = msg[n+int(l):]
			if m.isTensor && num == tensorExternalData {
				return errExternalData
			}
			if child, ok := m.children[num]; ok {
				if err := walk(data, child, depth+1); err != nil {
					return err
				}
			}
		default: // groups: not in onnx.proto
			return nil
		}
	}
	return nil
}
