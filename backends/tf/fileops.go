package tf

import (
	"errors"
	"fmt"
	"strings"

	"gorai/backends/protowalk"
)

// A TensorFlow graph is a program, and some of its ops reach outside the model: ReadFile and WriteFile
// read and write any file the server's user can (measured: a stored graph wrote a file with WriteFile
// and answered /etc/hostname with ReadFile), checkpoint, reader, dataset, lookup-table and summary ops
// open files by name, and PrintV2 (with a file:// output_stream) and the debug ops write to the files their
// attributes name. A client
// that may store models would reach past its ACL, and could write a library that AI.CONFIG LOADBACKEND
// then loads. Graphs with any of these ops are refused. It is a list of TensorFlow 2.20's ops whose
// kernels open files or sockets, not a sandbox: models come from trusted users still.
var fileOps = map[string]bool{}

func init() {
	for _, op := range []string{
		// files by name
		"ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "FileSystemSetConfiguration",
		// checkpoints
		"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints",
		"LoadAndRemapMatrix", "GenerateVocabRemapping",
		// readers
		"WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2", "FixedLengthRecordReader",
		"FixedLengthRecordReaderV2", "TFRecordReader", "TFRecordReaderV2", "LMDBReader", "IdentityReader",
		"IdentityReaderV2", "ReaderRead", "ReaderReadV2", "ReaderReadUpTo", "ReaderReadUpToV2",
		"ReaderRestoreState", "ReaderRestoreStateV2", "ReaderSerializeState", "ReaderSerializeStateV2", "RecordInput",
		// datasets over files
		"TextLineDataset", "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset",
		"FixedLengthRecordDatasetV2", "LMDBDataset", "ExperimentalLMDBDataset", "SqlDataset", "ExperimentalSqlDataset",
		"CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "MatchingFilesDataset", "ExperimentalMatchingFilesDataset",
		"SaveDataset", "SaveDatasetV2", "LoadDataset", "DatasetToTFRecord", "ExperimentalDatasetToTFRecord",
		"SnapshotDataset", "SnapshotDatasetV2", "SnapshotDatasetReader", "SnapshotChunkDataset",
		"SnapshotNestedDatasetReader", "CacheDataset", "CacheDatasetV2", "DataServiceDataset", "DataServiceDatasetV2",
		"DataServiceDatasetV3", "DataServiceDatasetV4",
		// lookup tables from files
		"InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
		// summaries
		"CreateSummaryFileWriter", "CreateSummaryDbWriter", "SummaryWriter", "ImportEvent", "FlushSummaryWriter",
		"CloseSummaryWriter", "WriteSummary", "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary",
		"WriteAudioSummary", "WriteGraphSummary", "WriteRawProtoSummary",
		// output to a named file (PrintV2 only with a file:// output_stream: see checkOps), descriptors read from one
		"DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary",
		"DebugNumericSummaryV2", "DecodeProtoV2", "EncodeProto",
		// Python and remote calls
		"PyFunc", "PyFuncStateless", "EagerPyFunc", "RpcServer", "RpcClient", "RpcCall", "RpcServerStart",
		"RpcServerRegister", "RpcCheckStatus", "RpcGetValue", "RemoteCall",
		// a vocabulary file, by an attribute; an op list of its own
		"FixedUnigramCandidateSampler", "MlirPassthroughOp", "DumpTensor",
	} {
		fileOps[op] = true
	}
}

// fileOpWords are parts of op names that mark the families of ops that reach files, whatever their
// version or variant: tf.data's datasets and iterators (DatasetFromGraph rebuilds, as it runs, a dataset
// graph kept in a string constant, whose ops this check never sees: one read /etc/passwd and wrote a file),
// readers, file ops, summary writers, checkpoints, remote and Python calls, the debugger's ops, Skipgram
// (a file by its attribute, for graphs of old producers), LoadAndRemapMatrix and the TPU embedding
// loaders; and the ops that write summaries (Write...Summary). No op of an inference graph's kind has them
// in its name: Snapshot (a copy) and the summaries made as strings (ScalarSummary, MergeSummary) are not
// among them, and are stored (frozen graphs keep them).
var (
	fileOpWords = []string{"Dataset", "Iterator", "Reader", "File", "Writer", "Checkpoint", "Save", "Restore",
		"Rpc", "PyFunc", "Debug", "Skipgram", "Load"}
	fileOpPrefixes = []string{"Write"}
)

