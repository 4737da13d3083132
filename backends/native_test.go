package backends

import (
	"testing"
	"time"
)

func TestNative(t *testing.T) {
	var n Native[*int]
	h, freed := new(int), 0
	n.Init(h, func(p *int) {
		if p != h {
			t.Errorf("freed %p, not %p", p, h)
		}
		freed++
	})
	n.Inputs, n.Outputs = []string{"a", "b"}, []string{"c"}
	if err := n.CheckInputs(1); err == nil || err.Error() != "ERR Expected 2 inputs but got 1" {
		t.Errorf("CheckInputs: %v", err)
	}
	if n.CheckInputs(2) != nil || len(n.InputNames()) != 2 || len(n.OutputNames()) != 1 {
		t.Error("names")
	}

	// Close waits for the run holding the handle.
	got, ok := n.Acquire()
	if !ok || got != h {
		t.Fatal("Acquire of an open model")
	}
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close did not wait for the run")
	case <-time.After(20 * time.Millisecond):
	}
	n.Release()
	<-closed
	if _, ok := n.Acquire(); ok {
		t.Error("Acquire of a closed model")
	}
	n.Close()
	if freed != 1 {
		t.Errorf("freed %d times", freed)
	}
}
