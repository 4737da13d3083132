package tf

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShapeBound: RedisAI's graph.pb and the seed's Keras FCN are made of shape-bound ops; a graph
// with a loop (fill.pb's Fill takes its output's size from its input) or an op outside the list, in
// the graph or its library, is not.
func TestShapeBound(t *testing.T) {
	kerasBlob, _ := keras(t)
	fill, err := os.ReadFile(filepath.Join("testdata", "fill.pb"))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		blob []byte
		want bool
	}{
		"graph.pb":             {fixture(t, "graph.pb"), true},
		"Keras FCN":            {kerasBlob, true},
		"fill.pb":              {fill, false},
		"While in the library": {inLibrary("While"), false},
		"Tile in the graph":    {fileGraph("Tile"), false},
		"Identity":             {inLibrary("Identity"), true},
	} {
		if got := shapeBound(c.blob); got != c.want {
			t.Errorf("%s: shapeBound %v, want %v", name, got, c.want)
		}
	}
}
