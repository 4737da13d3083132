package server

import (
	"time"

	"gorai/backends"
	"gorai/commands"
	"gorai/exec"
	"gorai/stats"
)

// A stored model or script holds its session (an *exec.ModelSession or *exec.ScriptSession) while it
// exists; its statistics are registered under its key meanwhile (a store resets them, as in RedisAI).

// NewModelSession is the session of a model stored or loaded at key.
func (s *Server) NewModelSession(key string, meta commands.ModelMeta, model backends.Model) *exec.ModelSession {
	st := s.Stats.Register(stats.Entry{Key: key, Backend: meta.Backend, Device: meta.Device, Tag: string(meta.Tag)})
	batching := exec.Batching{Size: meta.BatchSize, MinSize: meta.MinBatchSize,
		MinTimeout: time.Duration(meta.MinBatchTimeout) * time.Millisecond}
	return exec.NewModelSession(model, st, s.Engine.Queue(meta.Device), batching)
}

// NewScriptSession is the session of a script stored or loaded at key.
func (s *Server) NewScriptSession(key string, meta commands.ScriptMeta, compiled backends.Script) *exec.ScriptSession {
	d, _ := backends.ScriptDriver()
	st := s.Stats.Register(stats.Entry{Key: key, IsScript: true, Backend: d.Name, Device: meta.Device, Tag: string(meta.Tag)})
	return exec.NewScriptSession(compiled, st, s.Engine.Queue(meta.Device))
}

// CopySession is the session of a COPY of a model or script to key: the source's backend model or
// script and queue, and fresh statistics under key, as a RESTORE to that name would have.
func (s *Server) CopySession(session any, key string) any {
	// Backend, device and tag never change after the store: no race with the runs' counters.
	copyStats := func(src *stats.Entry) *stats.Entry {
		return s.Stats.Register(stats.Entry{Key: key, IsScript: src.IsScript, Backend: src.Backend, Device: src.Device, Tag: src.Tag})
	}
	switch session := session.(type) {
	case *exec.ModelSession:
		return session.Copy(copyStats(session.Stats))
	case *exec.ScriptSession:
		return session.Copy(copyStats(session.Stats))
	}
	return nil
}

// CloseSession ends a model's or script's session: its statistics go, and the last session sharing
// the backend's model or script closes it.
func (s *Server) CloseSession(session any) {
	switch session := session.(type) {
	case *exec.ModelSession:
		s.Stats.Unregister(session.Stats.Key, session.Stats)
		session.Close()
	case *exec.ScriptSession:
		s.Stats.Unregister(session.Stats.Key, session.Stats)
		session.Close()
	}
}
