package exec

import (
	"slices"
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
	// reference is the inputs of one of those runs, kept until one whose inputs are not within them:
	// a run is judged by those runs only when its inputs are within these (see within).
	reference atomic.Pointer[inputSizes]
}

// inputSizes are a run's inputs' shapes and their data's bytes in all.
type inputSizes struct {
	shapes [][]int64
	bytes  int64
}

func sizesOf(inputs []tensor.Tensor) *inputSizes {
	s := &inputSizes{shapes: make([][]int64, len(inputs)), bytes: tensorBytes(inputs)}
	for i, t := range inputs {
		s.shapes[i] = slices.Clone(t.Shape())
	}
	return s
}

// within reports whether inputs are, input by input and dim by dim, no larger than s, and hold no
// more bytes. A shape-bound model's work grows with every dim of every input, not with the bytes
// alone: [N,1] times [1,N] broadcasts to N*N elements from the 2N of [N] times [N], and a run on
// them held Redis' main thread for seconds after fast runs on the latter.
func (s *inputSizes) within(inputs []tensor.Tensor) bool {
	if s == nil || len(inputs) != len(s.shapes) || tensorBytes(inputs) > s.bytes {
		return false
	}
	for i, t := range inputs {
		if !tensor.ShapeWithin(t.Shape(), s.shapes[i]) {
			return false
		}
	}
	return true
}

// record notes a run's time and inputs. A run somewhat over the limit (a preemption, a cache miss:
// up to noiseFactor times it) sends only the next run to a worker; a longer one starts the count
// again, so a model that is sometimes slow is not run in place.
func (rec *inPlaceRecord) record(d, limit time.Duration, inputs []tensor.Tensor) {
	switch {
	case limit <= 0 || d > noiseFactor*limit:
		rec.fast.Store(0)
		rec.reference.Store(nil)
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
	if !rec.reference.Load().within(inputs) {
		rec.reference.Store(sizesOf(inputs))
	}
}

// RunsInPlace reports whether p may be run with RunHere on the caller's thread: a single model run
// of a model whose runs' work its inputs' shapes set (backends.ShapeBound), stored without
// MINBATCHSIZE (a batch below it waits for others; without it, a run on an idle queue is a batch of
// one, as a worker would make it), whose model's last fastRunsNeeded
// runs each took at most InPlaceLimit, one of them on inputs that p's are within, on a device queue
// with every worker idle.
func (x *Executor) RunsInPlace(p *Plan) bool {
	if x.InPlaceLimit <= 0 || !p.Single || len(p.Ops) != 1 || p.Ops[0].Kind != ModelRun {
		return false
	}
	s := p.Ops[0].Model.Session()
	if bounded, ok := s.Backend.(backends.ShapeBound); !ok || !bounded.ShapeBound() {
		return false
	}
	if s.Batching.MinSize > 0 || s.inPlace.fast.Load() < fastRunsNeeded || !s.inPlace.reference.Load().within(p.Loaded) {
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
