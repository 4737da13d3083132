package exec

import (
	"testing"

	"gorai/tensor"
)

// The batch key tells apart what must not batch together (dtype, rank, any dim past the first)
// and agrees on what may (dim 0).
func TestBatchShapeKey(t *testing.T) {
	mk := func(dt tensor.DType, shape ...int64) tensor.Tensor {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		tt, err := tensor.FromBlob(dt, shape, make([]byte, n*int64(dt.ElemSize())))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tt.Release)
		return tt
	}
	shape := func(inputs []tensor.Tensor) (int64, string) { return batchShape(inputs, []int{0, 1}) }
	size, key := shape([]tensor.Tensor{mk(tensor.Float, 3, 1, 28, 28), mk(tensor.Int64, 3, 2)})
	if size != 3 {
		t.Errorf("batch size %d, want 3", size)
	}
	if _, other := shape([]tensor.Tensor{mk(tensor.Float, 1, 1, 28, 28), mk(tensor.Int64, 1, 2)}); other != key {
		t.Errorf("keys differ with dim 0 only: %q, %q", key, other)
	}
	for name, inputs := range map[string][]tensor.Tensor{
		"dtype":        {mk(tensor.Double, 3, 1, 28, 28), mk(tensor.Int64, 3, 2)},
		"a dim":        {mk(tensor.Float, 3, 1, 28, 27), mk(tensor.Int64, 3, 2)},
		"dims moved":   {mk(tensor.Float, 3, 1, 28), mk(tensor.Int64, 3, 28, 2)},
		"rank":         {mk(tensor.Float, 3, 1, 28, 28, 1), mk(tensor.Int64, 3, 2)},
		"second input": {mk(tensor.Float, 3, 1, 28, 28), mk(tensor.Int32, 3, 2)},
	} {
		if _, other := shape(inputs); other == key {
			t.Errorf("%s differs, but the key is the same: %q", name, key)
		}
	}
	if size, _ := shape([]tensor.Tensor{mk(tensor.Float, 3, 2), mk(tensor.Float, 2, 2)}); size != 0 {
		t.Errorf("inputs with different dim 0 give batch size %d, want 0 (not batched)", size)
	}
}

// Describing a run of a batched model to the engine happens on Redis' main thread for every run:
// the batch key is its only allocation.
func TestBatchAllocations(t *testing.T) {
	in, err := tensor.FromBlob(tensor.Float, []int64{1, 1, 28, 28}, make([]byte, 4*28*28))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Release()
	p := &Plan{Single: true, Ops: []Op{{Kind: ModelRun, Inputs: []int{0}}}}
	r := &Run{Plan: p, slots: []tensor.Tensor{in}}
	s := &ModelSession{Batching: Batching{Size: 4}}
	if n := testing.AllocsPerRun(100, func() { r.batch(s) }); n > 1 {
		t.Errorf("batch allocates %v times per run, want at most 1", n)
	}
	if b := r.batch(s); b == nil || b.Size != 1 || b.Max != 4 || b.Group != s || b.Payload != &r.member {
		t.Errorf("batch %+v, want size 1 of at most 4, grouped by the session", b)
	}
}
