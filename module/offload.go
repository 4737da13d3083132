package main

/*
#include "module.h"
*/
import "C"

import (
	"gorai/commands"
	"gorai/exec"
)

// cannotWait are the contexts in which a client is not blocked for a build: where it cannot be
// blocked at all, while applying the master's stream on a replica, and while loading the AOF.
const cannotWait = cannotBlock | C.REDISMODULE_CTX_FLAGS_REPLICATED | C.REDISMODULE_CTX_FLAGS_LOADING

// Offload builds on a goroutine of its own (an engine background task, so that the exit waits for
// it) while the client is blocked, and commits in the reply callback; where the client cannot
// wait, it builds and commits now (see commands.Runtime).
func (c *redisCall) Offload(env commands.Env, build func(commands.Builder) commands.Built) error {
	b := ai.Builder()
	if C.gorai_context_flags(c.ctx)&cannotWait != 0 {
		return build(b).Commit(env)
	}
	w := &offloaded{}
	bc, h, err := c.block(w)
	if err != nil {
		return err
	}
	ai.Engine.Background(func() {
		defer unblock(bc, h)
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
}

func (w *offloaded) reply(call *redisCall) error {
	w.committed = true
	return w.built.Commit(call.env())
}

// free drops a build that was not committed: its client has gone.
func (w *offloaded) free() {
	if !w.committed {
		w.built.Drop()
	}
}
