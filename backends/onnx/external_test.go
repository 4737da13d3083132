package onnx

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"gorai/backends"
	"gorai/backends/onnx/onnxtest"
)

// Wherever onnx.proto lets a tensor sit, external data is found; models without it, and blobs that are no
// message, pass (ONNX Runtime words their errors).
func TestCheckExternalData(t *testing.T) {
	for where, blob := range onnxtest.ExternalData("../../../../etc/passwd", 4) {
		if err := checkExternalData(blob); err != errExternalData {
			t.Errorf("external data in the %s: %v, want %v", where, err, errExternalData)
		}
	}
	mnist, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "redisai", "mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for name, blob := range map[string][]byte{
		"MatMul":       onnxtest.MatMul(3, 2),
		"AddTwice":     onnxtest.AddTwice(5),
		"mnist.onnx":   mnist,
		"not a model":  []byte("not a model at all \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		"a cut length": {0x3a, 0xff, 0x01, 0x00},
		"empty":        nil,
	} {
		if err := checkExternalData(blob); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Graphs nested deeper than the check looks are refused: a tensor could hide below.
	field := func(num int, data []byte) []byte {
		return append(binary.AppendUvarint(binary.AppendUvarint(nil, uint64(num)<<3|2), uint64(len(data))), data...)
	}
	g := field(5, nil) // a graph with an empty initializer
	for range maxDepth {
		g = field(1, field(5, field(6, g))) // a graph whose node's attribute is that graph
	}
	if err := checkExternalData(field(7, g)); err != errTooDeep {
		t.Errorf("graphs %d deep: %v, want %v", maxDepth, err, errTooDeep)
	}
}

// ONNX Runtime takes a model whose Constant is read from a file under the working directory (this test's:
// this file): the backend refuses a client's.
func TestExternalDataRefused(t *testing.T) {
	b := lib.Need(t)
	blob := onnxtest.ExternalData("external_test.go", 1)["constant"]
	if _, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"}); err != errExternalData {
		t.Errorf("NewModel: %v, want %v", err, errExternalData)
	}
	// What Redis hands over itself is not checked: a model stored before keeps its RDB file loading.
	if m, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU", Trusted: true}); err != nil {
		t.Errorf("a trusted model: %v", err)
	} else {
		m.Close()
	}
}
