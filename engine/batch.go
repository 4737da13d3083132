package engine

import (
	"slices"
	"time"
)

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
// smaller than its minimum, and runs them on w. A job whose own timeout passes while the batch
// waits is finished as timed out there (RedisAI's requests time out while their worker polls for
// more); when none is left, w goes back to the queue.
func (q *Queue) runBatch(w *worker, first *Job) {
	b := first.Batch
	if b.Size == 0 || b.Size >= b.Max {
		q.runJobs(b, []*Job{first})
		return
	}
	jobs, total := []*Job{first}, b.Size
	for wait := true; wait; {
		var s served
		jobs, total, wait, s = q.take(w, jobs, total, b, false)
		switch {
		case s.stopped:
			return // the process exits: a batch not yet run is not started
		case s.ready != nil:
			w.yield.Yield()
			q.serve(s.ready, s.asBatch)
			continue
		case !wait:
			continue
		}
		if jobs, total = dropAbandoned(jobs, total); len(jobs) == 0 {
			q.stopGathering(w)
			return
		}
		b = q.regather(w, jobs[0].Batch)
		deadline, minWait := gatherDeadline(jobs)
		wake := deadline
		if !s.next.IsZero() && (wake.IsZero() || s.next.Before(wake)) {
			wake = s.next
		}
		switch {
		case w.gather.parkUntil(wake):
		case deadline.IsZero() || time.Now().Before(deadline):
			// A queued job's deadline: take serves it.
		case minWait:
			// MINBATCHTIMEOUT: the batch runs with what is queued now.
			jobs, total, wait, _ = q.take(w, jobs, total, b, true)
		default:
			if jobs, total = dropTimedOut(jobs, total); len(jobs) == 0 {
				q.stopGathering(w)
				return
			}
			b = q.regather(w, jobs[0].Batch)
		}
	}
	q.runJobs(b, stillWanted(jobs))
}

// gatherDeadline is when a batch waiting for more stops waiting: MINBATCHTIMEOUT after its first
// job was queued (minWait), or sooner, when one of its jobs has waited its own timeout; zero: never.
func gatherDeadline(jobs []*Job) (deadline time.Time, minWait bool) {
	if b := jobs[0].Batch; b.MinWait > 0 {
		deadline, minWait = jobs[0].queued.Add(b.MinWait), true
	}
	for _, j := range jobs {
		if t := j.queued.Add(j.Timeout); j.Timeout > 0 && (deadline.IsZero() || t.Before(deadline)) {
			deadline, minWait = t, false
		}
	}
	return deadline, minWait
}

// dropTimedOut finishes as timed out the jobs that waited longer than their own timeout, and
// returns the others with their total size.
func dropTimedOut(jobs []*Job, total int64) ([]*Job, int64) {
	return dropJobs(jobs, total, (*Job).expired, func(j *Job) { j.TimedOut() })
}

// dropAbandoned ends the jobs nobody waits for any more (Job.Abandoned: run, which ends them at once),
// and returns the others with their total size.
func dropAbandoned(jobs []*Job, total int64) ([]*Job, int64) {
	return dropJobs(jobs, total, (*Job).abandoned, func(j *Job) { j.Run() })
}

// dropJobs ends, through end, the jobs that leave the batch, and returns the others with their total size.
func dropJobs(jobs []*Job, total int64, leaves func(*Job) bool, end func(*Job)) ([]*Job, int64) {
	kept := jobs[:0]
	for _, j := range jobs {
		if leaves(j) {
			end(j)
			total -= j.Batch.Size
			continue
		}
		kept = append(kept, j)
	}
	clear(jobs[len(kept):])
	return kept, total
}

// regather makes b, the batch of w's first job now, the one pushes are compared with (its first
// job left the batch), and returns it.
func (q *Queue) regather(w *worker, b *Batch) *Batch {
	q.mu.Lock()
	if w.batch != nil {
		w.batch = b
	}
	q.mu.Unlock()
	return b
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
	kept, _ := dropTimedOut(jobs[1:], 0)
	return jobs[:1+len(kept)]
}

// served is what a worker whose batch waits finds to do besides it (see take).
type served struct {
	// ready is work to serve now (see takeReady): one batch when asBatch, otherwise one job run as
	// its own.
	ready   []*Job
	asBatch bool
	// next is, when nothing is ready, the earliest deadline of the queued jobs that wait for
	// batches of their own (their MINBATCHTIMEOUT or their own timeout; zero: none): the worker
	// wakes then to serve them.
	next time.Time
	// stopped: the engine stops (see Engine.Stop); the batch is not run.
	stopped bool
}

