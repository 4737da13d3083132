package engine

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestJobsRunOnTheirQueues(t *testing.T) {
	e := New(2, nil)
	var wg sync.WaitGroup
	var ran atomic.Int64
	for i := 0; i < 100; i++ {
		wg.Add(1)
		dev := "CPU"
		if i%2 == 1 {
			dev = "cpu:1"
		}
		e.Queue(dev).Submit(&Job{Run: func() { ran.Add(1); wg.Done() }, TimedOut: func() { t.Error("timed out"); wg.Done() }})
	}
	wg.Wait()
	if ran.Load() != 100 {
		t.Fatalf("ran %d jobs", ran.Load())
	}
	if q := e.Queues(); len(q) != 2 {
		t.Fatalf("queues %v, want CPU and CPU:1", q)
	}
}

// A job that waits behind a slow one for longer than its timeout is given up, not run.
func TestTimeoutWhileQueued(t *testing.T) {
	e := New(1, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	e.Queue("CPU").Submit(&Job{Run: func() { close(started); <-release }})
	<-started
	result := make(chan string, 2)
	e.Queue("CPU").Submit(&Job{Timeout: 10 * time.Millisecond, Run: func() { result <- "ran" }, TimedOut: func() { result <- "timedout" }})
	e.Queue("CPU").Submit(&Job{Timeout: time.Hour, Run: func() { result <- "ran" }, TimedOut: func() { result <- "timedout" }})
	time.Sleep(30 * time.Millisecond)
	close(release)
	if a, b := <-result, <-result; a != "timedout" || b != "ran" {
		t.Fatalf("got %s, %s", a, b)
	}
}

// A job queued again goes ahead of the jobs queued before it, and its timeout counts from when it was
// first queued.
func TestRequeueGoesFirst(t *testing.T) {
	e := New(1, nil)
	q := e.Queue("CPU")
	release := make(chan struct{})
	started := make(chan struct{})
	q.Submit(&Job{Run: func() { close(started); <-release }})
	<-started
	order := make(chan string, 4)
	job := func(name string) *Job {
		return &Job{Timeout: time.Hour, Run: func() { order <- name }, TimedOut: func() { order <- name + " timed out" }}
	}
	q.Submit(job("first"))
	q.Submit(job("second"))
	q.Requeue(job("again"), time.Now())
	q.Requeue(job("expired"), time.Now().Add(-2*time.Hour))
	close(release)
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	if want := "expired timed out, again, first, second"; strings.Join(got, ", ") != want {
		t.Fatalf("ran %q, want %s", got, want)
	}
}

// A job that panics does not stop its queue's worker, and the panic is logged with its stack.
func TestPanickingJob(t *testing.T) {
	logged := make(chan string, 1)
	e := New(1, func(p any, stack []byte) { logged <- fmt.Sprintf("%v %s", p, stack) })
	done := make(chan bool)
	e.Queue("CPU").Submit(&Job{Run: func() { panic("boom") }})
	e.Queue("CPU").Submit(&Job{Run: func() { done <- true }})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker stopped after a panicking job")
	}
	if got := <-logged; !strings.HasPrefix(got, "boom ") || !strings.Contains(got, "TestPanickingJob") {
		t.Fatalf("logged %q", got)
	}
}

// The CPU time a job uses is counted to the worker that ran it.
func TestWorkerCPU(t *testing.T) {
	e := New(2, nil)
	q := e.Queue("CPU")
	done := make(chan struct{})
	q.Submit(&Job{Run: func() {
		// Spin until this thread has used 20 ms of CPU (wall time depends on the machine's load).
		tid := syscall.Gettid() // workers are locked to their thread
		for start := threadCPUTimeOf(tid); threadCPUTimeOf(tid)-start < 20*time.Millisecond; {
		}
		close(done)
	}})
	<-done
	// The worker adds the job's time after Run returns.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cpu := q.WorkerCPU()
		if len(cpu) != 2 {
			t.Fatalf("%d workers, want 2", len(cpu))
		}
		if cpu[0]+cpu[1] >= 20*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers' CPU %v after a job that used 20 ms", cpu)
		}
		time.Sleep(time.Millisecond)
	}
}

