package tf

import "gorai/backends/protowalk"

// shapeBoundOps are TensorFlow's ops whose work and output size follow from their inputs' shapes and
// attributes, never from their inputs' values, so that a graph made of them alone takes as long for
// any inputs of a size (backends.ShapeBound). Left out: control flow (While, Enter, NextIteration, ...),
// ops that take an output size from an input (Fill, Tile, Range, BroadcastTo, Pad, the Resize ops,
// random ops, ...), and every op not listed: an op missing from the list only keeps a model's runs
// off Redis' main thread. Functions of the graph's library are checked as its nodes are, so the ops
// that call them are listed.
var shapeBoundOps = map[string]bool{}

func init() {
	for _, op := range []string{
		// graph plumbing
		"Const", "Identity", "IdentityN", "NoOp", "PartitionedCall", "Placeholder", "PlaceholderWithDefault",
		"Snapshot", "StatefulPartitionedCall", "StopGradient",
		// element-wise
		"Abs", "Add", "AddN", "AddV2", "Cast", "Ceil", "ClipByValue", "Cos", "Div", "DivNoNan", "Elu", "Equal", "Erf",
		"Exp", "Floor", "FloorDiv", "FloorMod", "Greater", "GreaterEqual", "LeakyRelu", "Less", "LessEqual", "Log",
		"Log1p", "LogicalAnd", "LogicalNot", "LogicalOr", "LogSoftmax", "Maximum", "Minimum", "Mul", "Neg",
		"NotEqual", "OnesLike", "Pow", "RealDiv", "Reciprocal", "Relu", "Relu6", "Round", "Rsqrt", "Select",
		"SelectV2", "Selu", "Sigmoid", "Sign", "Sin", "Softmax", "Softplus", "Softsign", "Sqrt", "Square",
		"SquaredDifference", "Sub", "Tanh", "ZerosLike",
		// shapes, indexing and reductions within the inputs
		"ArgMax", "ArgMin", "ConcatV2", "Cumsum", "ExpandDims", "GatherNd", "GatherV2", "Max", "Mean", "Min", "Pack",
		"Prod", "Rank", "Reshape", "Shape", "Size", "Slice", "Split", "SplitV", "Squeeze", "StridedSlice", "Sum",
		"Transpose", "Unpack",
		// networks
		"AvgPool", "AvgPool3D", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "BiasAdd", "Conv2D", "Conv3D",
		"DepthwiseConv2dNative", "Einsum", "FusedBatchNorm", "FusedBatchNormV3", "L2Loss", "LRN", "MatMul",
		"MaxPool", "MaxPool3D", "_FusedConv2D", "_FusedMatMul",
	} {
		shapeBoundOps[op] = true
	}
}

// shapeBound reports whether every node of the graph and of its library's functions is of an op of
// shapeBoundOps.
func shapeBound(blob []byte) bool {
	return protowalk.AllIn(blob, protoGraphDef, 8, protoNodeDef, nodeDefOp, shapeBoundOps)
}
