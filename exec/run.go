package exec

import (
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"

	"gorai/engine"
	"gorai/stats"
	"gorai/tensor"
)

// Executor submits plans to the engine's queues and records their runs in the statistics.
type Executor struct {
	Engine *engine.Engine
	Stats  *stats.Table
	// Log reports a panic caught in a run (with its stack), which the run's client gets as
	// ErrInternal.
	Log func(format string, args ...any)
	// InPlaceLimit is the longest a model's runs may take for the next to be run in place
	// (RunsInPlace); 0: never.
	InPlaceLimit time.Duration
}

var (
	// ErrInternal answers a run that panicked: the server goes on.
	ErrInternal = errors.New("ERR internal error in gorai, see the server log")
	// errClientGone is the outcome of a run skipped because its client left; nobody reads it.
	errClientGone  = errors.New("ERR client disconnected")
	errOutputCount = errors.New("ERR the model gave a different number of outputs than it declares")
	errBatchSize   = errors.New("ERR Model did not generate the expected batch size")
)

// Run is a plan in flight. It holds its own references to everything it uses, so deleting or
// overwriting the keys meanwhile is safe. Its outcome is written on a worker before finish is
// called, and read after it (on Redis' main thread, in the module).
type Run struct {
	Plan *Plan
	// Done counts the ops that ran; Err is the error of op Done, if any; TimedOut: the plan waited
	// in its queue longer than its timeout and did not run, or a DAG outlived it between two ops.
	Done     int
	Err      error
	TimedOut bool

	slots []tensor.Tensor // one reference each
	// few holds the slots of a small plan, and job is the run's queue entry, without allocations of
	// their own.
	few [4]tensor.Tensor
	job engine.Job
	// member is the run's share of a batch: a batchable single run's, or that of the DAG op it is
	// queued again at (see batch, requeueAt).
	member batchMember
	// queued: the run came through Submit, so a DAG may queue itself again at a model op that
	// batches (RunHere's runs, on the caller's thread, batch with nothing).
	queued bool
	// started is when a worker began running the plan (its batch, for an autobatched run).
	started time.Time
	finish  func()
	gone    atomic.Bool
	// queue is the queue the run is in (Submit's, or the one requeueAt put it in), told when the
	// run's client goes (Cancel).
	queue atomic.Pointer[engine.Queue]
	x     *Executor
}

// Submit takes references to the plan's loaded tensors, models and scripts, queues it on the queue
// of its first model or script (the CPU queue when it has none), and takes the plan over: the
// caller's Release of the run releases it. finish is called on a worker when the run is over, run or
// not.
func (x *Executor) Submit(p *Plan, finish func()) *Run {
	r, queue, first := x.start(p, finish)
	r.job = engine.Job{Timeout: p.Timeout, Run: r.run, TimedOut: r.timedOut, Batch: r.batch(first), Abandoned: &r.gone}
	r.queued = true
	r.queue.Store(queue)
	queue.Submit(&r.job)
	return r
}

// RunHere runs the plan on the calling goroutine, with the references Submit would take, and returns
// the run, over, for the caller to read and release: RedisAI's synchronous low-level API calls. It
// waits in no queue and batches with nothing.
func (x *Executor) RunHere(p *Plan) *Run {
	r, _, _ := x.start(p, func() {})
	r.job.MarkQueued()
	r.run()
	return r
}

// start makes the run of p, taking its references, and finds its queue: its first model's or
// script's (CPU when it has none), and that model's session, which a single run may batch on.
func (x *Executor) start(p *Plan, finish func()) (r *Run, queue *engine.Queue, first *ModelSession) {
	r = &Run{Plan: p, finish: finish, x: x}
	if p.Slots <= len(r.few) {
		r.slots = r.few[:p.Slots]
	} else {
		r.slots = make([]tensor.Tensor, p.Slots)
	}
	for i, t := range p.Loaded {
		t.Retain()
		r.slots[i] = t
	}
	for i, op := range p.Ops {
		switch op.Kind {
		case ModelRun:
			op.Model.Retain()
			if queue == nil {
				s := op.Model.Session()
				queue = s.Queue
				if i == 0 {
					first = s
				}
			}
		case ScriptRun:
			op.Script.Retain()
			if queue == nil {
				queue = op.Script.Session().Queue
			}
		}
	}
	if queue == nil {
		queue = x.Engine.Queue("CPU")
	}
	return r, queue, first
}

func (r *Run) run() {
	if r.execute() {
		r.finish()
	}
}

func (r *Run) timedOut() { r.TimedOut = true; r.finish() }

// Cancel tells the run that its client has gone: if it has not started, it will not, and it leaves a
// batch that waits for more (engine.Job.Abandoned); a DAG stops before its next op.
func (r *Run) Cancel() {
	r.gone.Store(true)
	if q := r.queue.Load(); q != nil {
		q.Nudge()
	}
}

