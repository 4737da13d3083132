package main

/*
#include "module.h"
*/
import "C"

import (
	"context"
	"errors"
	"unsafe"

	"gorai/commands"
)

// A script's calls into Redis (redis.execute, redisAI.model_execute) run as the user who ran the
// script, with that user's command and key permissions: the user's name is taken on the main thread
// when the command arrives and travels with the run in its context; each call checks it under
// Redis' lock, where the user is looked up again (it may have changed or gone meanwhile).

// caller is who ran a script. unchecked: Redis ran the command for no user (the AOF, a master's
// stream), and checks nothing either. db is the database the command's client had selected, where
// the script's calls run. run is the run's record of its calls (nil for a run no client waits for).
type caller struct {
	user      string
	unchecked bool
	db        C.int
	run       *scriptCalls
}

// scriptCalls is what a script run's calls into Redis share with the run's client, under Redis'
// lock: once the client has gone, its user may be deleted and another of the same name made, so
// later calls are refused rather than run as whoever holds the name then; and once a call has been
// made, a run whose outputs cannot be written says that the script's calls were made all the same.
type scriptCalls struct {
	clientGone bool
	made       bool
}

// errClientGone refuses a script's call into Redis once the client that ran the script has gone.
var errClientGone = errors.New("ERR the client that ran the script has gone")

type callerKey struct{}

// nestedCaller is, while a script's redis.execute runs a command, who ran the script: that
// command's own context has no user (Redis runs a module's calls as its root), so gorai's commands
// called that way answer to the script's user. Read and written under Redis' lock.
var nestedCaller *caller

// caller is the user running the command; unchecked when Redis runs it for no user.
func (c *redisCall) caller() caller {
	if nestedCaller != nil {
		return *nestedCaller
	}
	db := C.gorai_selected_db(c.ctx)
	s := C.gorai_current_user(c.ctx)
	if s == nil {
		return caller{unchecked: true, db: db}
	}
	defer C.gorai_free_string(c.ctx, s)
	var n C.size_t
	p := C.gorai_string_ptr(s, &n)
	return caller{user: C.GoStringN(p, C.int(n)), db: db}
}

// callerContext is the context a script run carries: the user running the command, and calls, the
// run's record of its calls into Redis.
func (c *redisCall) callerContext(calls *scriptCalls) context.Context {
	who := c.caller()
	who.run = calls
	return context.WithValue(context.Background(), callerKey{}, who)
}

// startCall checks, under Redis' lock, that the script's client is still there, for a call into Redis.
func (who caller) startCall() error {
	if who.run != nil && who.run.clientGone {
		return errClientGone
	}
	return nil
}

// madeCall records, under Redis' lock, that a call into Redis was made.
func (who caller) madeCall() {
	if who.run != nil {
		who.run.made = true
	}
}

// MayLoadLibraries checks that the user running the command may run MODULE LOAD (see
// commands.Runtime); the refusal is Redis' own, logged in ACL LOG.
func (c *redisCall) MayLoadLibraries() error {
	argv := []string{"MODULE", "LOAD", "library"}
	cargv, free := redisArgv(c.ctx, argv)
	defer free()
	return c.caller().mayRun(c.ctx, cargv, argv)
}

// moduleCaller is the context of a script run that another module asked for (the low-level API):
// its calls into Redis are checked against no user, as the module's own calls are not, and run in
// db 0, as RedisAI's.
func moduleCaller() context.Context {
	return context.WithValue(context.Background(), callerKey{}, caller{unchecked: true})
}

// errNoCaller fails a call whose run is unknown (from a thread the script forked): it cannot be
// checked, so it is not run.
var errNoCaller = errors.New("ERR calls into Redis are only possible from the script's own thread")

func callerOf(ctx context.Context) (caller, error) {
	who, ok := ctx.Value(callerKey{}).(caller)
	if !ok {
		return caller{}, errNoCaller
	}
	return who, nil
}

// Redis' own refusals.
var (
	errNoPermKey     = errors.New("NOPERM this user has no permissions to access one of the keys used as arguments")
	errNoPermChannel = errors.New("NOPERM this user has no permissions to access one of the channels used as arguments")
)

func errNoPermCommand(fullName string) error {
	return errors.New("NOPERM this user has no permissions to run the '" + fullName + "' command")
}

// mayRun checks that the caller may run argv (args, the command first); a command Redis will refuse
// for its name or arity is let through to that refusal.
func (who caller) mayRun(ctx *C.RedisModuleCtx, argv **C.RedisModuleString, args []string) error {
	if who.unchecked || !arities.Accepts(args, func(name string) any { return commandInfo(ctx, name) }) {
		return nil
	}
	var object *C.RedisModuleString
	verdict := C.gorai_acl_check_command(ctx, userPtr(who.user), C.size_t(len(who.user)), argv, C.int(len(args)), &object)
	if object == nil {
		return nil
	}
	defer C.gorai_free_string(ctx, object)
	switch verdict {
	case C.GORAI_ACL_DENIED_KEY:
		return errNoPermKey
	case C.GORAI_ACL_DENIED_CHANNEL:
		return errNoPermChannel
	}
	var n C.size_t
	p := C.gorai_string_ptr(object, &n)
	return errNoPermCommand(C.GoStringN(p, C.int(n))) // Redis' full name, e.g. "config|set"
}

// mayRead checks that the caller may read key; a refusal is logged in ACL LOG.
func (who caller) mayRead(ctx *C.RedisModuleCtx, key *C.RedisModuleString) error {
	if who.unchecked || C.gorai_acl_check_read(ctx, userPtr(who.user), C.size_t(len(who.user)), key) == C.GORAI_ACL_OK {
		return nil
	}
	return errNoPermKey
}

// MayRead reports whether the user running the command may read key (see commands.Runtime): whether
// it may run AI.INFO key, which reads the key's statistics, so that one selector must allow both the
// command and the key (a key any selector may read was listed to a user whose selector for it allowed
// GET alone). What it may not is left out, not refused, so nothing is logged.
func (c *redisCall) MayRead(key string) bool { return c.caller().mayRunOn(c.ctx, "AI.INFO", key) }

// mayRunOn reports whether the caller may run cmd on key: one of its selectors must allow both (a key
// check alone passes a key that any selector may read, one that allows GET alone included).
func (who caller) mayRunOn(ctx *C.RedisModuleCtx, cmd, key string) bool {
	if who.unchecked {
		return true
	}
	argv, free := redisArgv(ctx, []string{cmd, key})
	defer free()
	return C.gorai_acl_may_run(userPtr(who.user), C.size_t(len(who.user)), argv, 2) == C.GORAI_ACL_OK
}

// emptyName is where an empty user name's bytes are: a name may be empty (ACL SETUSER ""), and
// gorai_call takes NULL for no user at all.
var emptyName C.char

// userPtr is a user name's bytes for C, which reads them during the call only; never NULL.
func userPtr(user string) *C.char {
	if user == "" {
		return &emptyName
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(user)))
}

// arities are Redis' commands' arities, for mayRun.
var arities commands.RedisArities

// commandInfo is COMMAND INFO name's reply as Go values (nil on failure).
func commandInfo(ctx *C.RedisModuleCtx, name string) any {
	r := C.gorai_command_info(ctx, (*C.char)(unsafe.Pointer(unsafe.StringData(name))), C.size_t(len(name)))
	if r == nil {
		return nil
	}
	defer C.gorai_free_reply(r)
	v, _ := callReply(r)
	return v
}
