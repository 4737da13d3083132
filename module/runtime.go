package main

/*
#include "module.h"
*/
import "C"

import (
	"errors"

	"gorai/backends"
	"gorai/commands"
	"gorai/engine"
	"gorai/exec"
	"gorai/stats"
)

// aiState is the module's state beyond the keyspace: configuration, the execution engine and the
// statistics. It is set up at load; commands reach it through commands.Runtime.
type aiState struct {
	config commands.Config
	engine *engine.Engine
	exec   *exec.Executor
	stats  *stats.Table
}

var ai = aiState{stats: stats.NewTable()}

var (
	errCouldNotLoadBackend = errors.New("ERR Could not load backend")
)

// libraryPath is where the backend's library is: the path given at load, else the default, both
// under BACKENDSPATH when relative.
func (a *aiState) libraryPath(backend string) string {
	p, ok := a.config.BackendPaths[backend]
	if !ok {
		p = defaultLibrary(backend)
	}
	return a.config.ResolveBackendPath(p)
}

// loadBackends opens the backends named at load time. One that fails is logged and then loaded on
// first use from its default path: launch scripts written for RedisAI name RedisAI's own backend
// objects, which gorai cannot load, and should not keep the server from starting.
func (a *aiState) loadBackends(ctx *C.RedisModuleCtx) {
	for _, b := range backends.Names() {
		if _, ok := a.config.BackendPaths[b]; ok {
			if _, err := backends.Open(b, a.libraryPath(b)); err != nil {
				logf(ctx, "warning", "gorai: %v; it will be loaded from %s when first needed", err, a.config.ResolveBackendPath(defaultLibrary(b)))
				delete(a.config.BackendPaths, b)
			}
		}
	}
}

func (a *aiState) LoadBackend(name, path string) error {
	_, err := backends.Open(name, path)
	if err != nil {
		logf(nil, "warning", "gorai: %v", err)
	}
	return err
}

// The commands.Runtime of a call.

func (c *redisCall) LoadBackend(name, path string) error { return ai.LoadBackend(name, path) }
func (c *redisCall) Stats() *stats.Table                 { return ai.stats }
func (c *redisCall) Config() *commands.Config            { return &ai.config }
