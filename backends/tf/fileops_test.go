package tf

import (
	"testing"

	"gorai/backends"
)

const dtString = 7 // DT_STRING

// fileGraph is r = op(f), f a string placeholder: with ReadFile, a graph that answers the file it is given.
func fileGraph(op string) []byte {
	return graphDef(placeholder("f", dtString), nodeDef{name: "r", op: op, inputs: []string{"f"}})
}

// inLibrary puts op in a function of the graph's library (FunctionDefLibrary.function.node_def).
func inLibrary(op string) []byte {
	fn := pbBytes(nil, 3, nodeDef{name: "r", op: op, inputs: []string{"f"}}.bytes())
	return pbBytes(graphDef(placeholder("f", dtString)), 2, pbBytes(nil, 1, fn))
}

// withFunction is a graph calling (node "c", op name) the library function name, whose body is op(f).
func withFunction(name, op string) []byte {
	signature := pbBytes(nil, 1, []byte(name)) // OpDef.name
	fn := pbBytes(pbBytes(nil, 1, signature), 3, nodeDef{name: "r", op: op, inputs: []string{"f"}}.bytes())
	g := graphDef(placeholder("f", dtString), nodeDef{name: "c", op: name, inputs: []string{"f"}})
	return pbBytes(g, 2, pbBytes(nil, 1, fn))
}

func TestCheckOps(t *testing.T) {
	for _, op := range []string{"ReadFile", "WriteFile", "SaveV2", "TFRecordDataset", "InitializeTableFromTextFileV2",
		// by their families' names: DatasetFromGraph read and wrote files through the dataset graph it rebuilds
		// from a string, Skipgram read its filename attribute's file
		"DatasetFromGraph", "Skipgram", "RegisterDataset", "DistributedSave", "ListSnapshotChunksDataset", "DTensorRestoreV2",
		"FixedUnigramCandidateSampler", "DumpTensor", "WriteScalarSummary", "CreateSummaryFileWriter", "FlushSummaryWriter"} {
		want := "ERR TF graph uses the op " + op + ", which reaches files outside the model: it cannot be stored"
		// behind a group: an empty group of field 1000, which protobuf's parser skips, first (the check
		// stopped there)
		behindGroup := append([]byte{0xc3, 0x3e, 0xc4, 0x3e}, fileGraph(op)...)
		for where, g := range map[string][]byte{"graph": fileGraph(op), "library": inLibrary(op), "graph behind a group": behindGroup} {
			if err := checkOps(g); err == nil || err.Error() != want {
				t.Errorf("%s in the %s: %v, want %q", op, where, err, want)
			}
		}
	}
	// tf.print's PrintV2 prints to stderr unless its output_stream names a file.
	printTo := func(stream string) []byte {
		return graphDef(placeholder("f", dtString), nodeDef{name: "p", op: "PrintV2", inputs: []string{"f"},
			attrs: [][2]any{{"end", attrStr("\n")}, {"output_stream", attrStr(stream)}}})
	}
	const printV2 = "ERR TF graph uses the op PrintV2, which reaches files outside the model: it cannot be stored"
	if err := checkOps(printTo("file:///tmp/printed")); err == nil || err.Error() != printV2 {
		t.Errorf("PrintV2 to a file: %v, want %q", err, printV2)
	}
	// A library function is called by its name, and its body is checked: a name is no op of its own.
	for name, blob := range map[string][]byte{
		"a function reading a file":                                withFunction("Scale", "ReadFile"),
		"a function named after a file op":                         withFunction("ReadFile", "Identity"),
		"a function named like a file op's family, reading a file": withFunction("LoadAndScale", "ReadFile"),
	} {
		if err := checkOps(blob); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	for name, blob := range map[string][]byte{
		"a function named like a file op's family": withFunction("LoadAndScale", "Identity"),
		// ops that only name a family's word: a copy, and summaries made as strings, not written
		"Snapshot":                 fileGraph("Snapshot"),
		"ScalarSummary":            fileGraph("ScalarSummary"),
		"MergeSummary":             fileGraph("MergeSummary"),
		"TensorSummaryV2":          fileGraph("TensorSummaryV2"),
		"PrintV2 to stderr":        printTo("stderr"),
		"graph.pb":                 fixture(t, "graph.pb"),
		"Identity":                 inLibrary("Identity"),
		"a Const named like an op": graphDef(nodeDef{name: "WriteFile", op: "Const"}),
		"not a graph":              []byte("not a graph \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		"empty":                    nil,
	} {
		if err := checkOps(blob); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TensorFlow runs a graph that reads the file a client names (this test's own file, on the build before);
// the backend refuses a client's graph, and loads what Redis hands over itself (a graph stored before
// keeps its RDB file loading).
func TestReadFileRefused(t *testing.T) {
	b := lib.Need(t)
	opts := backends.ModelOptions{Device: "CPU", Inputs: []string{"f"}, Outputs: []string{"r"}}
	const want = "ERR TF graph uses the op ReadFile, which reaches files outside the model: it cannot be stored"
	if _, err := b.NewModel(fileGraph("ReadFile"), opts); err == nil || err.Error() != want {
		t.Errorf("NewModel: %v, want %q", err, want)
	}
	opts.Trusted = true
	if m, err := b.NewModel(fileGraph("ReadFile"), opts); err != nil {
		t.Errorf("a trusted graph: %v", err)
	} else {
		m.Close()
	}
}
