// Package stats keeps the per-key run counters AI.INFO reports and lists them in RedisAI's order.
package stats

import "sync"

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
}

// Table holds Entry by key. Storing a model or script replaces its entry (so overwriting resets
// the counters, as RedisAI does); entries are kept apart from the keyspace, as RedisAI keeps them,
// and listed in RedisAI's order.
type Table struct {
	mu      sync.Mutex
	entries map[string]*Entry
	order   *scanOrder
}

// NewTable makes an empty table.
func NewTable() *Table { return &Table{entries: map[string]*Entry{}, order: newScanOrder()} }

// Register starts fresh counters for s.Key and returns them (the identity a run reports to).
func (s *Table) Register(r Entry) *Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &r
	e.DurationUS, e.Samples, e.Calls, e.Errors = 0, 0, 0, 0
	if _, ok := s.entries[r.Key]; ok {
		// RedisAI frees the old value (and its entry) before it records the new one.
		s.order.remove(r.Key)
	}
	s.entries[r.Key] = e
	s.order.add(r.Key)
	return e
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

// Get is a copy of the counters of key.
func (s *Table) Get(key string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order.find()
	e, ok := s.entries[key]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Reset zeroes the counters of key.
func (s *Table) Reset(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order.find()
	e, ok := s.entries[key]
	if ok {
		e.DurationUS, e.Samples, e.Calls, e.Errors = 0, 0, 0, 0
	}
	return ok
}

// Record adds one finished run to e.
func (s *Table) Record(e *Entry, durationUS, samples int64, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Calls++
	if failed {
		e.Errors++
		return
	}
	e.DurationUS += durationUS
	e.Samples += samples
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
