// Package server is gorai's state beyond the keyspace, in pure Go: the configuration, the backends'
// libraries (where they are, loading them, preloading them at start), the engine and executor that
// run plans, the statistics, the sessions of stored models and scripts, and the INFO sections. The
// module holds one Server and reaches it from Redis' callbacks.
package server

import (
	"errors"
	"time"

	"gorai/backends"
	"gorai/commands"
	"gorai/engine"
	"gorai/exec"
	"gorai/stats"
)

// Server is the module's state. Config changes on Redis' main thread only (AI.CONFIG); work on other
// goroutines takes what it needs from it first (Builder).
type Server struct {
	Config commands.Config
	Engine *engine.Engine
	Exec   *exec.Executor
	Stats  *stats.Table
	// Log writes a line to Redis' log at a level ("warning", "notice", ...); safe from any goroutine.
	Log func(level, format string, args ...any)
}

var errCouldNotLoadBackend = errors.New("ERR Could not load backend")

// New starts the engine for cfg, with the CPU queue ready.
func New(cfg commands.Config, log func(level, format string, args ...any)) *Server {
	s := &Server{Config: cfg, Stats: stats.NewTable(), Log: log}
	s.Engine = engine.New(int(cfg.ThreadsPerQueue), func(p any, stack []byte) {
		log("warning", "gorai: panic in a worker: %v\n%s", p, stack)
	})
	s.Exec = &exec.Executor{Engine: s.Engine, Stats: s.Stats, Log: func(format string, args ...any) {
		log("warning", format, args...)
	}, InPlaceLimit: commands.Duration(cfg.MainThreadRunLimit, time.Microsecond)}
	s.Engine.OnQueueLimit = func(device string) {
		log("warning", "gorai: the run queues hold %d workers, the most there may be: models and scripts on device %s, and on any new device after it, run on the CPU queue", engine.MaxWorkers, device)
	}
	return s
}

// shutdownGrace bounds how long the exit waits for runs and builds (a model that loops without end,
// say; a script waiting for Redis' lock in redis.execute is not waited for).
const shutdownGrace = 10 * time.Second

// Stop holds the server's exit until no worker or build is inside a backend: exit runs the backends'
// static destructors, and tearing libtorch down under a run crashed the server.
func (s *Server) Stop() {
	if !s.Engine.Stop(shutdownGrace) {
		s.Log("warning", "gorai: exiting with runs or model builds still under way after %v", shutdownGrace)
	}
}

// LibraryPath is where the backend's library is: the path given at load, else the default, both
// under BACKENDSPATH when relative.
func (s *Server) LibraryPath(backend string) string {
	p, ok := s.Config.BackendPaths[backend]
	if !ok {
		d, _ := backends.Lookup(backend)
		p = d.DefaultLibrary
	}
	return s.Config.ResolveBackendPath(p)
}

// LoadConfiguredBackends opens the backends named at load time. One that fails is logged and then
// loaded on first use from its default path: launch scripts written for RedisAI name RedisAI's own
// backend objects, which gorai cannot load, and should not keep the server from starting.
func (s *Server) LoadConfiguredBackends() {
	for _, b := range backends.Names() {
		if _, ok := s.Config.BackendPaths[b]; !ok {
			continue
		}
		if _, err := backends.Open(b, s.LibraryPath(b)); err != nil {
			delete(s.Config.BackendPaths, b)
			s.Log("warning", "gorai: %v; it will be loaded from %s when first needed", err, s.LibraryPath(b))
		}
	}
}

// LoadBackend opens a backend library explicitly (AI.CONFIG LOADBACKEND).
func (s *Server) LoadBackend(name, path string) error {
	_, err := backends.Open(name, path)
	if err != nil {
		s.Log("warning", "gorai: %v", err)
	}
	return err
}
