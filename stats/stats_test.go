package stats

import "testing"

func TestStats(t *testing.T) {
	s := NewTable()
	e := s.Register(Entry{Key: "m", Backend: "ONNX", Device: "CPU"})
	s.Record(e, 10, 2, false)
	s.Record(e, 5, 1, true)
	if got, _ := s.Get("m"); got.Calls != 2 || got.Errors != 1 || got.DurationUS != 10 || got.Samples != 2 {
		t.Fatalf("got %+v", got)
	}
	newer := s.Register(Entry{Key: "m"})
	s.Unregister("m", e) // the old model going away keeps the newer entry
	if got, ok := s.Get("m"); !ok || got.Calls != 0 {
		t.Fatalf("newer entry lost or not fresh: %+v %v", got, ok)
	}
	s.Unregister("m", newer)
	if _, ok := s.Get("m"); ok {
		t.Fatal("entry kept after unregister")
	}
}
