package engine

import "time"

// Batch describes how a job may be run together with others: RedisAI's BATCHSIZE, MINBATCHSIZE
// and MINBATCHTIMEOUT, for requests to the same model.
type Batch struct {
	// Group and Shape: jobs batch together only when both are equal (the model, and the inputs'
	// dtypes and dims past the first).
	Group any
	Shape string
	// Size is the job's own batch size (dim 0 of its inputs); 0 means it cannot be batched.
	Size int64
	// Max is BATCHSIZE: a batch is run once it holds at least this many. Min is MINBATCHSIZE: a
	// batch smaller than this waits for more, for at most MinWait (MINBATCHTIMEOUT; 0: for ever)
	// after its first job was queued.
	Max, Min int64
	MinWait  time.Duration
	// Run runs jobs (the first is this one) as one batch and finishes each of them.
	Run func(jobs []*Job)
	// Payload is the caller's own data for Run.
	Payload any
}

func (b *Batch) compatible(o *Batch) bool {
	return o != nil && o.Group == b.Group && o.Shape == b.Shape && o.Size > 0
}

// runBatch gathers the queued jobs that can run with first, waits for more while the batch is
// smaller than its minimum, and runs them. Jobs given up on their own timeout while waiting are
// finished as such.
func (q *Queue) runBatch(first *Job) {
	b := first.Batch
	if b.Size == 0 || b.Size >= b.Max {
		q.runJobs(b, []*Job{first})
		return
	}
	jobs, total := []*Job{first}, b.Size
	var deadline <-chan time.Time
	if b.MinWait > 0 {
		timer := time.NewTimer(time.Until(first.queued.Add(b.MinWait)))
		defer timer.Stop()
		deadline = timer.C
	}
	for waiting := true; waiting; {
		var arrived chan struct{}
		jobs, total, arrived = q.take(jobs, total, b)
		if arrived == nil {
			break
		}
		select {
		case <-arrived:
		case <-deadline:
			waiting = false
		}
	}
	q.runJobs(b, stillWanted(jobs))
}

// runJobs runs jobs as one batch, counted for BatchCounts.
func (q *Queue) runJobs(b *Batch, jobs []*Job) {
	q.batches.Add(1)
	q.batchedJobs.Add(int64(len(jobs)))
	b.Run(jobs)
}

// BatchCounts are the batches the queue's workers have run (a batchable job run alone is a batch
// of one) and the jobs in them: how full batches are, which the per-model statistics cannot tell
// (RedisAI counts a batched run as one call of its own).
func (q *Queue) BatchCounts() (batches, jobs int64) {
	return q.batches.Load(), q.batchedJobs.Load()
}

// stillWanted finishes as timed out the jobs (the first excepted, checked before) that waited in
// the queue longer than their own timeout, and returns the others.
func stillWanted(jobs []*Job) []*Job {
	kept := jobs[:1]
	for _, j := range jobs[1:] {
		if j.Timeout > 0 && time.Since(j.queued) > j.Timeout {
			j.TimedOut()
			continue
		}
		kept = append(kept, j)
	}
	return kept
}

// take moves compatible jobs from the queue into jobs, in queue order, until the batch reaches
// its maximum. While the batch is still below both its maximum and its minimum, it also returns
// the channel that the next push closes (made under the same lock, so no push is missed); nil
// when the batch is ready to run, so that a batch that does not wait leaves none for Submit to
// close.
func (q *Queue) take(jobs []*Job, total int64, b *Batch) ([]*Job, int64, chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	kept := q.jobs[:0]
	for _, j := range q.jobs {
		if total < b.Max && b.compatible(j.Batch) {
			jobs = append(jobs, j)
			total += j.Batch.Size
			continue
		}
		kept = append(kept, j)
	}
	clear(q.jobs[len(kept):])
	q.jobs = kept
	if total >= b.Max || total >= b.Min {
		return jobs, total, nil
	}
	if q.arrived == nil {
		q.arrived = make(chan struct{})
	}
	return jobs, total, q.arrived
}
