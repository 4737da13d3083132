package engine

import "sync"

// RunStats are the counters AI.INFO reports for one model or script key.
type RunStats struct {
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

// Stats holds RunStats by key. Storing a model or script replaces its entry (so overwriting resets
// the counters, as RedisAI does); entries are kept apart from the keyspace, as RedisAI keeps them,
// and listed in RedisAI's order.
type Stats struct {
	mu      sync.Mutex
	entries map[string]*RunStats
	order   *scanOrder
}

// NewStats makes an empty table.
func NewStats() *Stats { return &Stats{entries: map[string]*RunStats{}, order: newScanOrder()} }

// Register starts fresh counters for s.Key and returns them (the identity a run reports to).
func (s *Stats) Register(r RunStats) *RunStats {
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
func (s *Stats) Unregister(key string, e *RunStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[key] == e {
		delete(s.entries, key)
		s.order.remove(key)
	}
}

// Get is a copy of the counters of key.
func (s *Stats) Get(key string) (RunStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order.find()
	e, ok := s.entries[key]
	if !ok {
		return RunStats{}, false
	}
	return *e, true
}

// Reset zeroes the counters of key.
func (s *Stats) Reset(key string) bool {
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
func (s *Stats) Record(e *RunStats, durationUS, samples int64, failed bool) {
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
func (s *Stats) All() []RunStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RunStats, 0, len(s.entries))
	for _, key := range s.order.keys() {
		out = append(out, *s.entries[key])
	}
	return out
}