// Workers sleep between jobs and are woken for each: submitted one at a time from several
// goroutines, each waiting for its job before the next, every job runs (no wake-up is lost).
func TestNoLostWakeups(t *testing.T) {
	q := New(2, nil).Queue("CPU")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				done := make(chan struct{})
				q.Submit(&Job{Run: func() { close(done) }})
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Errorf("job %d was never run", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Stop waits for the job being run and for background tasks, and starts no queued job.
func TestStop(t *testing.T) {
	e := New(1, nil)
	q := e.Queue("CPU")
	release, started := make(chan struct{}), make(chan struct{})
	q.Submit(&Job{Run: func() { close(started); <-release }})
	<-started
	var queuedRan atomic.Bool
	q.Submit(&Job{Run: func() { queuedRan.Store(true) }})
	backgroundDone := make(chan struct{})
	e.Background(func() { <-backgroundDone })

	if e.Stop(50 * time.Millisecond) {
		t.Fatal("Stop reported done while a job and a background task were under way")
	}
	close(release)
	if e.Stop(50 * time.Millisecond) {
		t.Fatal("Stop reported done while a background task was under way")
	}
	close(backgroundDone)
	if !e.Stop(5 * time.Second) {
		t.Fatal("Stop timed out with nothing under way")
	}
	time.Sleep(20 * time.Millisecond)
	if queuedRan.Load() {
		t.Fatal("a job queued before Stop ran after it")
	}
}

// Stop does not wait for a job that waits on Stop's own thread (WaitOnStopper), but does for one that
// runs beside it.
func TestStopLeavesJobsWaitingOnIt(t *testing.T) {
	e := New(2, nil)
	q := e.Queue("CPU")
	held, release := make(chan struct{}), make(chan struct{})
	waiting, running := make(chan struct{}), make(chan struct{})
	q.Submit(&Job{Run: func() { e.WaitOnStopper(func() { close(waiting); <-held }) }})
	q.Submit(&Job{Run: func() { close(running); <-release }})
	<-waiting
	<-running
	if e.Stop(100 * time.Millisecond) {
		t.Fatal("Stop reported done while a job that does not wait on it was under way")
	}
	close(release)
	if !e.Stop(5 * time.Second) {
		t.Fatal("Stop timed out with only a job waiting on its thread under way")
	}
	close(held)
}

// A queue starts its workers with its first job, not when it is made: the module makes the CPU queue
// at load, and a parked worker holds an OS thread.
func TestWorkersStartWithTheFirstJob(t *testing.T) {
	before := workerGoroutines()
	e := New(3, nil)
	q := e.Queue("CPU")
	if n := workerGoroutines() - before; n != 0 {
		t.Fatalf("%d worker goroutines before any job", n)
	}
	if got := len(q.WorkerCPU()); got != 3 {
		t.Fatalf("WorkerCPU lists %d workers before any job, want 3", got)
	}
	q.Submit(&Job{Run: func() {}})
	if n := workerGoroutines() - before; n != 3 {
		t.Fatalf("%d worker goroutines after the first job, want 3", n)
	}
}

// workerGoroutines counts the goroutines, started or not yet, that a queue made for its workers, in
// every engine of the process: those created where workers are started (now submit; Queue before).
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			dump := string(buf[:n])
			return strings.Count(dump, "created by gorai/engine.(*Queue).submit") +
				strings.Count(dump, "created by gorai/engine.(*Engine).Queue")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Past MaxWorkers, a new device's queue is the CPU queue: each worker holds an OS thread, and Go ends
// the process past 10,000 (thousands of devices, or a few at THREADS_PER_QUEUE 1024, aborted Redis).
func TestQueuesPastMaxWorkers(t *testing.T) {
	e := New(MaxWorkers/4, nil)
	var told []string
	e.OnQueueLimit = func(device string) { told = append(told, device) }
	own := map[*Queue]bool{e.Queue("CPU"): true}
	for _, d := range []string{"CPU:1", "GPU", "gpu:0"} {
		own[e.Queue(d)] = true
	}
	if len(own) != 4 || len(told) != 0 {
		t.Fatalf("4 queues of MaxWorkers/4: %d distinct, the limit told %q", len(own), told)
	}
	for _, d := range []string{"CPU:2", "CPU:3"} {
		if e.Queue(d) != e.Queue("CPU") {
			t.Errorf("%s, past MaxWorkers, is not the CPU queue", d)
		}
	}
	if len(e.Queues()) != 4 || !slices.Equal(told, []string{"CPU:2"}) {
		t.Errorf("queues %q, the limit told %q: want 4 queues, told once of CPU:2", e.Queues(), told)
	}
	if e.Queue("gpu:0") != e.Queue("GPU:0") || e.Queue("GPU:0") == e.Queue("CPU") {
		t.Errorf("a device's own queue changed once the limit was reached")
	}
}

// At most backgroundLimit background tasks run at once, one per P (builds are CPU work: more would
// keep Redis' main thread waiting for a P), and at least 2; the others run as slots free.
func TestBackgroundBounded(t *testing.T) {
	limit := max(2, runtime.GOMAXPROCS(0))
	e := New(1, nil)
	var running, most atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 * limit {
		wg.Add(1)
		e.Background(func() {
			defer wg.Done()
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			running.Add(-1)
		})
	}
	for deadline := time.Now().Add(10 * time.Second); running.Load() < int64(limit) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a task past the bound would have started by now
	close(release)
	wg.Wait()
	if most.Load() != int64(limit) {
		t.Errorf("%d tasks ran at once, want %d", most.Load(), limit)
	}
}

// Go's tasks start at once, whatever Background's slots hold: the preload of a backend is not held up
// behind builds.
func TestGoTakesNoSlot(t *testing.T) {
	e := New(1, nil)
	release := make(chan struct{})
	defer close(release)
	for range backgroundLimit() + 1 {
		e.Background(func() { <-release })
	}
	ran := make(chan struct{})
	e.Go(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("a Go task waited for Background's slots")
	}
}
