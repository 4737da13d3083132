package main

/*
#include "module.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"gorai/dlpack"
	"gorai/engine"
)

var errBatchSize = errors.New("ERR Model did not generate the expected batch size")

// batchFor describes how j may run together with other runs of model m (RedisAI's
// autobatching), or nil when the model was stored without BATCHSIZE. Runs batch together when
// they use the same stored model and their inputs agree in dtype and in every dim past the first.
func batchFor(m storedModel, j *job, inputs []dlpack.Tensor) *engine.Batch {
	if m.c.batchsize == 0 {
		return nil
	}
	size, shape := batchShape(inputs)
	return &engine.Batch{
		Group:   unsafe.Pointer(m.c),
		Shape:   shape,
		Size:    size,
		Max:     int64(m.c.batchsize),
		Min:     int64(m.c.minbatchsize),
		MinWait: time.Duration(m.c.minbatchtimeout) * time.Millisecond,
		Run:     runBatch,
		Payload: j,
	}
}

// batchShape is the inputs' common dim 0 (0 when they have none in common, so the run is not
// batched) and a key naming their dtypes and other dims.
func batchShape(inputs []dlpack.Tensor) (int64, string) {
	var size int64
	var key strings.Builder
	for i, t := range inputs {
		shape := t.Shape()
		if len(shape) == 0 || (i > 0 && shape[0] != size) {
			return 0, ""
		}
		size = shape[0]
		fmt.Fprintf(&key, "%s%v;", t.DType().Name(), shape[1:])
	}
	return size, key.String()
}

// runBatch runs the jobs of one batch as one call: each input concatenated along dim 0, each
// output sliced back to the jobs in order. A failure is every job's failure.
func runBatch(batch []*engine.Job) {
	jobs := make([]*job, 0, len(batch))
	for _, b := range batch {
		j := b.Batch.Payload.(*job)
		if j.gone.Load() {
			j.err = errClientGone
			j.finish()
			continue
		}
		jobs = append(jobs, j)
	}
	if len(jobs) == 1 {
		jobs[0].run()
	} else if len(jobs) > 1 {
		runTogether(jobs)
	}
	for _, j := range jobs {
		j.finish()
	}
}

func runTogether(jobs []*job) {
	defer recoverEntry(nil, "running a batch", func() {
		for _, j := range jobs {
			j.err = errInternal
		}
	})
	start := time.Now()
	outputs, err := runConcatenated(jobs)
	d := time.Since(start)
	for _, j := range jobs {
		j.err = err
		if err == nil {
			j.outputs, j.err = sliceOutputs(outputs, j, jobs)
		}
		j.record(d)
	}
	for _, o := range outputs {
		if !o.IsZero() {
			o.Release()
		}
	}
}

// runConcatenated runs the model once on the jobs' inputs joined along dim 0, and checks that
// every output has the batch's size.
func runConcatenated(jobs []*job) ([]dlpack.Tensor, error) {
	var total int64
	for _, j := range jobs {
		total += j.batch.Size
	}
	inputs := make([]dlpack.Tensor, len(jobs[0].inputs))
	defer func() {
		for _, t := range inputs {
			if !t.IsZero() {
				t.Release()
			}
		}
	}()
	parts := make([]dlpack.Tensor, len(jobs))
	for i := range inputs {
		for k, j := range jobs {
			parts[k] = j.inputs[i]
		}
		t, err := dlpack.Concat(parts)
		if err != nil {
			return nil, err
		}
		inputs[i] = t
	}
	outputs, err := jobs[0].call(inputs)
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

// sliceOutputs cuts job j's rows out of the batch's outputs.
func sliceOutputs(outputs []dlpack.Tensor, j *job, jobs []*job) ([]dlpack.Tensor, error) {
	var from int64
	for _, o := range jobs {
		if o == j {
			break
		}
		from += o.batch.Size
	}
	mine := make([]dlpack.Tensor, len(outputs))
	for i, o := range outputs {
		if o.IsZero() {
			continue
		}
		t, err := o.Slice(from, from+j.batch.Size)
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
