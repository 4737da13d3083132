package engine

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// batchRecorder collects the batches a queue runs.
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]int64 // the sizes of the jobs of each batch
	done    sync.WaitGroup
}

func (r *batchRecorder) job(group any, shape string, size, max, min int64, wait time.Duration) *Job {
	r.done.Add(1)
	j := &Job{}
	j.Batch = &Batch{Group: group, Shape: shape, Size: size, Max: max, Min: min, MinWait: wait,
		Run: func(jobs []*Job) {
			r.mu.Lock()
			var sizes []int64
			for _, j := range jobs {
				sizes = append(sizes, j.Batch.Size)
			}
			r.batches = append(r.batches, sizes)
			r.mu.Unlock()
			for range jobs {
				r.done.Done()
			}
		}}
	j.TimedOut = func() { r.done.Done() }
	return j
}

// doneWithin reports whether every job r made has run or timed out within d.
func (r *batchRecorder) doneWithin(d time.Duration) bool {
	done := make(chan struct{})
	go func() { r.done.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// blockQueue occupies the queue's only worker until the returned func is called.
func blockQueue(q *Queue) func() {
	started, release := make(chan struct{}), make(chan struct{})
	q.Submit(&Job{Run: func() { close(started); <-release }})
	<-started
	return func() { close(release) }
}

func TestBatchingGathersCompatibleJobs(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	release := blockQueue(q)
	var r batchRecorder
	q.Submit(r.job("m", "f32[2]", 1, 4, 0, 0))
	q.Submit(r.job("m", "f32[3]", 1, 4, 0, 0)) // another shape: not with the others
	q.Submit(r.job("other", "f32[2]", 1, 4, 0, 0))
	q.Submit(r.job("m", "f32[2]", 2, 4, 0, 0))
	q.Submit(r.job("m", "f32[2]", 3, 4, 0, 0)) // overshoots BATCHSIZE, as RedisAI
	q.Submit(r.job("m", "f32[2]", 1, 4, 0, 0)) // beyond: the next batch
	release()
	r.done.Wait()
	want := [][]int64{{1, 2, 3}, {1}, {1}, {1}}
	if len(r.batches) != len(want) {
		t.Fatalf("batches %v, want %v", r.batches, want)
	}
	for i := range want {
		if len(r.batches[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", r.batches, want)
		}
	}
	// The job that held the worker was no batchable job: it is in no batch.
	if batches, jobs := q.BatchCounts(); batches != 4 || jobs != 6 {
		t.Errorf("BatchCounts %d batches of %d jobs, want 4 of 6", batches, jobs)
	}
}

// A batch below MINBATCHSIZE waits for more jobs, and runs as it is once MINBATCHTIMEOUT passed.
func TestMinBatchSize(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	var r batchRecorder
	q.Submit(r.job("m", "s", 1, 8, 3, 0))
	time.Sleep(30 * time.Millisecond)
	q.Submit(r.job("m", "s", 1, 8, 3, 0))
	time.Sleep(30 * time.Millisecond)
	q.Submit(r.job("m", "s", 1, 8, 3, 0)) // the third reaches the minimum
	r.done.Wait()
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Fatalf("batches %v, want one of 3", r.batches)
	}

	var r2 batchRecorder
	start := time.Now()
	q.Submit(r2.job("m", "s", 1, 8, 3, 50*time.Millisecond))
	r2.done.Wait()
	if waited := time.Since(start); waited < 50*time.Millisecond || len(r2.batches) != 1 {
		t.Fatalf("a lone job below the minimum ran after %v as %v", waited, r2.batches)
	}
}

// A batch that runs without waiting for more leaves no worker on the gathering list, which Submit,
// on Redis' main thread, would wake for nothing.
func TestBatchWithoutWaitLeavesNoWaiter(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	release := blockQueue(q)
	var r batchRecorder
	q.Submit(r.job("m", "s", 1, 4, 0, 0))
	q.Submit(r.job("m", "s", 1, 4, 0, 0))
	release()
	r.done.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.gathering) != 0 {
		t.Fatalf("after batches %v that did not wait, %d workers are listed as gathering", r.batches, len(q.gathering))
	}
}

// A job that a waiting batch can take goes to that batch: the idle worker is not woken to start a
// batch of its own with it, which would split the runs between two batches below their minimum
// (until MINBATCHTIMEOUT, 10 s here). Who would win that race varies, hence the trials.
func TestArrivalJoinsTheWaitingBatch(t *testing.T) {
	q := New(2, nil).Queue("CPU")
	for trial := range 20 {
		var r batchRecorder
		q.Submit(r.job("m", "s", 1, 8, 3, 10*time.Second))
		waitFor(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.gathering) == 1 && len(q.idle) == 1 })
		q.Submit(r.job("m", "s", 1, 8, 3, 10*time.Second))
		q.Submit(r.job("m", "s", 1, 8, 3, 10*time.Second))
		if !r.doneWithin(2 * time.Second) {
			r.mu.Lock()
			got := fmt.Sprint(r.batches)
			r.mu.Unlock()
			t.Fatalf("trial %d: batches %s after 2 s: the three jobs did not run as one batch", trial, got)
		}
		if len(r.batches) != 1 || len(r.batches[0]) != 3 {
			t.Fatalf("trial %d: batches %v, want one of 3", trial, r.batches)
		}
	}
}

