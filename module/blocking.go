package main

/*
#include "module.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"

	"gorai/commands"
	"gorai/exec"
)

// blockedWork is what a blocked client waits for: a run (Execute) or a build (Offload).
type blockedWork interface {
	// reply writes the results and replies, on the main thread, when the client is still there.
	reply(call *redisCall) error
	// free drops the work's references, whether or not its reply was sent.
	free()
}

// blocked is what the reply and free callbacks get: the work and its client.
type blocked struct {
	work blockedWork
	bc   *C.RedisModuleBlockedClient
}

// cancels holds, by blocked client, the run to tell that its client has gone (a build is not
// told), for the disconnect callback. Main thread only.
var cancels = map[*C.RedisModuleBlockedClient]*exec.Run{}

// cannotBlock are the contexts in which Redis cannot block the client: MULTI, scripts, and whatever
// else denies blocking.
const cannotBlock = inTransaction | C.REDISMODULE_CTX_FLAGS_DENY_BLOCKING

// inTransaction are the contexts in which RedisAI refuses every run, before parsing it.
const inTransaction = C.REDISMODULE_CTX_FLAGS_LUA | C.REDISMODULE_CTX_FLAGS_MULTI

var errInTransaction = errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")

// block blocks the client until w is done, and returns the handle that its reply and free
// callbacks get. Inside MULTI or a script it refuses.
func (c *redisCall) block(w blockedWork) (*C.RedisModuleBlockedClient, cgo.Handle, error) {
	if C.gorai_context_flags(c.ctx)&cannotBlock != 0 {
		return nil, 0, errInTransaction
	}
	bc := C.gorai_block(c.ctx)
	return bc, cgo.NewHandle(&blocked{w, bc}), nil
}

// unblock hands w's handle back to Redis, which calls the reply (main thread) and free callbacks.
func unblock(bc *C.RedisModuleBlockedClient, h cgo.Handle) { C.gorai_unblock(bc, C.uintptr_t(h)) }

// goraiJobReply runs on the main thread once a run or build is done: it writes the results and
// replies, through an effects program written into the programCap bytes at program, whose length it
// returns for C to apply (0: nothing left to apply). It is not called when the client has gone.
//
//export goraiJobReply
func goraiJobReply(ctx *C.RedisModuleCtx, h C.uintptr_t, program *C.uchar, programCap C.size_t) (programLen C.size_t) {
	defer recoverEntry(ctx, "replying to a run", nil)
	w := cgo.Handle(h).Value().(*blocked).work
	call := callPool.Get().(*redisCall)
	call.ctx = ctx
	call.lendProgram(program, programCap)
	defer func() {
		call.reset()
		callPool.Put(call)
	}()
	call.run(func(commands.Env, [][]byte) error { return w.reply(call) })
	return call.finish()
}

// goraiJobFree drops a run's or build's references, whether or not its reply was sent.
//
//export goraiJobFree
func goraiJobFree(h C.uintptr_t) {
	defer recoverEntry(nil, "freeing a run", nil)
	handle := cgo.Handle(h)
	b := handle.Value().(*blocked)
	handle.Delete()
	delete(cancels, b.bc)
	b.work.free()
}

// goraiJobDisconnected tells the run of a client that has gone, so that a worker skips it.
//
//export goraiJobDisconnected
func goraiJobDisconnected(bc *C.RedisModuleBlockedClient) {
	defer recoverEntry(nil, "after a disconnection", nil)
	if run := cancels[bc]; run != nil {
		run.Cancel()
	}
}
