package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gorai/backends"
	"gorai/commands"
	"gorai/effects"
	"gorai/tensor"
)

// redisCall is one command call: its arguments, its reply, and the keyspace as commands see it.
type redisCall struct {
	ctx     *C.RedisModuleCtx
	argv    []*C.RedisModuleString
	args    [][]byte
	effects effects.Effects
	// argAt indexes the arguments by address, for argIndex, once a long command needs it.
	argAt map[*byte]int
	// written are the keys the command writes, and replicates whether it replicates itself, for
	// mayWriteNow.
	written    [][]byte
	replicates bool
	// scriptCalled: the run being answered made calls into Redis, which mayWriteNow's refusal says.
	scriptCalled bool
}

func (c *redisCall) reset() {
	clear(c.args)
	c.ctx, c.argv, c.args = nil, nil, c.args[:0]
	clear(c.argAt)
	clear(c.written)
	c.written, c.replicates, c.scriptCalled = c.written[:0], false, false
	c.effects.Reset()
}

// scannedArgs is how many arguments argIndex scans; beyond, it indexes them (a DAG of 40,000 ops
// looked up each of its keys among 400,000 arguments: 10 s of Redis' main thread).
const scannedArgs = 64

// argIndex is the index of the argument that key is, or -1: keys given as arguments are passed to
// Redis as the strings it parsed, without copying.
func (c *redisCall) argIndex(key []byte) int {
	if len(key) == 0 {
		return -1
	}
	if len(c.args) > scannedArgs {
		if len(c.argAt) == 0 {
			if c.argAt == nil {
				c.argAt = make(map[*byte]int, len(c.args))
			}
			for i, a := range c.args {
				if len(a) > 0 {
					c.argAt[&a[0]] = i
				}
			}
		}
		if i, ok := c.argAt[&key[0]]; ok && len(c.args[i]) == len(key) {
			return i
		}
		return -1
	}
	for i, a := range c.args {
		if len(a) == len(key) && &a[0] == &key[0] {
			return i
		}
	}
	return -1
}

// lookup opens key and reads its value if it has the given type.
func (c *redisCall) lookup(key []byte, typ *C.RedisModuleType) (unsafe.Pointer, error) {
	var r C.gorai_key_lookup
	if i := c.argIndex(key); i >= 0 {
		r = C.gorai_key_value(c.ctx, c.argv[i], typ)
	} else {
		s := C.gorai_create_string(c.ctx, (*C.char)(unsafe.Pointer(unsafe.SliceData(key))), C.size_t(len(key)))
		r = C.gorai_key_value(c.ctx, s, typ)
		C.gorai_free_string(c.ctx, s)
	}
	if r.wrong_type != 0 {
		return nil, commands.ErrWrongType
	}
	return r.value, nil
}

func (c *redisCall) Tensor(key []byte) (tensor.Tensor, error) {
	p, err := c.lookup(key, C.gorai_tensor_type)
	return tensor.FromPointer(p), err
}

// SetTensor queues the write: it is applied when the command has succeeded.
func (c *redisCall) SetTensor(key []byte, t tensor.Tensor) error {
	c.writes(key)
	c.effects.SetTensor(t)
	return nil
}

// PersistTensor queues the write and its replication as AI.TENSORSET.
func (c *redisCall) PersistTensor(key []byte, t tensor.Tensor) {
	c.writes(key)
	c.effects.SetTensor(t)
	c.effects.ReplicateTensor(t)
}

func (c *redisCall) Model(key []byte) (commands.Model, error) {
	p, err := c.lookup(key, C.gorai_model_type)
	if p == nil {
		return nil, err
	}
	return storedModel{(*C.gorai_model)(p)}, nil
}

func (c *redisCall) SetModel(key []byte, meta commands.ModelMeta, session backends.Model, blob commands.Blob) {
	c.writes(key)
	m := newStoredModel(meta, ai.NewModelSession(string(key), meta, session), session, blob)
	c.effects.SetStored(effects.OpSetModel, unsafe.Pointer(m), func() { C.gorai_model_release(m) })
}

func (c *redisCall) Delete(key []byte) {
	c.writes(key)
	c.effects.Delete()
}

func (c *redisCall) ReplicateVerbatim() {
	c.replicates = true
	c.effects.ReplicateVerbatim()
}

// writes names key as the next effect's, which writes it.
func (c *redisCall) writes(key []byte) {
	c.written = append(c.written, key)
	c.effects.Key(c.argIndex(key), key)
}

// Writes a run or build ended on a worker cannot make when it ends. Redis 7.0 asserts that nothing is
// propagated while clients are paused (CLIENT PAUSE, FAILOVER: a store or run that ended then aborted
// Redis), and a key whose slot moved, or is migrating, while the command ran would be written on a node
// that no longer serves it (a store acknowledged during a reshard was left where no client finds it).
// The command fails instead, writing nothing of its own; its client may send it again, knowing
// whether the script's calls into Redis (scriptCalled) were made all the same.
func errWritesPaused(scriptCalled bool) error {
	return errors.New("TRYAGAIN clients were paused for writes (CLIENT PAUSE or FAILOVER) as the command ended: " + notWritten(scriptCalled))
}

func errSlotMoved(key []byte, scriptCalled bool) error {
	return fmt.Errorf("TRYAGAIN the slot of key '%s' moved while the command ran: %s", key, notWritten(scriptCalled))
}

func notWritten(scriptCalled bool) string {
	if scriptCalled {
		return "its outputs were not written, but the script's calls into Redis were made"
	}
	return "nothing was written"
}

// mayWriteNow checks, for a command that writes, that its writes may be made now (see errWritesPaused).
func (c *redisCall) mayWriteNow() error {
	if len(c.written) == 0 && !c.replicates {
		return nil
	}
	switch C.gorai_may_write(c.ctx) {
	case C.GORAI_WRITES_PAUSED:
		return errWritesPaused(c.scriptCalled)
	case C.GORAI_WRITES_IN_CLUSTER:
		if len(c.written) == 0 {
			return nil
		}
		keys := make([]string, len(c.written))
		for i, key := range c.written {
			keys[i] = string(key)
		}
		argv, free := redisArgv(c.ctx, keys)
		defer free()
		if C.gorai_keys_are_here(c.ctx, argv, C.int(len(keys))) == 0 {
			return errSlotMoved(c.written[0], c.scriptCalled)
		}
	}
	return nil
}

func (c *redisCall) MaxBulkLen() int64 {
	name := C.CString("proto-max-bulk-len")
	defer C.free(unsafe.Pointer(name))
	return int64(C.gorai_config_integer(c.ctx, name))
}

func (c *redisCall) Script(key []byte) (commands.Script, error) {
	p, err := c.lookup(key, C.gorai_script_type)
	if p == nil {
		return nil, err
	}
	return storedScript{(*C.gorai_script)(p)}, nil
}

func (c *redisCall) SetScript(key []byte, meta commands.ScriptMeta, compiled backends.Script, source []byte) {
	c.writes(key)
	s := newStoredScript(meta, ai.NewScriptSession(string(key), meta, compiled), source)
	c.effects.SetStored(effects.OpSetScript, unsafe.Pointer(s), func() { C.gorai_script_release(s) })
}
