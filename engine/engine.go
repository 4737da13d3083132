// Package engine runs work on background workers: one queue per device string (CPU, CPU:1, GPU,
// ...), each served by a fixed number of worker goroutines that sleep until work arrives. A job
// that waited in its queue longer than its timeout is not run. The engine knows nothing of Redis:
// the module blocks the client, submits a job whose callbacks unblock it, and writes results back
// on Redis' main thread.
package engine

import (
	"strings"
	"sync"
	"time"
)

// Job is one unit of work.
type Job struct {
	// Timeout, when positive, is how long the job may wait in its queue before it is given up.
	Timeout time.Duration
	// Run does the work on a worker.
	Run func()
	// TimedOut is called on a worker, instead of Run, for a job given up.
	TimedOut func()

	queued time.Time
}

// Engine holds the queues.
type Engine struct {
	threadsPerQueue int

	mu     sync.Mutex
	queues map[string]*queue
}

// New makes an engine whose queues each have threadsPerQueue workers.
func New(threadsPerQueue int) *Engine {
	if threadsPerQueue < 1 {
		threadsPerQueue = 1
	}
	return &Engine{threadsPerQueue: threadsPerQueue, queues: map[string]*queue{}}
}

// QueueName is the queue a device string runs on: device strings are case-insensitive.
func QueueName(device string) string { return strings.ToUpper(device) }

// EnsureQueue creates the device's queue and starts its workers, if that was not done yet.
func (e *Engine) EnsureQueue(device string) { e.queue(device) }

// Queues lists the queue names.
func (e *Engine) Queues() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.queues))
	for n := range e.queues {
		names = append(names, n)
	}
	return names
}

func (e *Engine) queue(device string) *queue {
	name := QueueName(device)
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queues[name]
	if q == nil {
		q = &queue{}
		q.ready = sync.NewCond(&q.mu)
		for i := 0; i < e.threadsPerQueue; i++ {
			go q.work()
		}
		e.queues[name] = q
	}
	return q
}

// Submit queues job on the device's queue.
func (e *Engine) Submit(device string, job *Job) {
	job.queued = time.Now()
	e.queue(device).push(job)
}

// queue is a FIFO of jobs served by its workers.
type queue struct {
	mu    sync.Mutex
	ready *sync.Cond
	jobs  []*Job
}

func (q *queue) push(j *Job) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.ready.Signal()
}

func (q *queue) pop() *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 {
		q.ready.Wait()
	}
	j := q.jobs[0]
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	return j
}

func (q *queue) work() {
	for {
		j := q.pop()
		if j.Timeout > 0 && time.Since(j.queued) > j.Timeout {
			j.TimedOut()
			continue
		}
		j.Run()
	}
}
