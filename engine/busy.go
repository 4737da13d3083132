package engine

import (
	"sync"
	"sync/atomic"
)

// busy counts the jobs being run and the background tasks under way, for Stop, and how many of them
// wait on the thread that stops the engine (see WaitOnStopper).
type busy struct {
	wg      sync.WaitGroup
	n       atomic.Int64
	waiting atomic.Int64
}

func (b *busy) Add(n int) {
	b.n.Add(int64(n))
	b.wg.Add(n)
}

func (b *busy) Done() {
	b.n.Add(-1)
	b.wg.Done()
}

// allWaiting reports whether every job under way waits on the stopping thread. While Stop runs a job
// can start waiting or end, but not stop waiting (the stopping thread holds what it waits for), so
// reading waiting before n sees both at one instant.
func (b *busy) allWaiting() bool {
	w := b.waiting.Load()
	return w > 0 && w == b.n.Load()
}

// WaitOnStopper runs wait, a job's wait for something that the thread calling Stop holds until the
// process exits (Redis' lock, which its main thread holds through the exit): Stop does not wait for a
// job while it waits so, since it could not go on.
func (e *Engine) WaitOnStopper(wait func()) {
	e.busy.waiting.Add(1)
	defer e.busy.waiting.Add(-1)
	wait()
}
