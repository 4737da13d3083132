package engine

import (
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

// A batch that runs without waiting for more leaves no channel behind: only a worker that waits
// makes one, so that Submit, on Redis' main thread, has nothing to close (and allocates nothing)
// for the batches that did not wait.
func TestBatchWithoutWaitLeavesNoChannel(t *testing.T) {
	q := New(1, nil).Queue("CPU")
	release := blockQueue(q)
	var r batchRecorder
	q.Submit(r.job("m", "s", 1, 4, 0, 0))
	q.Submit(r.job("m", "s", 1, 4, 0, 0))
	release()
	r.done.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.arrived != nil {
		t.Fatalf("after batches %v that did not wait, the queue holds a channel for waiters", r.batches)
	}
}