// Jobs arriving while batches wait and time out, on two workers, all run: no job is left queued with
// the workers asleep (a push that a gathering batch was to take, but that batch filled up or timed
// out first).
func TestWaitingBatchesUnderLoad(t *testing.T) {
	q := New(2, nil).Queue("CPU")
	var r batchRecorder
	var submitters sync.WaitGroup
	for g := range 4 {
		submitters.Add(1)
		go func() {
			defer submitters.Done()
			for i := range 300 {
				q.Submit(r.job("m", "s", 1, 8, 4, time.Millisecond))
				if (i+g)%7 == 0 {
					time.Sleep(time.Duration(i%3) * 500 * time.Microsecond)
				}
			}
		}()
	}
	submitters.Wait()
	if !r.doneWithin(20 * time.Second) {
		q.mu.Lock()
		defer q.mu.Unlock()
		t.Fatalf("jobs left behind: %d queued, %d workers idle, %d gathering", len(q.jobs), len(q.idle), len(q.gathering))
	}
	runs := 0
	for _, b := range r.batches {
		runs += len(b)
	}
	if runs != 1200 {
		t.Fatalf("%d jobs ran, want 1200", runs)
	}
}

// waitFor polls cond until it holds, for at most 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not reached in 5 s")
		}
	}
}

// A job waiting in a batch below MINBATCHSIZE is given up at its own timeout, as RedisAI's
// requests, which time out while its worker polls for more: MINBATCHTIMEOUT (here none: for ever)
// does not hold it longer. The worker is then free for the queue's other jobs; the batch's
// other jobs wait on.
func TestTimeoutWhileGathering(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	var r batchRecorder
	gaveUp := make(chan struct{})
	short := r.job("m", "s", 1, 8, 3, 0)
	short.Timeout = 20 * time.Millisecond
	short.TimedOut = func() { close(gaveUp); r.done.Done() }
	start := time.Now()
	q.Submit(short)
	waitFor(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.gathering) == 1 })
	patient := r.job("m", "s", 1, 8, 3, 0)
	q.Submit(patient)
	select {
	case <-gaveUp:
	case <-time.After(3 * time.Second):
		t.Fatalf("a job with a 20 ms timeout still waited for MINBATCHSIZE after 3 s")
	}
	if waited := time.Since(start); waited < short.Timeout {
		t.Errorf("timed out after %v, before its timeout", waited)
	}
	// The patient job still waits for two more; they come, and the three run together.
	q.Submit(r.job("m", "s", 1, 8, 3, 0))
	q.Submit(r.job("m", "s", 1, 8, 3, 0))
	r.done.Wait()
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Fatalf("batches %v, want one of the 3 jobs left", r.batches)
	}

	// Once every job of a waiting batch has timed out, the worker serves the rest of the queue.
	var r2 batchRecorder
	lone := r2.job("m", "s", 1, 8, 3, 0)
	lone.Timeout = 10 * time.Millisecond
	q.Submit(lone)
	ran := make(chan struct{})
	q.Submit(&Job{Run: func() { close(ran) }})
	select {
	case <-ran:
	case <-time.After(3 * time.Second):
		t.Fatalf("the worker still gathers a batch whose only job timed out")
	}
	r2.done.Wait()
	if len(r2.batches) != 0 {
		t.Fatalf("a timed-out job ran: %v", r2.batches)
	}
}

