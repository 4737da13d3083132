package main

/*
#include "module.h"
*/
import "C"

import (
	"errors"

	"gorai/commands"
)

// blockedWork is what a blocked client waits for: a run (Execute) or a build (Offload).
type blockedWork interface {
	// reply writes the results and replies, on the main thread, when the client is still there.
	reply(call *redisCall) error
	// free drops the work's references, whether or not its reply was sent.
	free()
	// clientGone tells the work that its client has disconnected (a run skips what it has not
	// started; a build goes on).
	clientGone()
}

// blockedClients holds what each blocked client waits for. Its key, Redis' handle of the blocked
// client, is also the private data its reply and free callbacks get. Main thread only.
var blockedClients = map[*C.RedisModuleBlockedClient]blockedWork{}

// cannotBlock are the contexts in which Redis cannot block the client: MULTI, scripts, and whatever
// else denies blocking.
const cannotBlock = inTransaction | C.REDISMODULE_CTX_FLAGS_DENY_BLOCKING

// inTransaction are the contexts in which RedisAI refuses every run, before parsing it.
const inTransaction = C.REDISMODULE_CTX_FLAGS_LUA | C.REDISMODULE_CTX_FLAGS_MULTI

var errInTransaction = errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")

// block blocks the client until w is done, and returns Redis' handle of it, which unblock takes.
// Inside MULTI or a script it refuses.
func (c *redisCall) block(w blockedWork) (*C.RedisModuleBlockedClient, error) {
	if C.gorai_context_flags(c.ctx)&cannotBlock != 0 {
		return nil, errInTransaction
	}
	bc := C.gorai_block(c.ctx)
	blockedClients[bc] = w
	return bc, nil
}

// unblock tells Redis that the work of bc is done: it calls the reply (main thread) and free
// callbacks. Any thread.
func unblock(bc *C.RedisModuleBlockedClient) { C.gorai_unblock(bc) }

// goraiJobReply runs on the main thread once a run or build is done: it writes the results and
// replies, through an effects program written into the programCap bytes at program, whose length it
// returns for C to apply (0: nothing left to apply); then it frees the work, which is its last use
// (the program holds its own references to what it writes and replies, and module.c skips the free
// callback Redis makes next: one crossing into Go fewer per run). It is not called when the client
// has gone.
//
//export goraiJobReply
func goraiJobReply(ctx *C.RedisModuleCtx, bc *C.RedisModuleBlockedClient, program *C.uchar, programCap C.size_t) (programLen C.size_t) {
	defer recoverEntry(ctx, "replying to a run", nil)
	defer freeJob(bc)
	w := blockedClients[bc]
	call := callPool.Get().(*redisCall)
	call.ctx = ctx
	call.lendProgram(program, programCap)
	defer func() {
		call.reset()
		callPool.Put(call)
	}()
	call.run(func(commands.Env, [][]byte) error {
		if err := w.reply(call); err != nil {
			return err
		}
		return call.mayWriteNow()
	})
	return call.finish()
}

// goraiJobFree frees a run or build whose reply was not sent (its client has gone).
//
//export goraiJobFree
func goraiJobFree(bc *C.RedisModuleBlockedClient) {
	defer recoverEntry(nil, "freeing a run", nil)
	freeJob(bc)
}

// freeJob drops the references of the work of bc.
func freeJob(bc *C.RedisModuleBlockedClient) {
	w := blockedClients[bc]
	delete(blockedClients, bc)
	w.free()
}

// goraiJobDisconnected tells the work of a client that has gone.
//
//export goraiJobDisconnected
func goraiJobDisconnected(bc *C.RedisModuleBlockedClient) {
	defer recoverEntry(nil, "after a disconnection", nil)
	if w := blockedClients[bc]; w != nil {
		w.clientGone()
	}
}
