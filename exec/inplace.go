package exec

import (
	"sync/atomic"
	"time"

	"gorai/backends"
	"gorai/tensor"
)

// A single model run may be run on the caller's thread (RunHere) instead of a worker's when that is
// sure to be short and nothing waits for the worker: an idle server then answers a small model's run
// without the two thread hand-offs of the queue (the submission waking a worker, its end waking Redis'
// main thread), which cost more than an mnist-sized model's run. The executor only judges the run; the
// caller judges its own load (Redis' other clients).

// fastRunsNeeded is how many runs in a row must have been short for the next to be run in place: a
// model's first runs (a backend's lazy set-up, cold caches) are not judged by one lucky run.
const fastRunsNeeded = 16

// noiseFactor is how far over the limit a run may go and still count as noise (see record).
const noiseFactor = 4

// inPlaceRecord is what a model's session remembers of its recent runs for RunsInPlace.
type inPlaceRecord struct {
	// fast counts the runs in a row that took at most the executor's InPlaceLimit (saturating).
	fast atomic.Int32
	// inputBytes is the largest input, in bytes, of those runs: a run's time grows with its input,
	// so a larger one is not judged by them.
	inputBytes atomic.Int64
}

// record notes a run's time and input size. A run somewhat over the limit (a preemption, a cache
// miss: up to noiseFactor times it) sends only the next run to a worker; a longer one starts the count
// again, so a model that is sometimes slow is not run in place.
func (rec *inPlaceRecord) record(d, limit time.Duration, inputBytes int64) {
	switch {
	case limit <= 0 || d > noiseFactor*limit:
		rec.fast.Store(0)
		rec.inputBytes.Store(0)
		return
	case d > limit:
		if rec.fast.Load() >= fastRunsNeeded {
			rec.fast.Store(fastRunsNeeded - 1)
		}
		return
	}
	if rec.fast.Load() < fastRunsNeeded {
		rec.fast.Add(1)
	}
	for {
		old := rec.inputBytes.Load()
		if inputBytes <= old || rec.inputBytes.CompareAndSwap(old, inputBytes) {
			return
		}
	}
}

// RunsInPlace reports whether p may be run with RunHere on the caller's thread: a single model run
// of a model whose runs' work its inputs' shapes set (backends.ShapeBound), stored without
// MINBATCHSIZE (a batch below it waits for others; without it, a run on an idle queue is a batch of
// one, as a worker would make it), whose model's last fastRunsNeeded
// runs each took at most InPlaceLimit with inputs as large as p's, on a device queue with every
// worker idle.
func (x *Executor) RunsInPlace(p *Plan) bool {
	if x.InPlaceLimit <= 0 || !p.Single || len(p.Ops) != 1 || p.Ops[0].Kind != ModelRun {
		return false
	}
	s := p.Ops[0].Model.Session()
	if bounded, ok := s.Backend.(backends.ShapeBound); !ok || !bounded.ShapeBound() {
		return false
	}
	if s.Batching.MinSize > 0 || s.inPlace.fast.Load() < fastRunsNeeded || tensorBytes(p.Loaded) > s.inPlace.inputBytes.Load() {
		return false
	}
	return s.Queue.Idle()
}

// tensorBytes is the size of the tensors' data.
func tensorBytes(ts []tensor.Tensor) int64 {
	var n int64
	for _, t := range ts {
		n += int64(len(t.Data()))
	}
	return n
}
