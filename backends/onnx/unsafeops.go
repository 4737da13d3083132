package onnx

import (
	"fmt"

	"gorai/backends/protowalk"
)

// unsafeOps are ONNX Runtime's ops that reach outside their tensors on inputs any client may send, by
// domain and op type, with why: a model using one is refused at store (in its graph, its subgraphs or
// its functions), since a run of it can end Redis or corrupt its memory.
var unsafeOps = map[[2]string]string{
	// ORT 1.30's kernel takes the last two dims to be equal: a [4000,1] input ended Redis (SIGSEGV).
	{"com.microsoft", "Inverse"}: "inverts a matrix that is not square past its tensors' ends",
}

// checkUnsafeOps refuses a model with a node of unsafeOps. A blob that is not a well-formed message is
// left to ONNX Runtime, which says so in its words.
func checkUnsafeOps(blob []byte) error {
	return walk(blob, protoModel, func(m *protowalk.Message, f protowalk.Field) error {
		if f.Wire != 2 || !(m == protoGraph && f.Num == graphNode || m == protoFunction && f.Num == functionNode) {
			return nil
		}
		domain, op := string(protowalk.Bytes(f.Data, nodeDomain)), string(protowalk.Bytes(f.Data, nodeOpType))
		if why, ok := unsafeOps[[2]string{domain, op}]; ok {
			return fmt.Errorf("ERR ONNX model uses %s's %s, which %s: it cannot be stored", domain, op, why)
		}
		return nil
	})
}

const (
	graphNode    = 1 // GraphProto.node
	functionNode = 7 // FunctionProto.node
	nodeDomain   = 7 // NodeProto.domain
)
