package tflite

/*
#include "loader.h"
*/
import "C"

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"gorai/backends"
	"gorai/tensor"
)

// LiteRT does not verify a flatbuffer fully: a .tflite file with a few bytes changed can make it read out of
// bounds while it compiles the model, or allocate gigabytes when it runs. So a client's model is first
// loaded and run once on zeros (then ones, when a kernel refuses the zeros) by TrialProgram (trial/main.c;
// backends.Trial). And LiteRT sizes every tensor from the inputs' shapes: a run on inputs larger than any
// the model was tried on is first tried too, within the memory the machine has left (a 1 KB model that
// tiles its input made Redis take 4 TB for a 4 MB input, and the kernel killed Redis).

// TrialProgram is the trial program's file name, in the folder of the LiteRT library it loads
// (build/backends/tflite/, where make builds it).
const TrialProgram = "gorai-tflite-trial"

// trial is the trial program beside the library Open opened.
var trial *backends.Trial

// The trial program's kinds of trial (trial/main.c): a model, and a run of one at given shapes.
var modelTrial, runTrial = []byte{'M'}, []byte{'R'}

// maxTried is how many sets of input shapes a model remembers having been tried at.
const maxTried = 16

// tried is the sets of input shapes a model was tried at: its compiled ones (the model's own trial), then
// each tried before a run. A run whose inputs are each, dim by dim, no larger than one set's needs no
// trial: LiteRT's memory grows with its tensors' shapes.
type tried struct {
	mu     sync.Mutex
	shapes [][][]int64
}

// covers says whether shapes fit within a set tried.
func (t *tried) covers(shapes [][]int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.shapes {
		if within(shapes, s) {
			return true
		}
	}
	return false
}

// add remembers shapes, in place of the sets they cover; the oldest set goes when there are maxTried.
func (t *tried) add(shapes [][]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shapes = slices.DeleteFunc(t.shapes, func(s [][]int64) bool { return within(s, shapes) })
	if len(t.shapes) == maxTried {
		t.shapes = t.shapes[1:]
	}
	t.shapes = append(t.shapes, shapes)
}

// within says whether every shape of a is within b's (tensor.ShapeWithin).
func within(a, b [][]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !tensor.ShapeWithin(a[i], b[i]) {
			return false
		}
	}
	return true
}

// compiledShapes is the model's inputs' compiled shapes, a free dim as 1 (what its own trial ran on); nil
// when LiteRT does not say.
func compiledShapes(h *C.gorai_tfl_model, n int) [][]int64 {
	shapes := make([][]int64, n)
	for i := range shapes {
		var dims [C.GORAI_TFL_MAX_RANK]C.int64_t
		rank := int(C.gorai_tfl_model_input_dims(h, C.int(i), &dims[0]))
		if rank < 0 {
			return nil
		}
		shapes[i] = make([]int64, rank)
		for d := range rank {
			shapes[i][d] = int64(dims[d])
		}
	}
	return shapes
}

// tryRun tries a run of the model with handle h at the inputs' shapes, unless a trial covers them.
func (m *model) tryRun(h *C.gorai_tfl_model, inputs []tensor.Tensor) error {
	if trial == nil || trial.Program == "" {
		return nil
	}
	shapes := make([][]int64, len(inputs))
	for i, t := range inputs {
		shapes[i] = t.Shape()
		if len(shapes[i]) > C.GORAI_TFL_MAX_RANK {
			return nil // the run refuses it
		}
	}
	if m.tried.covers(shapes) {
		return nil
	}
	head := binary.LittleEndian.AppendUint32(nil, uint32(len(shapes)))
	for _, s := range shapes {
		head = binary.LittleEndian.AppendUint32(head, uint32(len(s)))
		for _, d := range s {
			head = binary.LittleEndian.AppendUint64(head, uint64(d))
		}
	}
	var n C.size_t
	p := C.gorai_tfl_model_blob(h, &n)
	blob := unsafe.Slice((*byte)(p), int(n)) // C memory, held while h is acquired
	if err := trial.Try(context.Background(), fmt.Sprintf("model's run on inputs of shapes %v", shapes), runTrial, head, blob); err != nil {
		return err
	}
	m.tried.add(shapes)
	return nil
}
