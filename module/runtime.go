package main

import (
	"gorai/commands"
	"gorai/server"
	"gorai/stats"
)

// ai is the module's state beyond the keyspace, set up at load; commands reach it through
// commands.Runtime, Redis' callbacks directly.
var ai *server.Server

// The commands.Runtime of a call (with CanExecute, Execute and Offload in blocking.go and
// offload.go, JoinBlob in models.go).

func (c *redisCall) LoadBackend(name, path string) error { return ai.LoadBackend(name, path) }
func (c *redisCall) Stats() *stats.Table                 { return ai.Stats }
func (c *redisCall) Config() *commands.Config            { return &ai.Config }
