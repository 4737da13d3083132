// Package engine runs work on background workers: one queue per device string (CPU, CPU:1, GPU,
// ...), each served by a fixed number of worker goroutines that sleep until work arrives. A job
// that waited in its queue longer than its timeout is not run. The engine knows nothing of Redis:
// the module blocks the client, submits a job whose callbacks unblock it, and writes results back
// on Redis' main thread.
package engine

import (
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// Batch, when set, lets a worker run the job together with others of the same batch group
	// (see batch.go).
	Batch *Batch
	// Abandoned, when set and true, says nobody waits for the job any more (its client has gone):
	// it is run at once (its Run ends it at once) rather than held for a batch, and leaves a batch
	// that waits for more, when a worker looks (Queue.Nudge). Held, such jobs piled up for ever in a
	// batch without MINBATCHTIMEOUT, with their inputs and models.
	Abandoned *atomic.Bool

	queued time.Time
}

func (j *Job) abandoned() bool { return j.Abandoned != nil && j.Abandoned.Load() }

// Queued is when Submit queued the job.
func (j *Job) Queued() time.Time { return j.queued }

// MarkQueued records now as the time the job was queued, for one run without a queue: it then
// reports no wait.
func (j *Job) MarkQueued() { j.queued = time.Now() }

// expired reports whether the job has waited longer than its timeout.
func (j *Job) expired() bool { return j.expiredAt(time.Now()) }

func (j *Job) expiredAt(now time.Time) bool { return j.Timeout > 0 && now.Sub(j.queued) > j.Timeout }

// Engine holds the queues.
type Engine struct {
	threadsPerQueue int
	logPanic        func(p any, stack []byte)
	// OnQueueLimit, when set, is told the first device whose queue would have taken the workers
	// past MaxWorkers, and so runs on the CPU queue.
	OnQueueLimit func(device string)

	mu     sync.Mutex
	queues map[string]*Queue
	// limitReached: OnQueueLimit has been told.
	limitReached bool
	// backgroundSlots holds a token for each background task running (see backgroundLimit).
	backgroundSlots chan struct{}
	// busy counts the jobs being run and the background tasks under way, for Stop.
	busy busy
}

// New makes an engine whose queues each have threadsPerQueue workers. A panic that escapes a job is
// given to logPanic (when not nil) with its stack, and the worker goes on.
func New(threadsPerQueue int, logPanic func(p any, stack []byte)) *Engine {
	if threadsPerQueue < 1 {
		threadsPerQueue = 1
	}
	e := &Engine{threadsPerQueue: threadsPerQueue, logPanic: logPanic, queues: map[string]*Queue{},
		backgroundSlots: make(chan struct{}, backgroundLimit())}
	e.Queue(cpuQueue)
	return e
}

// QueueName is the queue a device string runs on: device strings are case-insensitive.
func QueueName(device string) string { return strings.ToUpper(device) }

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

// MaxWorkers bounds the workers of all the queues together. Each holds an OS thread (Queue.work),
// and Go ends the process past 10,000 threads (runtime/debug.SetMaxThreads): a client that stored
// a model on each of thousands of devices (CPU:1, CPU:2, ...: each its own queue, as in RedisAI),
// or on a few with THREADS_PER_QUEUE 1024, made Go abort Redis. The devices past the bound run on
// the CPU queue.
const MaxWorkers = 4096

// cpuQueue is the queue made with the engine, which devices past MaxWorkers share.
const cpuQueue = "CPU"

// Queue is the device's queue, created on first use (the CPU queue, past MaxWorkers); its workers
// start with its first job.
func (e *Engine) Queue(device string) *Queue {
	name := QueueName(device)
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queues[name]
	if q == nil {
		if name != cpuQueue && (len(e.queues)+1)*e.threadsPerQueue > MaxWorkers {
			if !e.limitReached && e.OnQueueLimit != nil {
				e.OnQueueLimit(device)
			}
			e.limitReached = true
			return e.queues[cpuQueue]
		}
		q = &Queue{workers: make([]worker, e.threadsPerQueue), busy: &e.busy, logPanic: e.logPanic}
		e.queues[name] = q
	}
	return q
}

