package engine

import (
	"runtime"
	"time"
)

// yieldEvery is how often a Yielder passes through the Go scheduler: under half the 10 ms after
// which Go's sysmon thread treats a P as stuck.
const yieldEvery = 4 * time.Millisecond

// Yielder lets a goroutine that never waits in the Go scheduler pass through it now and then. Go's
// sysmon thread counts a P's trips through the scheduler; a P that has made none for 10 ms is
// taken from its thread whenever that thread is in a system call or in C, and its goroutine is
// signalled to stop. An engine worker (it sleeps on a futex of its own, not in the scheduler, and
// runs jobs back to back under load) and Redis' main thread (which calls into Go from C) never
// make that trip, so under load sysmon took their Ps on every 20 µs tick and the threads had to
// find Ps again: 4 to 5 context switches per mnist run with 50 clients, against 1 to 2 with the
// yield (perf stat -e sched:sched_switch on the server).
//
// Reading the clock was 5% of Redis' main thread's time under pipelined AI.TENSORGET (perf), so a
// Yielder reads only the monotonic clock (time.Now reads the wall clock too), and only every
// clockEvery calls: under load that is microseconds apart, and without load a late pass costs nothing.
type Yielder struct {
	calls uint32
	last  time.Duration // since clockBase
}

const clockEvery = 8

// clockBase makes time.Since a read of the monotonic clock alone.
var clockBase = time.Now()

// Yield passes through the scheduler if the last pass was more than yieldEvery ago.
func (y *Yielder) Yield() {
	if y.calls++; y.calls%clockEvery != 0 {
		return
	}
	if now := time.Since(clockBase); now-y.last > yieldEvery {
		y.last = now
		runtime.Gosched()
	}
}
