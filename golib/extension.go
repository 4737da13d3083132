package main

/*
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "module.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"gorai/backends"
	"gorai/commands"
	"gorai/tensor"
)

// The Redis torch extension: what scripts' redis.execute and redisAI.model_execute do. Both run on
// the script's worker, so they take Redis' lock (a thread-safe context) for the time they touch
// Redis, as RedisAI does. Unlike RedisAI's, whose context is db 0's, they run in the database the
// script's client had selected, and as the user who ran the script (acl.go).
// The module is the backends' Host (backends.SetHost): the TORCH driver hands it to its scripts.
func init() { backends.SetHost(redisHost{}) }

type redisHost struct{}

// Execute runs a command for redis.execute. It is propagated to replicas and the AOF. It runs in
// Redis' script mode, as Lua's calls do: commands scripts may not call (WAIT, SYNC and PSYNC block
// the call's client, and Redis aborts; SHUTDOWN), writes on a read-only replica (a read-only
// DAG's AI.SCRIPTRUN runs there) and deny-oom commands beyond maxmemory are refused. An error reply,
// a refusal of ACL, or Redis refusing the call, is returned as an error (the backend adds RedisAI's
// "Redis command returned an error: ").
func (redisHost) Execute(run context.Context, cmd string, args []string) (any, error) {
	who, err := callerOf(run)
	if err != nil {
		return nil, err
	}
	argv := append([]string{cmd}, args...)
	lock := lockRedis(who.db)
	defer lock.unlock()
	ctx := lock.ctx
	if err := who.startCall(); err != nil {
		return nil, err
	}
	cargv, free := redisArgv(ctx, argv)
	defer free()
	if err := who.mayRun(ctx, cargv, argv); err != nil {
		return nil, err
	}
	outer := nestedCaller
	nestedCaller = &who
	// Writes wait for no pause here: Redis' lock is held (see errWritesPaused).
	var user *C.char
	if !who.unchecked {
		user = userPtr(who.user)
	}
	paused := C.gorai_writes_paused()
	r, err := C.gorai_call(ctx, cargv, C.int(len(argv)), paused, user, C.size_t(len(who.user)))
	nestedCaller = outer
	if r == nil {
		// As RedisAI: the C library's text for why Redis refused, e.g. "Invalid argument", but for
		// the refusals of script mode, which RedisAI's calls did not ask for.
		errno, ok := err.(syscall.Errno)
		if !ok {
			errno = syscall.EINVAL
		}
		switch errno {
		case syscall.ESPIPE:
			return nil, errScriptMode
		case syscall.ENOSPC: // a write while paused, or a deny-oom command beyond maxmemory
			if paused != 0 {
				return nil, errWritesPaused(who.run != nil && who.run.made)
			}
			return nil, errOOM
		case syscall.EACCES:
			return nil, errNoPermCall
		case syscall.EPERM:
			return nil, errClusterCall
		case syscall.ENETDOWN:
			return nil, errClusterDown
		case syscall.EROFS:
			return nil, errClusterDownReadOnly
		}
		return nil, errors.New(C.GoString(C.strerror(C.int(errno))))
	}
	defer C.gorai_free_reply(r)
	who.madeCall()
	// The reply is the call's own memory: converted without Redis' lock, as RedisAI did (held, a
	// script's LRANGE of a million elements held Redis' main thread 0.7 s against 0.15 s for a client's).
	lock.release()
	// About what callReply's values take: their strings' bytes, and 64 for each value.
	if n := uint64(C.gorai_reply_bytes(r, 64)); !tensor.Fits(replyCopies * n) {
		return nil, fmt.Errorf("ERR the reply of %s, %d bytes, does not fit in the memory left", cmd, n)
	}
	return callReply(r)
}

// replyCopies is how many copies of a reply are made at once on its way to the script, beside Redis' own
// (already counted in the memory left): Go's values, the C strings handed to the shim, TorchScript's
// strings. A script's LRANGE of a 590 MB list had Redis killed in a memory cgroup of 2 GiB; the copies
// were not checked.
const replyCopies = 3


// redisLock is Redis' lock held for a script's call into Redis, with a context in the call's
// database.
type redisLock struct {
	ctx  *C.RedisModuleCtx
	took C.int // whether the lock was taken here (not on Redis' main thread, which holds it) and is held
}

func (l *redisLock) unlock() { C.gorai_unlock(l.ctx, l.took) }

// release lets go of Redis' lock before unlock, which then frees the context only: for what needs
// the context's memory but not Redis' data.
func (l *redisLock) release() {
	if l.took != 0 {
		C.gorai_release_lock(l.ctx)
		l.took = 0
	}
}

// lockRedis takes Redis' lock for a script's call into Redis, in database db. Redis' main thread
// holds the lock through the exit, while it waits for the runs (Server.Stop): a run waiting here then
// cannot go on, and is not waited for.
func lockRedis(db C.int) redisLock {
	var l redisLock
	ai.Engine.WaitOnStopper(func() { l.ctx = C.gorai_locked(db, &l.took) })
	return l
}

// errNoPermCall is Redis' refusal of a call for its user's rights, where gorai's own check let it
// through (the user changed meanwhile).
var errNoPermCall = errors.New("NOPERM this user has no permissions to run this command or to access its keys")

// Redis Cluster's refusals of a call: EPERM for a key it would redirect (MOVED, ASK) or keys of
// several slots. A module's call carries neither the client's ASKING nor its READONLY, so a key of a
// slot being imported, or one a replica serves to READONLY clients, is refused too (as RedisAI's).
var (
	errClusterCall = errors.New("this node does not serve the call's keys (a key another node serves, keys of several " +
		"slots, or a slot being imported or served by a replica: Redis does not carry ASKING or READONLY into a module's call)")
	errClusterDown         = errors.New("CLUSTERDOWN The cluster is down")
	errClusterDownReadOnly = errors.New("CLUSTERDOWN The cluster is down and only accepts read commands")
)

// errOOM is Redis' refusal of a deny-oom command beyond maxmemory, in the words of Lua's.
var errOOM = errors.New("OOM command not allowed when used memory > 'maxmemory'.")

// errScriptMode is Redis' refusal of a call in script mode (gorai_call): a command Lua may not call
// either, or a write Redis refuses at the moment.
var errScriptMode = errors.New("This Redis command is not allowed from script, or is a write Redis refuses now " +
	"(on a read-only replica, without min-replicas-to-write good replicas, or after a failed save)")

// redisArgv is argv as Redis strings made in ctx, and what frees them. (The C strings are Go's to
// free: C copies them into Redis' and keeps neither.)
func redisArgv(ctx *C.RedisModuleCtx, argv []string) (**C.RedisModuleString, func()) {
	n := len(argv)
	cargs, lens := make([]*C.char, n), make([]C.size_t, n)
	for i, a := range argv {
		cargs[i], lens[i] = C.CString(a), C.size_t(len(a))
	}
	cargv := C.gorai_create_argv(ctx, &cargs[0], &lens[0], C.int(n))
	for _, p := range cargs {
		C.free(unsafe.Pointer(p))
	}
	return cargv, func() { C.gorai_free_argv(ctx, cargv, C.int(n)) }
}

// callReply turns a command's reply into the values the backend gives scripts.
func callReply(r *C.RedisModuleCallReply) (any, error) {
	switch C.gorai_reply_type(r) {
	case C.REDISMODULE_REPLY_STRING:
		var n C.size_t
		p := C.gorai_reply_string(r, &n)
		return C.GoStringN(p, C.int(n)), nil
	case C.REDISMODULE_REPLY_ERROR:
		var n C.size_t
		p := C.gorai_reply_string(r, &n)
		return nil, errors.New(C.GoStringN(p, C.int(n)))
	case C.REDISMODULE_REPLY_INTEGER:
		return int64(C.gorai_reply_integer(r)), nil
	case C.REDISMODULE_REPLY_ARRAY:
		n := int(C.gorai_reply_length(r))
		out := make([]any, n)
		for i := range out {
			v, err := callReply(C.gorai_reply_element(r, C.size_t(i)))
			if err != nil {
				out[i] = err // an error inside an array stays in its place
				continue
			}
			out[i] = v
		}
		return out, nil
	case C.REDISMODULE_REPLY_NULL:
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported reply type %d", int(C.gorai_reply_type(r)))
}

// ModelExecute runs the model stored at key for redisAI.model_execute, synchronously on the
// script's worker (no queue, no batching, as in RedisAI).
func (redisHost) ModelExecute(run context.Context, key string, inputs []tensor.Tensor, nOutputs int) ([]tensor.Tensor, error) {
	who, err := callerOf(run)
	if err != nil {
		return nil, err
	}
	m, err := lockedModel(who, key)
	if err != nil {
		return nil, err
	}
	defer C.gorai_model_release(m.c)
	outputs, err := m.Session().Backend.Run(inputs)
	if err == nil && len(outputs) != nOutputs {
		for _, o := range outputs {
			if !o.IsZero() {
				o.Release()
			}
		}
		return nil, fmt.Errorf("ERR model %s gives %d outputs, not %d", key, len(outputs), nOutputs)
	}
	return outputs, err
}

// lockedModel finds the model at key, which who may read, under Redis' lock and takes a reference
// to it.
func lockedModel(who caller, key string) (storedModel, error) {
	lock := lockRedis(who.db)
	defer lock.unlock()
	ctx := lock.ctx
	if err := who.startCall(); err != nil {
		return storedModel{}, err
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	s := C.gorai_create_string(ctx, ckey, C.size_t(len(key)))
	defer C.gorai_free_string(ctx, s)
	if err := who.mayRead(ctx, s); err != nil {
		return storedModel{}, err
	}
	// The model is read as AI.MODELGET reads it: by a selector that allows the command too.
	if !who.mayRunOn(ctx, "AI.MODELGET", key) {
		return storedModel{}, errNoPermKey
	}
	r := C.gorai_key_value(ctx, s, C.gorai_model_type)
	switch {
	case r.wrong_type != 0:
		return storedModel{}, commands.ErrWrongType
	case r.value == nil:
		return storedModel{}, commands.ErrModelEmpty
	}
	m := storedModel{(*C.gorai_model)(r.value)}
	C.gorai_model_retain(m.c)
	return m, nil
}
