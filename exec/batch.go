package exec

import (
	"runtime/debug"
	"strconv"
	"time"

	"gorai/engine"
	"gorai/tensor"
)

// batch describes how a single model run may run together with other runs of the same stored model
// (RedisAI's autobatching), or nil when it may not: a DAG, a script, or a model stored without
// BATCHSIZE. Runs batch together when their inputs agree in dtype and in every dim past the first.
// s is the session of the plan's first op when it runs a model. It runs on Redis' main thread for
// every run of a batched model: the description lives in the run, and the key is its only
// allocation.
func (r *Run) batch(s *ModelSession) *engine.Batch {
	op := r.Plan.Ops[0]
	if !r.Plan.Single || op.Kind != ModelRun {
		return nil
	}
	if s.Batching.Size == 0 {
		return nil
	}
	size, shape := batchShape(r.slots, op.Inputs)
	r.batching = engine.Batch{
		Group:   s,
		Shape:   shape,
		Size:    size,
		Max:     s.Batching.Size,
		Min:     s.Batching.MinSize,
		MinWait: s.Batching.MinTimeout,
		Run:     runBatch,
		Payload: r,
	}
	return &r.batching
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
// sliced back to the runs in order. A failure is every run's failure.
func runBatch(batch []*engine.Job) {
	runs := make([]*Run, 0, len(batch))
	for _, b := range batch {
		r := b.Batch.Payload.(*Run)
		if r.gone.Load() {
			r.Err = errClientGone
			r.finish()
			continue
		}
		runs = append(runs, r)
	}
	if len(runs) == 1 {
		runs[0].execute()
	} else if len(runs) > 1 {
		runTogether(runs)
	}
	for _, r := range runs {
		r.finish()
	}
}

func runTogether(runs []*Run) {
	defer func() {
		if p := recover(); p != nil {
			runs[0].x.Log("gorai: panic running a batch: %v\n%s", p, debug.Stack())
			for _, r := range runs {
				r.Err = ErrInternal
			}
		}
	}()
	start := time.Now()
	outputs, err := runConcatenated(runs)
	d := time.Since(start)
	from := int64(0)
	for _, r := range runs {
		r.started = start
		op := r.Plan.Ops[0]
		size := r.batching.Size
		var mine []tensor.Tensor
		runErr := err
		if err == nil {
			mine, runErr = sliceOutputs(outputs, from, from+size)
		}
		from += size
		r.Err = r.keep(op, mine, r.record(op.Model.Session().Stats, d, mine, len(op.Outputs), runErr))
		if r.Err == nil {
			r.Done = 1
		}
	}
	for _, o := range outputs {
		if !o.IsZero() {
			o.Release()
		}
	}
}

// runConcatenated runs the model once on the runs' inputs joined along dim 0, and checks that every
// output has the batch's size.
func runConcatenated(runs []*Run) ([]tensor.Tensor, error) {
	var total int64
	for _, r := range runs {
		total += r.batching.Size
	}
	first := runs[0].Plan.Ops[0]
	inputs := make([]tensor.Tensor, len(first.Inputs))
	defer func() {
		for _, t := range inputs {
			if !t.IsZero() {
				t.Release()
			}
		}
	}()
	parts := make([]tensor.Tensor, len(runs))
	for i := range inputs {
		for k, r := range runs {
			parts[k] = r.slots[r.Plan.Ops[0].Inputs[i]]
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
			return nil, errBatchSize
		}
	}
	return outputs, nil
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
