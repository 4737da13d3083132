package stats

import (
	"sync"
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	s := NewTable()
	e := s.Register(Entry{Key: "m", Backend: "ONNX", Device: "CPU"})
	s.Record(e, Run{Duration: 10 * time.Microsecond, Samples: 2})
	s.Record(e, Run{Duration: 5 * time.Microsecond, Samples: 1, Failed: true})
	if got, _ := s.Lookup(e); got.Calls != 2 || got.Errors != 1 || got.DurationUS != 10 || got.Samples != 2 {
		t.Fatalf("got %+v", got)
	}
	newer := s.Register(Entry{Key: "m", Tag: "newer"})
	s.Unregister("m", e) // the old model going away keeps the newer entry
	if all := s.All(); len(all) != 1 || all[0].Tag != "newer" || all[0].Calls != 0 {
		t.Fatalf("newer entry lost or not fresh: %+v", all)
	}
	if got, _ := s.Lookup(e); got.Calls != 2 {
		t.Fatalf("the old entry's counters changed: %+v", got) // a run still under way records into them
	}
	s.Unregister("m", newer)
	if all := s.All(); len(all) != 0 {
		t.Fatalf("entry kept after unregister: %+v", all)
	}
	if _, ok := s.Lookup(nil); ok {
		t.Fatal("Lookup(nil) found an entry")
	}
	if s.Reset(nil) {
		t.Fatal("Reset(nil) reset an entry")
	}
}

// Successful runs fill the percentiles of run time and queue wait; failed ones, RESETSTAT and a new
// store leave them at zero.
func TestStatsPercentiles(t *testing.T) {
	s := NewTable()
	e := s.Register(Entry{Key: "m"})
	if got, _ := s.Lookup(e); got.RunTime != (Percentiles{}) || got.QueueWait != (Percentiles{}) {
		t.Fatalf("fresh entry: %+v", got)
	}
	for i := 1; i <= 100; i++ {
		s.Record(e, Run{Duration: time.Duration(i) * time.Microsecond, QueueWait: time.Duration(2*i) * time.Microsecond})
	}
	s.Record(e, Run{Duration: time.Hour, QueueWait: time.Hour, Failed: true})
	got, _ := s.Lookup(e)
	// 1..100 µs: 99 falls in bucket [98,100), reported as 98.
	if want := (Percentiles{P50: 50, P99: 98, P999: 100}); got.RunTime != want {
		t.Errorf("run time %+v, want %+v", got.RunTime, want)
	}
	// 2..200 µs: 198 and 200 fall in buckets [196,200) and [200,204), reported as 197 and 201.
	if want := (Percentiles{P50: 100, P99: 197, P999: 201}); got.QueueWait != want {
		t.Errorf("queue wait %+v, want %+v", got.QueueWait, want)
	}
	s.Reset(e)
	if got, _ := s.Lookup(e); got.RunTime != (Percentiles{}) || got.QueueWait != (Percentiles{}) {
		t.Errorf("after Reset: %+v", got)
	}
	s.Record(e, Run{Duration: time.Millisecond})
	fresh := s.Register(Entry{Key: "m"})
	if got, _ := s.Lookup(fresh); got.RunTime != (Percentiles{}) {
		t.Errorf("after a new store: %+v", got)
	}
}

// Workers record while the main thread reads and resets (run with -race).
func TestStatsConcurrentRecords(t *testing.T) {
	s := NewTable()
	e := s.Register(Entry{Key: "m"})
	const workers, runs = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range runs {
				s.Record(e, Run{Duration: time.Duration(w*runs+i) * time.Microsecond})
			}
		}()
	}
	for range 100 {
		if got, _ := s.Lookup(e); got.RunTime.P50 > got.RunTime.P99 || got.RunTime.P99 > got.RunTime.P999 {
			t.Errorf("percentiles out of order: %+v", got.RunTime)
		}
	}
	wg.Wait()
	if got, _ := s.Lookup(e); got.Calls != workers*runs {
		t.Fatalf("%d calls recorded, want %d", got.Calls, workers*runs)
	}
}

// A worker's Record into the table: the cost it adds to each run.
func BenchmarkTableRecord(b *testing.B) {
	s := NewTable()
	e := s.Register(Entry{Key: "m"})
	run := Run{Duration: 250 * time.Microsecond, QueueWait: 20 * time.Microsecond, Samples: 1}
	for b.Loop() {
		s.Record(e, run)
	}
}
