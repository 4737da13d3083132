package exec

import (
	"runtime/debug"
	"strconv"
	"time"

	"gorai/backends"
	"gorai/engine"
	"gorai/tensor"
)

// batch describes how a single model run may run together with other runs of the same stored model
// (RedisAI's autobatching), or nil when it may not: a DAG (which queues itself again at each model
// op that batches, see requeueAt), a script, or a model stored without BATCHSIZE. Runs batch
// together when their inputs agree in dtype and in every dim past the first. s is the session of
// the plan's first op when it runs a model. It runs on Redis' main thread for every run of a
// batched model: the description lives in the run, and the key is its only allocation.
func (r *Run) batch(s *ModelSession) *engine.Batch {
	op := r.Plan.Ops[0]
	if !r.Plan.Single || op.Kind != ModelRun || s.Batching.Size == 0 {
		return nil
	}
	r.member = batchMember{run: r, op: op}
	r.member.describe(s)
	return &r.member.batching
}

// requeueAt queues a DAG run again, at the front of op's queue, when op is a model op that batches (RedisAI
// batches a DAG's current op with the model's queued runs and other DAGs' ops, and makes it wait
// for MINBATCHSIZE): the run's job then describes op as its share of a batch, keeps the time the
// DAG was first queued (its TIMEOUT counts from there), and the DAG goes on once the batch has run
// (see batchMember.finish). Waiting on its own thread instead, a DAG would hold that thread with
// its op out of every other batch's reach. An op that would run alone at once (no MINBATCHSIZE, and
// nothing queued to batch with) runs here, without the queue's thread hand-off. It reports whether
// it queued the run.
func (r *Run) requeueAt(op Op) bool {
	if r.Plan.Single || !r.queued || op.Kind != ModelRun {
		return false
	}
	s := op.Model.Session()
	if s.Batching.Size == 0 || (s.Batching.MinSize == 0 && s.Queue.Queued() == 0) {
		return false
	}
	r.member = batchMember{run: r, op: op, dag: true}
	r.member.describe(s)
	if b := r.member.batching; b.Size == 0 || b.Size >= b.Max {
		return false // it would run alone, at once: here
	}
	queued := r.job.Queued()
	r.job = engine.Job{Timeout: r.Plan.Timeout, Run: r.run, TimedOut: r.timedOut, Batch: &r.member.batching, Abandoned: &r.gone}
	r.queue.Store(s.Queue)
	s.Queue.Requeue(&r.job, queued)
	return true
}

// batchMember is one run's share of a batch: a single run's op, or the op of a DAG queued again at
// it, whose DAG goes on with its outputs once the batch has run.
type batchMember struct {
	run *Run
	op  Op
	// batching describes the member to the engine; its Size is the member's share of the batch.
	batching engine.Batch
	// dag: the member is a DAG's op; err is then its outcome.
	dag bool
	err error
}

// describe fills m's batching from s and m's inputs.
func (m *batchMember) describe(s *ModelSession) {
	size, shape := batchShape(m.run.slots, m.op.Inputs)
	m.batching = engine.Batch{
		Group:   s,
		Shape:   shape,
		Size:    size,
		Max:     s.Batching.Size,
		Min:     s.Batching.MinSize,
		MinWait: s.Batching.MinTimeout,
		Run:     runBatch,
		Payload: m,
	}
}

// runAlone runs the member in a batch of its own.
func (m *batchMember) runAlone() {
	if m.dag {
		m.err = m.run.runOp(m.op)
		return
	}
	m.run.execute()
}

// settle records the member's outcome: a DAG op's error, or a single run's.
func (m *batchMember) settle(err error) {
	if m.dag {
		m.err = err
		return
	}
	m.run.Err = err
	if err == nil {
		m.run.Done = 1
	}
}

// finish ends a single run, or takes a DAG on from the member's op: its next ops run here, until
// the DAG is over or queued again.
func (m *batchMember) finish() {
	r := m.run
	if !m.dag {
		r.finish()
		return
	}
	if m.err != nil {
		r.Err = m.err
		r.finish()
		return
	}
	r.Done++
	r.run()
}

// inputs are the tensors op reads, borrowed from the slots.
func (r *Run) inputs(op Op) []tensor.Tensor {
	inputs := make([]tensor.Tensor, len(op.Inputs))
	for k, slot := range op.Inputs {
		inputs[k] = r.slots[slot]
	}
	return inputs
}

