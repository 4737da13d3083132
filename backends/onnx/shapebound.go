package onnx

import "gorai/backends/protowalk"

// shapeBoundOps are ONNX's (and ONNX-ML's) ops whose work and output size follow from their inputs'
// shapes and attributes, never from their inputs' values, so that a model made of them alone takes as
// long for any inputs of a size (backends.ShapeBound). Left out: Loop and Scan, and ops that take an
// output size from an input (ConstantOfShape, Expand, Tile, Range, Resize, Pad, OneHot, ...). A list
// of ops that are, not of those that are not: an op missing from it only keeps a model's runs off
// Redis' main thread.
var shapeBoundOps = map[string]bool{}

func init() {
	for _, op := range []string{
		// element-wise
		"Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BitShift", "Cast", "CastLike",
		"Ceil", "Celu", "Clip", "Cos", "Cosh", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Floor", "Gelu",
		"Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "IsInf", "IsNaN",
		"LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "Max", "Mean", "Min", "Mish", "Mod", "Mul",
		"Neg", "Not", "Or", "PRelu", "Pow", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign",
		"Sin", "Sinh", "Softmax", "Softplus", "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu",
		"Where", "Xor", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
		// shapes, indexing and reductions within the inputs
		"ArgMax", "ArgMin", "Concat", "Constant", "CumSum", "DepthToSpace", "Flatten", "Gather", "GatherElements",
		"GatherND", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
		"ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Reshape", "ScatterElements", "ScatterND",
		"Shape", "Size", "Slice", "SpaceToDepth", "Split", "Squeeze", "Transpose", "Trilu", "Unsqueeze",
		// networks
		"AveragePool", "BatchNormalization", "Conv", "ConvInteger", "ConvTranspose", "Einsum", "Gemm",
		"GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GroupNormalization", "GRU", "InstanceNormalization",
		"LayerNormalization", "LpNormalization", "LpPool", "LRN", "LSTM", "MatMul", "MatMulInteger", "MaxPool",
		"QLinearConv", "QLinearMatMul", "RNN",
		// ONNX-ML (scikit-learn's converters)
		"ArrayFeatureExtractor", "Binarizer", "FeatureVectorizer", "Imputer", "LabelEncoder", "LinearClassifier",
		"LinearRegressor", "Normalizer", "Scaler", "SVMClassifier", "SVMRegressor", "TreeEnsemble",
		"TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
	} {
		shapeBoundOps[op] = true
	}
}

// nodeOpType is NodeProto's op_type.
const nodeOpType = 4

// shapeBound reports whether every node of the model, in its graph, its subgraphs and its
// functions, is of an op of shapeBoundOps.
func shapeBound(blob []byte) bool {
	return protowalk.AllIn(blob, protoModel, maxDepth, protoNode, nodeOpType, shapeBoundOps)
}
