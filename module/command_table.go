package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"unsafe"

	"gorai/commands"
	"gorai/exec"
)

// command is one entry of the command table: what Redis needs to know of it, and its handler.
type command struct {
	name                       string
	flags                      string
	firstKey, lastKey, keyStep int
	handler                    commands.Handler
	// keys reports the keys of a "getkeys-api" command, whose keys Redis cannot find from the
	// three numbers alone.
	keys func(args [][]byte) []commands.KeyArg
	// use is what a command whose one key is argv[1] does with it, for its key spec (without one,
	// Redis takes the key as read and written, and a read-only user could not read it). Ignored
	// for the other commands.
	use commands.KeyUse
}

// commandTable lists every command gorai registers, lower-case as RedisAI registers them (Redis 7
// names the registered command in its wrong-arity error). A command's index is its C slot.
var commandTable = []command{
	{"ai.tensorset", "write deny-oom", 1, 1, 1, commands.TensorSet, nil, commands.KeyWrite},
	{"ai.tensorget", "readonly", 1, 1, 1, commands.TensorGet, nil, commands.KeyRead},
	{"ai.modelstore", "write deny-oom", 1, 1, 1, commands.ModelStore, nil, commands.KeyWrite},
	{"ai.modelset", "write deny-oom", 1, 1, 1, commands.ModelSet, nil, commands.KeyWrite},
	{"ai.modelget", "readonly", 1, 1, 1, commands.ModelGet, nil, commands.KeyRead},
	{"ai.modeldel", "write", 1, 1, 1, commands.ModelDel, nil, commands.KeyDelete},
	{"ai.modelexecute", "write deny-oom getkeys-api", 4, 4, 1, commands.ModelExecute, commands.ModelExecuteKeys, 0},
	{"ai.modelrun", "write deny-oom getkeys-api", 3, 3, 1, commands.ModelRun, commands.ModelRunKeys, 0},
	{"ai._modelscan", "readonly", 0, 0, 0, commands.ModelScan, nil, 0},
	{"ai.scriptstore", "write deny-oom", 1, 1, 1, commands.ScriptStore, nil, commands.KeyWrite},
	{"ai.scriptset", "write deny-oom", 1, 1, 1, commands.ScriptSet, nil, commands.KeyWrite},
	{"ai.scriptget", "readonly", 1, 1, 1, commands.ScriptGet, nil, commands.KeyRead},
	{"ai.scriptdel", "write", 1, 1, 1, commands.ScriptDel, nil, commands.KeyDelete},
	{"ai.scriptexecute", "write deny-oom getkeys-api", 5, 5, 1, commands.ScriptExecute, commands.ScriptExecuteKeys, 0},
	{"ai.scriptrun", "write deny-oom getkeys-api", 4, 4, 1, commands.ScriptRun, commands.ScriptRunKeys, 0},
	{"ai._scriptscan", "readonly", 0, 0, 0, commands.ScriptScan, nil, 0},
	{"ai.dagexecute", "write deny-oom getkeys-api", 3, 3, 1, commands.DAGExecute, commands.DAGKeys, 0},
	{"ai.dagexecute_ro", "readonly getkeys-api", 3, 3, 1, commands.DAGExecuteRO, commands.DAGKeys, 0},
	{"ai.dagrun", "write deny-oom getkeys-api", 3, 3, 1, commands.DAGRun, commands.DAGKeys, 0},
	{"ai.dagrun_ro", "readonly getkeys-api", 3, 3, 1, commands.DAGRunRO, commands.DAGKeys, 0},
	{"ai.info", "readonly", 1, 1, 1, commands.Info, nil, commands.KeyRead},
	{"ai.config", "write", 0, 0, 0, configCommand, nil, 0},
}

func registerCommands(ctx *C.RedisModuleCtx) error {
	for slot, c := range commandTable {
		name, flags := C.CString(c.name), C.CString(c.flags)
		rc := C.gorai_create_command(ctx, C.int(slot), name, flags, C.int(c.firstKey), C.int(c.lastKey), C.int(c.keyStep))
		if rc == C.REDISMODULE_OK && c.keys == nil && c.firstKey == 1 {
			rc = C.gorai_set_key_spec(ctx, name, keyFlags[c.use])
		}
		C.free(unsafe.Pointer(name))
		C.free(unsafe.Pointer(flags))
		if rc != C.REDISMODULE_OK {
			return fmt.Errorf("could not register %s", c.name)
		}
	}
	return nil
}

// goraiCommand runs command slot with argv, whose bytes C has gathered into ptrs and lens.
//
//export goraiCommand
func goraiCommand(ctx *C.RedisModuleCtx, argv **C.RedisModuleString, ptrs **C.char, lens *C.size_t, argc C.int, slot C.int) C.int {
	defer recoverEntry(ctx, "dispatching a command", nil)
	n := int(argc)
	call := callPool.Get().(*redisCall)
	call.ctx, call.argv = ctx, unsafe.Slice(argv, n)
	for i, p := range unsafe.Slice(ptrs, n) {
		call.args = append(call.args, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(unsafe.Slice(lens, n)[i])))
	}
	if cmd := &commandTable[slot]; cmd.keys != nil && C.gorai_is_keys_request(ctx) != 0 {
		for _, k := range cmd.keys(call.args) {
			if k.Pos > 0 && k.Pos < n { // Redis trusts the positions it is given
				C.gorai_key_at_pos(ctx, C.int(k.Pos), keyFlags[k.Use])
			}
		}
	} else {
		call.run(cmd.handler)
	}
	call.reset()
	callPool.Put(call)
	return C.REDISMODULE_OK
}

// keyFlags are Redis' key-spec flags for what a command does with a key. ACL reads ACCESS as a read
// and UPDATE as a write; RO and OW tell the rest of Redis the same.
var keyFlags = [...]C.int{
	commands.KeyRead:   C.REDISMODULE_CMD_KEY_RO | C.REDISMODULE_CMD_KEY_ACCESS,
	commands.KeyWrite:  C.REDISMODULE_CMD_KEY_OW | C.REDISMODULE_CMD_KEY_UPDATE,
	commands.KeyRoute:  C.REDISMODULE_CMD_KEY_RO,
	commands.KeyDelete: C.REDISMODULE_CMD_KEY_RM | C.REDISMODULE_CMD_KEY_DELETE,
}

// callPool keeps command calls, with their argument and reply buffers, from one command to the next:
// the hot path allocates nothing.
var callPool = sync.Pool{New: func() any { return new(redisCall) }}

// run calls the handler and applies its effects, or sends its error, or an error for a panic.
func (c *redisCall) run(h commands.Handler) {
	defer func() {
		if p := recover(); p != nil {
			logf(c.ctx, "warning", "gorai: panic in %q: %v\n%s", c.name(), p, debug.Stack())
			c.effects.fail(exec.ErrInternal.Error())
			c.effects.apply(c.ctx, c.argv)
		}
	}()
	err := h(c.env(), c.args)
	switch {
	case errors.Is(err, commands.ErrWrongArity):
		c.effects.failArity()
	case err != nil:
		c.effects.fail(err.Error())
	}
	c.effects.apply(c.ctx, c.argv)
}

// env is what a handler works with: c's keyspace, reply and runtime.
func (c *redisCall) env() commands.Env { return commands.Env{Keys: c, Out: &c.effects, AI: c} }

// name is the command's name, for the log.
func (c *redisCall) name() string {
	if len(c.args) == 0 {
		return "a blocked command's reply"
	}
	return string(c.args[0])
}
