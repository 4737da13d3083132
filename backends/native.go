package backends

import (
	"fmt"
	"sync"
)

// Native is what every model held through a runtime's C handle shares (TF, TFLITE, TORCH): its input
// and output names, and the handle, which runs share and Close frees once no run holds it. A backend's
// model embeds it (giving InputNames, OutputNames and Close) and adds Run. H's zero value is "closed".
type Native[H comparable] struct {
	Inputs, Outputs []string

	mu   sync.RWMutex
	h    H // zero once closed
	free func(H)
}

// Init sets the handle and what frees it, before the model is shared.
func (n *Native[H]) Init(h H, free func(H)) { n.h, n.free = h, free }

func (n *Native[H]) InputNames() []string  { return n.Inputs }
func (n *Native[H]) OutputNames() []string { return n.Outputs }

// CheckInputs is RedisAI's reply to a run given the wrong number of inputs.
func (n *Native[H]) CheckInputs(inputs int) error {
	if inputs != len(n.Inputs) {
		return fmt.Errorf("ERR Expected %d inputs but got %d", len(n.Inputs), inputs)
	}
	return nil
}

// Acquire holds the handle for a run, which calls Release when done with it; ok is false (and nothing
// is held) once the model is closed.
func (n *Native[H]) Acquire() (h H, ok bool) {
	var zero H
	n.mu.RLock()
	if n.h == zero {
		n.mu.RUnlock()
		return zero, false
	}
	return n.h, true
}

// Release ends what Acquire began.
func (n *Native[H]) Release() { n.mu.RUnlock() }

// Close frees the handle once the runs holding it are done; later calls do nothing.
func (n *Native[H]) Close() {
	var zero H
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h != zero {
		n.free(n.h)
		n.h = zero
	}
}