// Slot is the tensor in slot i once the run is over (the zero Tensor when the op writing it did not
// run, or gave nothing the runtime could express); borrowed until Release.
func (r *Run) Slot(i int) tensor.Tensor { return r.slots[i] }

// Release drops every reference the run holds, the plan's included; the run is over.
func (r *Run) Release() {
	for _, t := range r.slots {
		if !t.IsZero() {
			t.Release()
		}
	}
	for _, op := range r.Plan.Ops {
		switch op.Kind {
		case ModelRun:
			op.Model.Release()
		case ScriptRun:
			op.Script.Release()
		}
	}
	r.Plan.Release()
}

// execute runs the plan's ops from op Done on, in order, until one fails (the others are left
// undone) and reports that the run is over; or, in a DAG run from a queue, until a model op that
// batches, at which it queues the run again (see requeueAt) and reports that it is not. A panic in
// a backend becomes the run's error: it must not take the server down, and the client must still
// be answered.
func (r *Run) execute() (over bool) {
	defer func() {
		if p := recover(); p != nil {
			r.x.Log("gorai: panic running a plan: %v\n%s", p, debug.Stack())
			r.Err, over = ErrInternal, true
		}
	}()
	if r.started.IsZero() {
		r.started = time.Now()
	}
	if r.gone.Load() {
		r.Err = errClientGone
		return true
	}
	for r.Done < len(r.Plan.Ops) {
		if r.Done > 0 && r.gone.Load() {
			r.Err = errClientGone
			return true
		}
		if r.Done > 0 && r.outlived() {
			r.TimedOut = true
			return true
		}
		op := r.Plan.Ops[r.Done]
		if r.requeueAt(op) {
			return false
		}
		if err := r.runOp(op); err != nil {
			r.Err = err
			return true
		}
		r.Done++
	}
	return true
}

// outlived reports whether a queued DAG has run past its TIMEOUT, counted from its queueing: RedisAI
// queued a DAG again after each op and checked the timeout each time a worker took it, so a DAG
// whose ops outlast it stops between two ops, answers TIMEDOUT and persists nothing.
func (r *Run) outlived() bool {
	return r.queued && r.Plan.Timeout > 0 && time.Since(r.job.Queued()) > r.Plan.Timeout
}

func (r *Run) runOp(op Op) error {
	switch op.Kind {
	case TensorSet:
		op.Tensor.Retain()
		r.set(op.Outputs[0], op.Tensor)
		return nil
	case TensorGet:
		return nil // the reply reads the slot
	}
	inputs := r.inputs(op)
	start := time.Now()
	var outputs []tensor.Tensor
	var err error
	var entry *stats.Entry
	var inPlace *inPlaceRecord // a model's, for RunsInPlace
	if op.Kind == ModelRun {
		s := op.Model.Session()
		entry, inPlace = s.Stats, &s.inPlace
		outputs, err = s.Backend.Run(inputs)
	} else {
		s := op.Script.Session()
		entry = s.Stats
		outputs, err = s.Backend.Run(r.Plan.Caller, op.Function, inputs, op.Keys, op.Args, len(op.Outputs))
	}
	d := time.Since(start)
	if inPlace != nil {
		inPlace.record(d, r.x.InPlaceLimit, inputs)
	}
	return r.keep(op, outputs, r.record(entry, d, outputs, len(op.Outputs), err))
}

// keep puts the op's outputs in its slots when it succeeded, and drops them when it did not; it
// returns err.
func (r *Run) keep(op Op, outputs []tensor.Tensor, err error) error {
	for k, t := range outputs {
		if err == nil {
			r.set(op.Outputs[k], t)
		} else if !t.IsZero() {
			t.Release()
		}
	}
	return err
}

// set puts t (a reference the run owns) in a slot.
func (r *Run) set(slot int, t tensor.Tensor) {
	if old := r.slots[slot]; !old.IsZero() {
		old.Release()
	}
	r.slots[slot] = t
}

// record checks that an op gave the outputs expected and adds it to its statistics: its duration,
// the time the plan waited in its queue (every op of a DAG reports the DAG's wait, not the time
// its earlier ops took) and its batch size (dim 0 of the first output; AI.INFO shows none for
// scripts). It returns the op's error.
func (r *Run) record(entry *stats.Entry, d time.Duration, outputs []tensor.Tensor, want int, err error) error {
	if err == nil && len(outputs) != want {
		err = errOutputCount
	}
	var samples int64
	if err == nil && len(outputs) > 0 && !outputs[0].IsZero() {
		samples = outputs[0].BatchSize()
	}
	r.x.Stats.Record(entry, stats.Run{
		QueueWait: r.started.Sub(r.job.Queued()),
		Duration:  d,
		Samples:   samples,
		Failed:    err != nil,
	})
	return err
}