// reachesFiles reports whether op is one of fileOps or of their families (fileOpWords, fileOpPrefixes).
// A call of a function of the graph's library (functions) is named after the function, whose own ops
// are checked: its name is checked only against fileOps, the ops' own names.
func reachesFiles(op string, functions map[string]bool) bool {
	if fileOps[op] {
		return true
	}
	if functions[op] {
		return false
	}
	for _, w := range fileOpWords {
		if strings.Contains(op, w) {
			return true
		}
	}
	for _, p := range fileOpPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// graph.proto's messages that hold a NodeDef, and the fields that do: GraphDef's node and library,
// FunctionDefLibrary's functions, FunctionDef's node_def.
var (
	protoNodeDef     = &protowalk.Message{Name: "NodeDef"}
	protoFunctionDef = &protowalk.Message{Name: "FunctionDef", Children: map[int]*protowalk.Message{3: protoNodeDef}}
	protoLibrary     = &protowalk.Message{Name: "FunctionDefLibrary", Children: map[int]*protowalk.Message{1: protoFunctionDef}}
	protoGraphDef    = &protowalk.Message{Name: "GraphDef", Children: map[int]*protowalk.Message{1: protoNodeDef, 2: protoLibrary}}
)

// FunctionDef's signature (1, an OpDef, whose name is 1); NodeDef's op (2) and attr (5, a map entry:
// key 1, AttrValue 2, whose s is 2).
const (
	functionDefSignature = 1
	opDefName            = 1
	nodeDefOp            = 2
	nodeDefAttr          = 5
	mapKey               = 1
	mapValue             = 2
	attrValueBytes       = 2
)

// checkOps refuses a graph, or a function of its library, with an op of fileOps, or a PrintV2 (tf.print,
// left in many graphs, which prints to stderr) whose output_stream is a file. A blob that is not a
// well-formed GraphDef is left to TensorFlow, which says so in its words.
func checkOps(blob []byte) error {
	functions := map[string]bool{}
	err := protowalk.Walk(blob, protoGraphDef, 8, func(m *protowalk.Message, f protowalk.Field) error {
		if m == protoLibrary && f.Num == 1 && f.Wire == 2 {
			functions[string(protowalk.Bytes(protowalk.Bytes(f.Data, functionDefSignature), opDefName))] = true
		}
		return nil
	})
	if err == nil {
		err = protowalk.Walk(blob, protoGraphDef, 8, func(m *protowalk.Message, f protowalk.Field) error {
			if (m == protoGraphDef && f.Num == 1 || m == protoFunctionDef && f.Num == 3) && f.Wire == 2 {
				return checkNode(f.Data, functions)
			}
			return nil
		})
	}
	if errors.Is(err, protowalk.ErrTooDeep) {
		return nil // a GraphDef's messages nest three deep at most: not a GraphDef
	}
	return err
}

// checkNode refuses a NodeDef whose op reaches files; functions are the library's.
func checkNode(nodeDef []byte, functions map[string]bool) error {
	var op, outputStream string
	protowalk.Fields(nodeDef, func(f protowalk.Field) error {
		switch {
		case f.Num == nodeDefOp && f.Wire == 2:
			op = string(f.Data)
		case f.Num == nodeDefAttr && f.Wire == 2 && string(protowalk.Bytes(f.Data, mapKey)) == "output_stream":
			outputStream = string(protowalk.Bytes(protowalk.Bytes(f.Data, mapValue), attrValueBytes))
		}
		return nil
	})
	if reachesFiles(op, functions) || op == "PrintV2" && strings.HasPrefix(outputStream, "file://") {
		return fmt.Errorf("ERR TF graph uses the op %s, which reaches files outside the model: it cannot be stored", op)
	}
	return nil
}
