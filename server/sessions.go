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
	return s.modelSession(s.Stats.Register(modelEntry(key, meta)), meta, model)
}

// NewUnlistedModelSession is the session of a model in no key (made through the low-level API):
// its runs are counted where nothing shows them.
func (s *Server) NewUnlistedModelSession(meta commands.ModelMeta, model backends.Model) *exec.ModelSession {
	return s.modelSession(stats.Unlisted(modelEntry("", meta)), meta, model)
}

func modelEntry(key string, meta commands.ModelMeta) stats.Entry {
	return stats.Entry{Key: key, Backend: meta.Backend, Device: meta.Device, Tag: string(meta.Tag)}
}

func (s *Server) modelSession(st *stats.Entry, meta commands.ModelMeta, model backends.Model) *exec.ModelSession {
	batching := exec.Batching{Size: meta.BatchSize, MinSize: meta.MinBatchSize,
		MinTimeout: commands.Duration(meta.MinBatchTimeout, time.Millisecond)}
	return exec.NewModelSession(model, st, s.Engine.Queue(meta.Device), batching)
}

// NewScriptSession is the session of a script stored or loaded at key.
func (s *Server) NewScriptSession(key string, meta commands.ScriptMeta, compiled backends.Script) *exec.ScriptSession {
	return exec.NewScriptSession(compiled, s.Stats.Register(scriptEntry(key, meta)), s.Engine.Queue(meta.Device))
}

// NewUnlistedScriptSession is the session of a script in no key (made through the low-level API).
func (s *Server) NewUnlistedScriptSession(meta commands.ScriptMeta, compiled backends.Script) *exec.ScriptSession {
	return exec.NewScriptSession(compiled, stats.Unlisted(scriptEntry("", meta)), s.Engine.Queue(meta.Device))
}

func scriptEntry(key string, meta commands.ScriptMeta) stats.Entry {
	d, _ := backends.ScriptDriver()
	return stats.Entry{Key: key, IsScript: true, Backend: d.Name, Device: meta.Device, Tag: string(meta.Tag)}
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
