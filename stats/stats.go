// Package stats keeps the per-key run counters and latency histograms AI.INFO reports, and lists
// the keys in RedisAI's order.
package stats

import (
	"sync"
	"time"
)

// Entry holds the counters AI.INFO reports for one model or script key.
type Entry struct {
	Key        string
	IsScript   bool
	Backend    string
	Device     string
	Tag        string
	DurationUS int64 // summed run time in microseconds
	Samples    int64 // summed batch size (dim 0 of the first output) of model runs
	Calls      int64
	Errors     int64
	// RunTime and QueueWait are the percentiles of the successful runs' durations and of the time
	// they waited between Submit and a worker starting them; Lookup fills them in.
	RunTime, QueueWait Percentiles

	latency *latency
}

// latency holds an entry's two histograms (about 7 KiB each) behind a pointer, so that the copies
// Lookup and All make stay small; only the table reads them, under its mutex.
type latency struct{ runTime, queueWait Histogram }

// Run is one finished run of a model or script, as Record adds it.
type Run struct {
	QueueWait time.Duration // from Submit to a worker starting it
	Duration  time.Duration // the run itself (an autobatched run: its batch's)
	Samples   int64         // its batch size
	Failed    bool
}

// Table lists the entries by the key each was registered under, in RedisAI's order, for AI._MODELSCAN
// and AI._SCRIPTSCAN. Storing a model or script registers a new entry (so overwriting resets the
// counters, as RedisAI does). AI.INFO reads the entry of the model or script at the key it names,
// which its session holds: the table knows names only, while a key of the same name can be in
// another database, and a RENAME or MOVE takes the model and its entry along.
type Table struct {
	mu      sync.Mutex
	entries map[string]*Entry
	order   *scanOrder
}

// NewTable makes an empty table.
func NewTable() *Table { return &Table{entries: map[string]*Entry{}, order: newScanOrder()} }

// Register starts fresh counters for r.Key (with r's key, type, backend, device and tag) and returns them (the identity a run reports to).
func (s *Table) Register(r Entry) *Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Unlisted(r)
	if _, ok := s.entries[r.Key]; ok {
		// RedisAI frees the old value (and its entry) before it records the new one.
		s.order.remove(r.Key)
	}
	s.entries[r.Key] = e
	s.order.add(r.Key)
	return e
}

// Unlisted is an entry kept in no table: the counters of a model or script in no key (made by
// another module through the low-level API), which runs update as any other and nothing shows.
func Unlisted(r Entry) *Entry {
	return &Entry{Key: r.Key, IsScript: r.IsScript, Backend: r.Backend, Device: r.Device, Tag: r.Tag, latency: &latency{}}
}

// Unregister removes the entry for key if it is still e (a newer store keeps its own).
func (s *Table) Unregister(key string, e *Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[key] == e {
		delete(s.entries, key)
		s.order.remove(key)
	}
}

// Lookup is a copy of e's counters, with their percentiles; e is the entry of the key AI.INFO names
// (nil: it names no model or script). Either way the lookup counts as one in RedisAI's stats dict.
func (s *Table) Lookup(e *Entry) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order.find()
	if e == nil {
		return Entry{}, false
	}
	out := *e
	out.RunTime, out.QueueWait = e.latency.runTime.Percentiles(), e.latency.queueWait.Percentiles()
	return out, true
}

// Reset zeroes e's counters (nil: AI.INFO RESETSTAT names no model or script), as Lookup counting
// as a lookup in RedisAI's stats dict.
func (s *Table) Reset(e *Entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order.find()
	if e == nil {
		return false
	}
	e.DurationUS, e.Samples, e.Calls, e.Errors = 0, 0, 0, 0
	e.latency.runTime.Reset()
	e.latency.queueWait.Reset()
	return true
}

// Record adds one finished run to e. A failed run counts as a call and an error only: its time
// goes into neither the summed duration nor the percentiles. O(1), on the worker that ran it.
func (s *Table) Record(e *Entry, r Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Calls++
	if r.Failed {
		e.Errors++
		return
	}
	us := r.Duration.Microseconds()
	e.DurationUS += us
	e.Samples += r.Samples
	e.latency.runTime.Record(us)
	e.latency.queueWait.Record(r.QueueWait.Microseconds())
}

// All lists every entry in RedisAI's order, for AI._MODELSCAN and AI._SCRIPTSCAN.
func (s *Table) All() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.entries))
	for _, key := range s.order.keys() {
		out = append(out, *s.entries[key])
	}
	return out
}
