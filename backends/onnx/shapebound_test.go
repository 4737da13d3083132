package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShapeBound: mnist and linear_iris are made of shape-bound ops; infinite_loop.onnx (a Loop whose
// trip count is an input) is not.
func TestShapeBound(t *testing.T) {
	loop, err := os.ReadFile(filepath.Join("..", "..", "testdata", "infinite_loop.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		blob []byte
		want bool
	}{
		"mnist.onnx":         {fixture(t, "mnist.onnx"), true},
		"linear_iris.onnx":   {fixture(t, "linear_iris.onnx"), true},
		"infinite_loop.onnx": {loop, false},
	} {
		if got := shapeBound(c.blob); got != c.want {
			t.Errorf("%s: shapeBound %v, want %v", name, got, c.want)
		}
	}
}