// backgroundLimit bounds the background tasks run at once (model builds): at least 2, so that a long
// build leaves room for another, and otherwise one per P. A build is CPU work in C, so more than the
// CPUs only share them, and while their threads were descheduled holding Go's Ps, Redis' main thread,
// which needs a P for each command, waited for one behind them: 3,000 clients storing mnist at once
// on 2 CPUs, 64 at a time, held PING up to 4.3 s (0.23 s with 2 at a time, in the same 5 s). Each
// also holds an OS thread (Go ends the process past 10,000 threads); the others wait their turn
// holding none.
func backgroundLimit() int { return max(2, runtime.GOMAXPROCS(0)) }

// Background runs f on a goroutine of its own once fewer than backgroundLimit others run, counted as
// work under way for Stop from now.
func (e *Engine) Background(f func()) {
	e.Go(func() {
		e.backgroundSlots <- struct{}{}
		defer func() { <-e.backgroundSlots }()
		f()
	})
}

// Go runs f on a goroutine of its own at once, counted as work under way for Stop from now: for tasks
// few by nature (the preload's, one a backend) that must not wait behind builds for a slot.
func (e *Engine) Go(f func()) {
	e.busy.Add(1)
	go func() {
		defer e.busy.Done()
		f()
	}()
}

// Stop is for the process' exit, which tears down the backends' libraries: no queued job is
// started any more, nor a batch waiting for MINBATCHSIZE, and Stop waits up to timeout for the jobs
// being run and the background tasks to finish, but for those waiting on Stop's own thread (see
// WaitOnStopper), which stay where they are. It reports whether the others all finished.
func (e *Engine) Stop(timeout time.Duration) bool {
	e.mu.Lock()
	for _, q := range e.queues {
		q.mu.Lock()
		q.stopped = true
		gathering := slices.Clone(q.gathering)
		q.mu.Unlock()
		// A batch waiting for more ends now, not run.
		for _, w := range gathering {
			w.gather.unpark()
		}
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.busy.wg.Wait()
		close(done)
	}()
	expired := time.After(timeout)
	tick := time.NewTicker(stopPoll)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return true
		case <-expired:
			return false
		case <-tick.C:
			if e.busy.allWaiting() {
				return true
			}
		}
	}
}

// stopPoll is how often Stop looks whether the jobs left all wait on its thread.
const stopPoll = 10 * time.Millisecond

// Queue is a FIFO of jobs served by its workers.
type Queue struct {
	mu   sync.Mutex
	jobs []*Job
	// idle are the workers asleep, the most recently active last: Submit wakes that one.
	idle []*worker
	// gathering are the workers holding a batch below its minimum, which each push wakes (see
	// take).
	gathering []*worker
	workers   []worker
	// started: the workers' goroutines run. A queue exists before its first job (the CPU queue from
	// the module's load, as RedisAI's, so INFO lists its workers), but a parked worker holds an OS
	// thread in its futex wait: they start with the first job, not with the queue.
	started bool
	// stopped: the workers take no more jobs (see Engine.Stop).
	stopped  bool
	busy     *busy
	logPanic func(p any, stack []byte)
	// batches and batchedJobs: see BatchCounts.
	batches, batchedJobs atomic.Int64
}

// worker is one of a queue's workers.
type worker struct {
	// tid is the OS thread the worker is locked to, 0 until it has started.
	tid  atomic.Int64
	wake parker
	// gather is the parker of a batch waiting for more jobs (one of its own, so that a push that
	// woke the batch late cannot wake the worker from its idle sleep), and batch that batch while
	// the worker is on the gathering list (guarded by the queue's lock).
	gather parker
	batch  *Batch
	// yield is the worker's pass through the Go scheduler between jobs (see Yielder), also between
	// the jobs it serves while its batch waits.
	yield Yielder
}

// WorkerCPU is the CPU time each of the queue's workers' threads has used.
func (q *Queue) WorkerCPU() []time.Duration {
	cpu := make([]time.Duration, len(q.workers))
	for i := range q.workers {
		if tid := q.workers[i].tid.Load(); tid != 0 {
			cpu[i] = threadCPUTimeOf(int(tid))
		}
	}
	return cpu
}

