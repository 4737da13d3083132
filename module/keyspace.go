package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"unsafe"

	"gorai/commands"
	"gorai/dlpack"
)

// redisCall is one command call: its arguments, its reply, and the keyspace as commands see it.
type redisCall struct {
	ctx   *C.RedisModuleCtx
	argv  []*C.RedisModuleString
	args  [][]byte
	reply replyBuffer
}

// withKey gives f the Redis string for key: the argument it came from when it is one (always so
// far), else a new string.
func (c *redisCall) withKey(key []byte, f func(*C.RedisModuleString)) {
	if len(key) > 0 {
		for i, a := range c.args {
			if len(a) == len(key) && len(a) > 0 && &a[0] == &key[0] {
				f(c.argv[i])
				return
			}
		}
	}
	var p *C.char
	if len(key) > 0 {
		p = (*C.char)(unsafe.Pointer(&key[0]))
	}
	s := C.gorai_create_string(c.ctx, p, C.size_t(len(key)))
	defer C.gorai_free_string(c.ctx, s)
	f(s)
}

func (c *redisCall) Tensor(key []byte) (t dlpack.Tensor, err error) {
	c.withKey(key, func(k *C.RedisModuleString) {
		var p *C.gorai_tensor
		if C.gorai_key_tensor(c.ctx, k, &p) != 0 {
			err = commands.ErrWrongType
			return
		}
		t = dlpack.FromPointer(unsafe.Pointer(p))
	})
	return t, err
}

func (c *redisCall) SetTensor(key []byte, t dlpack.Tensor) (err error) {
	c.withKey(key, func(k *C.RedisModuleString) {
		if C.gorai_key_set_tensor(c.ctx, k, (*C.gorai_tensor)(t.Pointer())) != 0 {
			err = commands.ErrWrongType
		}
	})
	return err
}

func (c *redisCall) ReplicateVerbatim() { C.gorai_replicate_verbatim(c.ctx) }

func (c *redisCall) MaxBulkLen() int64 {
	name := C.CString("proto-max-bulk-len")
	defer C.free(unsafe.Pointer(name))
	return int64(C.gorai_config_integer(c.ctx, name))
}
