package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"errors"
	"runtime/debug"
	"sync"
	"unsafe"

	"gorai/commands"
	"gorai/engine"
	"gorai/exec"
)

// goraiCommand runs command slot with argv, whose bytes C has gathered into ptrs and lens. Its
// effects program is written into the programCap bytes at program: it returns the length for C to
// apply, or 0 when there is nothing left to apply.
//
//export goraiCommand
func goraiCommand(ctx *C.RedisModuleCtx, argv **C.RedisModuleString, ptrs **C.char, lens *C.size_t, argc C.int, slot C.int,
	program *C.uchar, programCap C.size_t) (programLen C.size_t) {
	defer recoverEntry(ctx, "dispatching a command", nil)
	mainThread.Yield()
	n := int(argc)
	call := callPool.Get().(*redisCall)
	call.ctx, call.argv = ctx, unsafe.Slice(argv, n)
	call.lendProgram(program, programCap)
	for i, p := range unsafe.Slice(ptrs, n) {
		call.args = append(call.args, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(unsafe.Slice(lens, n)[i])))
	}
	if cmd := &commands.Commands[slot]; cmd.Keys != nil && C.gorai_is_keys_request(ctx) != 0 {
		for _, k := range cmd.Keys(call.args) {
			if k.Pos > 0 && k.Pos < n { // Redis trusts the positions it is given
				C.gorai_key_at_pos(ctx, C.int(k.Pos), C.gorai_key_flags(C.int(k.Use)))
			}
		}
	} else {
		call.run(cmd.Run)
		programLen = call.finish()
	}
	call.reset()
	callPool.Put(call)
	return programLen
}

// mainThread keeps Redis' main thread's trips through the Go scheduler frequent (see engine.Yielder).
// Commands run under Redis' lock (on the main thread, or on a thread that holds the lock), one at
// a time.
var mainThread engine.Yielder

// callPool keeps command calls, with their argument and reply buffers, from one command to the next:
// the hot path allocates nothing.
var callPool = sync.Pool{New: func() any { return new(redisCall) }}

// run calls the handler and leaves its effects, or its error, or an error for a panic, for finish.
func (c *redisCall) run(h commands.Handler) {
	defer func() {
		if p := recover(); p != nil {
			logf(c.ctx, "warning", "gorai: panic in %q: %v\n%s", c.name(), p, debug.Stack())
			c.effects.Fail(exec.ErrInternal.Error())
		}
	}()
	err := h(c.env(), c.args)
	switch {
	case errors.Is(err, commands.ErrWrongArity):
		c.effects.FailArity()
	case err != nil:
		c.effects.Fail(err.Error())
	}
}

// env is what a handler works with: c's keyspace, reply and runtime.
func (c *redisCall) env() commands.Env { return commands.Env{Keys: c, Out: &c.effects, Runtime: c} }

// name is the command's name, for the log.
func (c *redisCall) name() string {
	if len(c.args) == 0 {
		return "a blocked command's reply"
	}
	return string(c.args[0])
}
