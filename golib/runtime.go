package main

/*
#include "module.h"
*/
import "C"

import (
	"context"
	"time"
	"unsafe"

	"gorai/commands"
	"gorai/exec"
	"gorai/server"
	"gorai/stats"
)

// ai is the module's state beyond the keyspace, set up at load; commands reach it through
// commands.Runtime, Redis' callbacks directly.
var ai *server.Server

// The commands.Runtime of a call.

func (c *redisCall) LoadBackend(name, path string) error { return ai.LoadBackend(name, path) }
func (c *redisCall) Stats() *stats.Table                 { return ai.Stats }
func (c *redisCall) Config() *commands.Config            { return &ai.Config }

func (c *redisCall) CanExecute() error {
	if C.gorai_context_flags(c.ctx)&inTransaction != 0 {
		return errInTransaction
	}
	return nil
}

// Execute blocks the client and submits the plan; the reply callback answers when it is over. A
// short model run on an idle server is run here instead (runInPlace).
func (c *redisCall) Execute(plan *exec.Plan) error {
	if c.runsInPlace(plan) {
		c.runInPlace(plan)
		return nil
	}
	w := &running{}
	bc, err := c.block(w)
	if err != nil {
		return err
	}
	if plan.RunsScript() {
		w.calls = &scriptCalls{}
		plan.Caller = c.callerContext(w.calls)
	}
	w.run = ai.Exec.Submit(plan, func() { unblock(bc) })
	return nil
}

// running is a run whose client is blocked; calls, for a run of a script, records its calls into Redis.
type running struct {
	run   *exec.Run
	calls *scriptCalls
}

func (w *running) reply(call *redisCall) error {
	call.scriptCalled = w.calls != nil && w.calls.made
	return commands.ReplyRun(call.env(), w.run)
}

func (w *running) free() { w.run.Release() }

func (w *running) clientGone() {
	w.run.Cancel()
	if w.calls != nil {
		w.calls.clientGone = true
	}
}

// fromRedis are the contexts in which Redis itself hands over what is built: applying the master's
// stream on a replica, and loading the AOF (the builder trusts those blobs).
const fromRedis = C.REDISMODULE_CTX_FLAGS_REPLICATED | C.REDISMODULE_CTX_FLAGS_LOADING

// cannotWait are the contexts in which a client is not blocked for a build: where it cannot be
// blocked at all, and fromRedis.
const cannotWait = cannotBlock | fromRedis

// Offload builds on a goroutine of its own (an engine background task, so that the exit waits for
// it) while the client is blocked, and commits in the reply callback; where the client cannot
// wait, it builds and commits now (see commands.Runtime).
func (c *redisCall) Offload(env commands.Env, build func(commands.Builder) commands.Built) error {
	flags := C.gorai_context_flags(c.ctx)
	trusted := flags&fromRedis != 0
	if flags&cannotWait != 0 {
		return build(ai.Builder(context.Background(), trusted)).Commit(env)
	}
	wanted, abandon := context.WithCancel(context.Background())
	b := ai.Builder(wanted, trusted)
	w := &offloaded{abandon: abandon}
	bc, err := c.block(w)
	if err != nil {
		abandon()
		return err
	}
	ai.Engine.Background(func() {
		defer unblock(bc)
		defer recoverEntry(nil, "building a model or script", func() {
			w.built = commands.Built{Commit: func(commands.Env) error { return exec.ErrInternal }, Drop: func() {}}
		})
		w.built = build(b)
	})
	return nil
}

// offloaded is a build whose client is blocked: the build is written on its goroutine before the
// unblock, and read on the main thread after it.
type offloaded struct {
	built     commands.Built
	committed bool
	abandon   context.CancelFunc // tells the build that its client has gone
}

func (w *offloaded) reply(call *redisCall) error {
	w.committed = true
	return w.built.Commit(call.env())
}

// free drops a build that was not committed: its client has gone.
func (w *offloaded) free() {
	w.abandon()
	if !w.committed {
		w.built.Drop()
	}
}

// clientGone: a build whose trial has not begun is skipped; one begun goes on, and is dropped.
func (w *offloaded) clientGone() { w.abandon() }

// cBlob is a model's blob in Redis' memory (a commands.Blob); the stored model adopts it.
type cBlob struct {
	p *C.char
	n int
}

func (b *cBlob) Bytes() []byte { return unsafe.Slice((*byte)(unsafe.Pointer(b.p)), b.n) }
func (b *cBlob) Free()         { C.gorai_free_bytes(b.p) }

// JoinBlob copies the chunks of a model's blob into one buffer from Redis' allocator.
func (c *redisCall) JoinBlob(chunks [][]byte) commands.Blob {
	n := 0
	for _, ch := range chunks {
		n += len(ch)
	}
	b := &cBlob{C.gorai_alloc_bytes(C.size_t(n)), n}
	dst := b.Bytes()
	for _, ch := range chunks {
		dst = dst[copy(dst, ch):]
	}
	return b
}

// inPlaceEnded is when the last run made in place ended (main thread only).
var inPlaceEnded time.Time

// inPlaceGap is how long Redis' main thread must have been free of runs made in place before it
// makes another: commands that waited behind the last one (other clients') come sooner than that, a
// lone client's next command later (its reply's round trip). So a loaded server hands its runs to
// the workers, and an idle one does not stay busy with them.
const inPlaceGap = 5 * time.Microsecond

// runsInPlace reports whether the plan is run on Redis' main thread: no other client waits for a run
// or build, no such run has just ended, the executor says it is short and its queue idle
// (exec.RunsInPlace), and the client could wait (not in MULTI or a script, whose refusal stays that
// of a blocked run). The call into C for the last is made only when the others hold.
func (c *redisCall) runsInPlace(plan *exec.Plan) bool {
	return len(blockedClients) == 0 && time.Since(inPlaceEnded) >= inPlaceGap && ai.Exec.RunsInPlace(plan) &&
		C.gorai_context_flags(c.ctx)&cannotBlock == 0
}

// runInPlace runs the plan on this thread and replies as the reply callback of a blocked run would.
func (c *redisCall) runInPlace(plan *exec.Plan) {
	r := ai.Exec.RunHere(plan)
	defer r.Release()
	if err := commands.ReplyRun(c.env(), r); err != nil {
		c.effects.Fail(err.Error())
	}
	inPlaceEnded = time.Now()
}