// take moves compatible jobs from the queue into w's batch, in queue order, until it reaches its
// maximum. While the batch is still below both its maximum and its minimum (and last is not set),
// it reports that w must wait for more, and lists w as gathering, its parker armed, under the same
// lock, so that no push is missed: a push wakes it through its own futex, as an idle worker's,
// rather than through a channel and the Go scheduler (Redis' main thread readying a goroutine
// locked to another thread wakes a spare thread that hands it over: two wake-ups per push). Jobs
// it leaves queued wake an idle worker: their pushes may have woken none (see Submit). With no
// worker idle, a waiting w takes work among them that will not wait (see takeReady) or, when there
// is none, learns when a queued job's deadline comes: the queue's other work goes on while the
// batch waits, and its runs keep their timeouts, as RedisAI's worker serves the queue between its
// polls of a small batch.
func (q *Queue) take(w *worker, jobs []*Job, total int64, b *Batch, last bool) ([]*Job, int64, bool, served) {
	q.mu.Lock()
	if q.stopped {
		q.leaveGathering(w)
		q.mu.Unlock()
		return jobs, total, false, served{stopped: true}
	}
	jobs, total = q.takeCompatible(b, 0, jobs, total)
	wait := !last && total < b.Max && total < b.Min
	if wait {
		w.gather.prepare()
		if w.batch == nil {
			w.batch = b
			q.gathering = append(q.gathering, w)
		}
	} else {
		q.leaveGathering(w)
	}
	var idle *worker
	var s served
	if len(q.jobs) > 0 {
		idle = q.takeIdle()
	}
	if idle == nil && wait {
		now := time.Now()
		if s.ready, s.asBatch = q.takeReady(now); s.ready == nil {
			s.next = q.nextDeadline()
		}
	}
	q.unlockAndWake(nil, idle)
	return jobs, total, wait, s
}

// takeReady removes from the queue work that can run without waiting, counted busy as pop counts
// a job: the first job that does not wait for a batch of its own (no batching, or no MINBATCHSIZE;
// its batch gathers when it runs) or has waited its own timeout (it times out as it is served), or
// the first set of compatible jobs that reaches its MINBATCHSIZE or whose first job has waited its
// MINBATCHTIMEOUT (asBatch). Nil when there is none. Call it under the lock.
func (q *Queue) takeReady(now time.Time) (ready []*Job, asBatch bool) {
	// The first job of a batch group decides for the group's later ones, which reach no larger a
	// total and were queued after it: each group is totalled once (totalling each job made a push
	// cost the square of the jobs queued, under the lock: thousands of runs waiting for a batch held
	// Redis' main thread for seconds).
	var seen []*Batch
	for i, j := range q.jobs {
		b := j.Batch
		if j.abandoned() || b == nil || b.Min == 0 || b.Size == 0 || b.Size >= b.Max || j.expiredAt(now) {
			q.jobs = slices.Delete(q.jobs, i, i+1)
			q.busy.Add(1)
			return []*Job{j}, false
		}
		if slices.ContainsFunc(seen, b.compatible) {
			continue
		}
		seen = append(seen, b)
		total := int64(0)
		for _, o := range q.jobs[i:] {
			if total < b.Max && b.compatible(o.Batch) {
				total += o.Batch.Size
			}
		}
		if total < b.Min && (b.MinWait == 0 || now.Before(j.queued.Add(b.MinWait))) {
			continue
		}
		ready, _ = q.takeCompatible(b, i, nil, 0)
		q.busy.Add(1)
		return ready, true
	}
	return nil, false
}

// nextDeadline is the earliest time a queued job stops waiting: its own timeout, or its batch's
// MINBATCHTIMEOUT; zero when none has either. Call it under the lock.
func (q *Queue) nextDeadline() time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, j := range q.jobs {
		if j.Timeout > 0 {
			earliest(j.queued.Add(j.Timeout))
		}
		if b := j.Batch; b != nil && b.MinWait > 0 {
			earliest(j.queued.Add(b.MinWait))
		}
	}
	return next
}

// takeCompatible moves the queued jobs from index from on that b can batch with, in queue order,
// into jobs until their total reaches b's maximum, and returns jobs and the total. Call it under
// the lock.
func (q *Queue) takeCompatible(b *Batch, from int, jobs []*Job, total int64) ([]*Job, int64) {
	kept := q.jobs[:from]
	for _, j := range q.jobs[from:] {
		if total < b.Max && b.compatible(j.Batch) {
			jobs = append(jobs, j)
			total += j.Batch.Size
			continue
		}
		kept = append(kept, j)
	}
	clear(q.jobs[len(kept):])
	q.jobs = kept
	return jobs, total
}

// serve runs ready (see takeReady) on the thread of a worker whose batch waits (see take). A lone
// job's own batch, if it has one, gathers apart from the waiting one, and runs at once.
func (q *Queue) serve(ready []*Job, asBatch bool) {
	defer q.busy.Done()
	if !asBatch {
		var apart worker
		q.do(&apart, ready[0])
		return
	}
	if ready, _ = dropTimedOut(ready, 0); len(ready) > 0 {
		q.runJobs(ready[0].Batch, ready)
	}
}

// leaveGathering takes w off the gathering list; call it under the lock.
func (q *Queue) leaveGathering(w *worker) {
	if w.batch != nil {
		w.batch = nil
		q.gathering = slices.DeleteFunc(q.gathering, func(o *worker) bool { return o == w })
	}
}

// stopGathering is leaveGathering for a worker whose batch is over before it ran.
func (q *Queue) stopGathering(w *worker) {
	q.mu.Lock()
	q.leaveGathering(w)
	q.mu.Unlock()
}

// wakeGathering wakes the workers gathering a batch once the lock is released (through wake,
// which it fills), and reports whether one of them can take j into its batch, so that j needs no
// idle worker: waking one too would have it start a batch of its own with j, beside the one still
// below its minimum. Called by Submit under the lock.
func (q *Queue) wakeGathering(j *Job, wake []*worker) ([]*worker, bool) {
	joins := false
	for _, w := range q.gathering {
		joins = joins || w.batch.compatible(j.Batch)
		wake = append(wake, w)
	}
	return wake, joins
}