// Submit queues job, behind those queued before it.
func (q *Queue) Submit(j *Job) { q.submit(j, time.Now(), false) }

// Requeue queues again, ahead of every queued job, a job that was queued at queued, which its timeout
// counts from: a DAG that reached a model op that batches, so that it waits in the queue once and not
// again behind everything queued since (RedisAI puts an unfinished DAG back at the front of its queue).
func (q *Queue) Requeue(j *Job, queued time.Time) { q.submit(j, queued, true) }

func (q *Queue) submit(j *Job, queued time.Time, front bool) {
	j.queued = queued
	q.mu.Lock()
	if !q.started {
		q.started = true
		for i := range q.workers {
			go q.work(&q.workers[i])
		}
	}
	if front {
		q.jobs = slices.Insert(q.jobs, 0, j)
	} else {
		q.jobs = append(q.jobs, j)
	}
	var buf [4]*worker
	gatherers, joins := q.wakeGathering(j, buf[:0])
	var idle *worker
	if !joins {
		idle = q.takeIdle()
	}
	q.unlockAndWake(gatherers, idle)
}

// Nudge wakes the workers whose batches wait for more, and an idle one if jobs are queued, to look
// again at their jobs: one has been abandoned (Job.Abandoned).
func (q *Queue) Nudge() {
	var buf [4]*worker
	var idle *worker
	q.mu.Lock()
	gatherers := append(buf[:0], q.gathering...)
	if len(q.jobs) > 0 {
		idle = q.takeIdle()
	}
	q.unlockAndWake(gatherers, idle)
}

// takeIdle takes the most recently active idle worker off the idle list, to be woken (nil: none is
// idle). Call it under the lock.
func (q *Queue) takeIdle() *worker {
	n := len(q.idle)
	if n == 0 {
		return nil
	}
	w := q.idle[n-1]
	q.idle = q.idle[:n-1]
	return w
}

// unlockAndWake releases the lock, then wakes gatherers from their batches' waits and idle (when
// not nil) from its sleep: a woken worker does not wait for the lock its waker still holds.
func (q *Queue) unlockAndWake(gatherers []*worker, idle *worker) {
	q.mu.Unlock()
	for _, g := range gatherers {
		g.gather.unpark()
	}
	if idle != nil {
		idle.wake.unpark()
	}
}

// Queued is the number of jobs waiting in the queue.
func (q *Queue) Queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}

// Idle reports whether every worker of the queue has started and waits for work, none queued.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.started && len(q.jobs) == 0 && len(q.idle) == len(q.workers)
}

// pop takes the next job for w, sleeping while there is none.
func (q *Queue) pop(w *worker) *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 || q.stopped {
		w.wake.prepare()
		q.idle = append(q.idle, w)
		q.mu.Unlock()
		w.wake.park()
		q.mu.Lock()
	}
	j := q.jobs[0]
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	q.busy.Add(1)
	return j
}

// work serves the queue, on a thread of its own for its whole life, so that its CPU time is its
// thread's (as RedisAI's workers are threads). It sleeps on its own futex (see parker), which wakes
// that thread directly, and passes through the Go scheduler now and then (see Yielder). The
// backends keep no per-thread state between calls.
func (q *Queue) work(w *worker) {
	runtime.LockOSThread()
	w.tid.Store(int64(syscall.Gettid()))
	for {
		j := q.pop(w)
		w.yield.Yield()
		q.do(w, j)
		q.busy.Done()
	}
}

// do runs one job. A panic that escapes it is logged here, so that it cannot end the process (the
// jobs' own callbacks are expected to recover and report their failures).
func (q *Queue) do(w *worker, j *Job) {
	defer func() {
		if p := recover(); p != nil && q.logPanic != nil {
			q.logPanic(p, debug.Stack())
		}
	}()
	if j.expired() {
		j.TimedOut()
		return
	}
	if j.Batch != nil && !j.abandoned() {
		q.runBatch(w, j)
		return
	}
	j.Run()
}