// batchShape is the common dim 0 of the inputs (slots[i] for i in inputs; 0 when they have none
// in common, so the run is not batched) and a key naming their dtypes and other dims
// ("FLOAT:1,28,28;" per input), built with appends: one allocation, the string.
func batchShape(slots []tensor.Tensor, inputs []int) (int64, string) {
	var size int64
	var buf [64]byte
	key := buf[:0]
	for i, slot := range inputs {
		t := slots[slot]
		shape := t.Shape()
		if len(shape) == 0 || (i > 0 && shape[0] != size) {
			return 0, ""
		}
		size = shape[0]
		key = append(key, t.DType().Name()...)
		key = append(key, ':')
		for k, d := range shape[1:] {
			if k > 0 {
				key = append(key, ',')
			}
			key = strconv.AppendInt(key, d, 10)
		}
		key = append(key, ';')
	}
	return size, string(key)
}

// runBatch runs the runs of one batch as one call: each input concatenated along dim 0, each output
// sliced back to the runs in order. A failure is every run's failure. A run whose client left once
// the batch was made (it would have left a waiting batch: engine.Job.Abandoned) still runs in it,
// unless every run's client has: it counted toward MINBATCHSIZE, which the model was promised.
func runBatch(batch []*engine.Job) {
	members := make([]*batchMember, 0, len(batch))
	wanted := false
	for _, b := range batch {
		m := b.Batch.Payload.(*batchMember)
		members = append(members, m)
		wanted = wanted || !m.run.gone.Load()
	}
	if !wanted {
		for _, m := range members {
			m.settle(errClientGone)
			m.finish()
		}
		return
	}
	if len(members) == 1 {
		members[0].runAlone()
	} else if len(members) > 1 {
		runTogether(members)
	}
	// The single runs are answered before the DAGs go on with their next ops, here.
	for _, dags := range []bool{false, true} {
		for _, m := range members {
			if m.dag == dags {
				m.finish()
			}
		}
	}
}

func runTogether(members []*batchMember) {
	defer func() {
		if p := recover(); p != nil {
			members[0].run.x.Log("gorai: panic running a batch: %v\n%s", p, debug.Stack())
			for _, m := range members {
				m.settle(ErrInternal)
			}
		}
	}()
	start := time.Now()
	outputs, err := runConcatenated(members)
	d := time.Since(start)
	from := int64(0)
	for _, m := range members {
		r := m.run
		if !m.dag {
			r.started = start
		}
		size := m.batching.Size
		var mine []tensor.Tensor
		runErr := err
		if err == nil {
			mine, runErr = sliceOutputs(outputs, from, from+size)
		}
		from += size
		m.settle(r.keep(m.op, mine, r.record(m.op.Model.Session().Stats, d, mine, len(m.op.Outputs), runErr)))
	}
	for _, o := range outputs {
		if !o.IsZero() {
			o.Release()
		}
	}
}

// runConcatenated runs the model once on the members' inputs joined along dim 0, and checks that
// every output has the batch's size.
func runConcatenated(members []*batchMember) ([]tensor.Tensor, error) {
	var total int64
	for _, m := range members {
		total += m.batching.Size
	}
	first := members[0].op
	inputs := make([]tensor.Tensor, len(first.Inputs))
	defer func() {
		for _, t := range inputs {
			if !t.IsZero() {
				t.Release()
			}
		}
	}()
	parts := make([]tensor.Tensor, len(members))
	for i := range inputs {
		for k, m := range members {
			parts[k] = m.run.slots[m.op.Inputs[i]]
		}
		t, err := tensor.Concat(parts)
		if err != nil {
			return nil, err
		}
		inputs[i] = t
	}
	outputs, err := first.Model.Session().Backend.Run(inputs)
	if err != nil {
		return nil, err
	}
	for _, o := range outputs {
		if !o.IsZero() && o.BatchSize() != total {
			for _, o := range outputs {
				if !o.IsZero() {
					o.Release()
				}
			}
			return nil, batchSizeError(first.Model.Session().Backend)
		}
	}
	return outputs, nil
}

// batchSizeError is the error for a batch whose outputs are not its size, in the backend's words.
func batchSizeError(m backends.Model) error {
	if w, ok := m.(backends.BatchSizeWorded); ok {
		return w.BatchSizeError()
	}
	return errBatchSize
}

// sliceOutputs cuts rows [from, to) out of the batch's outputs.
func sliceOutputs(outputs []tensor.Tensor, from, to int64) ([]tensor.Tensor, error) {
	mine := make([]tensor.Tensor, len(outputs))
	for i, o := range outputs {
		if o.IsZero() {
			continue
		}
		t, err := o.Slice(from, to)
		if err != nil {
			for _, m := range mine[:i] {
				if !m.IsZero() {
					m.Release()
				}
			}
			return nil, err
		}
		mine[i] = t
	}
	return mine, nil
}