// While a worker holds a batch below MINBATCHSIZE, the queue's other jobs still run (RedisAI's
// worker re-queues a small batch and serves the rest of the queue meanwhile): with one worker,
// a plain job, a batch of a model without MINBATCHSIZE and one of a model whose runs reach its
// MINBATCHSIZE run, and the waiting batch still takes the job that completes it.
func TestOtherJobsRunWhileGathering(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	var r batchRecorder
	q.Submit(r.job("waits", "s", 1, 8, 2, 0))
	waitFor(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.gathering) == 1 })
	ran := make(chan struct{})
	q.Submit(&Job{Run: func() { close(ran) }})
	var other batchRecorder
	q.Submit(other.job("other", "s", 1, 8, 0, 0))
	select {
	case <-ran:
	case <-time.After(3 * time.Second):
		t.Fatal("a plain job queued behind a batch waiting for MINBATCHSIZE did not run in 3 s")
	}
	if !other.doneWithin(3 * time.Second) {
		t.Fatal("a batch of another model did not run while the first waited")
	}
	// Another model's runs that reach their own MINBATCHSIZE run as their batch (RedisAI's
	// test_tensorflow_modelrun_with_batch_and_minbatch); one alone would wait.
	var third batchRecorder
	q.Submit(third.job("third", "s", 1, 8, 2, 0))
	time.Sleep(20 * time.Millisecond)
	q.Submit(third.job("third", "s", 1, 8, 2, 0))
	if !third.doneWithin(3 * time.Second) {
		t.Fatal("two runs of another model reaching their MINBATCHSIZE did not run while the first batch waited")
	}
	if len(third.batches) != 1 || len(third.batches[0]) != 2 {
		t.Fatalf("the other model's batches %v, want one of 2", third.batches)
	}
	q.Submit(r.job("waits", "s", 1, 8, 2, 0))
	r.done.Wait()
	if len(r.batches) != 1 || len(r.batches[0]) != 2 {
		t.Fatalf("batches %v, want one of the 2 jobs", r.batches)
	}
}

// While a worker holds a batch below MINBATCHSIZE with no deadline of its own, the queued jobs that
// wait for batches of their own still keep their deadlines: with one worker, another model's lone job
// runs at its MINBATCHTIMEOUT, one with a TIMEOUT times out at it, and a job of the waiting model with
// another shape (which cannot join that batch) too. They stayed queued for ever: the waiting worker
// served only jobs ready to run, and slept until its own batch's deadline, which it had none of.
func TestQueuedDeadlinesWhileGathering(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	var waiting batchRecorder
	q.Submit(waiting.job("waits", "s", 1, 8, 4, 0))
	waitFor(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.gathering) == 1 })

	var other batchRecorder
	start := time.Now()
	q.Submit(other.job("other", "s", 1, 8, 4, 30*time.Millisecond))
	if !other.doneWithin(3 * time.Second) {
		t.Fatal("another model's job did not run at its MINBATCHTIMEOUT while a batch waited")
	}
	if len(other.batches) != 1 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("another model's job: batches %v after %v, want one batch after its 30 ms", other.batches, time.Since(start))
	}

	var timed batchRecorder
	gaveUp := make(chan struct{})
	j := timed.job("other", "s", 1, 8, 4, 0)
	j.Timeout = 20 * time.Millisecond
	j.TimedOut = func() { close(gaveUp); timed.done.Done() }
	q.Submit(j)
	select {
	case <-gaveUp:
	case <-time.After(3 * time.Second):
		t.Fatal("a queued job's TIMEOUT passed unanswered while a batch waited")
	}

	var shape batchRecorder
	q.Submit(shape.job("waits", "another shape", 1, 8, 4, 30*time.Millisecond))
	if !shape.doneWithin(3 * time.Second) {
		t.Fatal("a job of the waiting model with another shape did not run at its MINBATCHTIMEOUT")
	}
	for range 3 {
		q.Submit(waiting.job("waits", "s", 1, 8, 4, 0))
	}
	if !waiting.doneWithin(3*time.Second) || len(waiting.batches) != 1 || len(waiting.batches[0]) != 4 {
		t.Fatalf("the waiting batch: %v, want one of 4", waiting.batches)
	}
}

// Stop ends a batch waiting for MINBATCHSIZE at once, without running it (it waited Stop's whole
// timeout).
func TestStopEndsAWaitingBatch(t *testing.T) {
	e := New(1, nil)
	q := e.Queue("CPU")
	var r batchRecorder
	q.Submit(r.job("waits", "s", 1, 8, 4, 0))
	waitFor(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.gathering) == 1 })
	start := time.Now()
	if !e.Stop(3 * time.Second) {
		t.Fatalf("Stop timed out with a batch waiting for MINBATCHSIZE")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	if len(r.batches) != 0 {
		t.Errorf("the waiting batch ran at Stop: %v", r.batches)
	}
}
