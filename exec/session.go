package exec

import (
	"sync/atomic"
	"time"

	"gorai/backends"
	"gorai/engine"
	"gorai/stats"
)

// StoredModel is a model in the keyspace, as a plan holds it: Submit takes a reference, the run's
// Release drops it.
type StoredModel interface {
	Retain()
	Release()
	Session() *ModelSession
}

// StoredScript is a script in the keyspace, as a plan holds it.
type StoredScript interface {
	Retain()
	Release()
	Session() *ScriptSession
}

// ModelSession is what runs of one stored model use: the model its backend built, the counters
// AI.INFO shows under its key, its device's queue, and how its runs batch.
type ModelSession struct {
	Backend  backends.Model
	Stats    *stats.Entry
	Queue    *engine.Queue
	Batching Batching
	users    *users
	inPlace  inPlaceRecord
}

// Batching is RedisAI's BATCHSIZE, MINBATCHSIZE and MINBATCHTIMEOUT of a model; Size 0: runs are
// not batched.
type Batching struct {
	Size, MinSize int64
	MinTimeout    time.Duration
}

// ScriptSession is what runs of one stored script use.
type ScriptSession struct {
	Backend backends.Script
	Stats   *stats.Entry
	Queue   *engine.Queue
	users   *users
}

// users counts the sessions sharing one backend model or script (COPY makes more): the last one
// closed closes it.
type users struct {
	n       atomic.Int64
	backend interface{ Close() }
}

func newUsers(backend interface{ Close() }) *users {
	u := &users{backend: backend}
	u.n.Store(1)
	return u
}

func (u *users) share() *users { u.n.Add(1); return u }

func (u *users) close() {
	if u.n.Add(-1) == 0 {
		u.backend.Close()
	}
}

// NewModelSession is the session of a model just built or loaded.
func NewModelSession(m backends.Model, st *stats.Entry, q *engine.Queue, b Batching) *ModelSession {
	return &ModelSession{Backend: m, Stats: st, Queue: q, Batching: b, users: newUsers(m)}
}

// Copy is a session sharing s's model, counted under other statistics (AI.INFO of a COPY's key).
func (s *ModelSession) Copy(st *stats.Entry) *ModelSession {
	return &ModelSession{Backend: s.Backend, Stats: st, Queue: s.Queue, Batching: s.Batching, users: s.users.share()}
}

// Close ends the session; the last one sharing the model closes it.
func (s *ModelSession) Close() { s.users.close() }

// NewScriptSession is the session of a script just compiled or loaded.
func NewScriptSession(sc backends.Script, st *stats.Entry, q *engine.Queue) *ScriptSession {
	return &ScriptSession{Backend: sc, Stats: st, Queue: q, users: newUsers(sc)}
}

// Copy is a session sharing s's script, counted under other statistics.
func (s *ScriptSession) Copy(st *stats.Entry) *ScriptSession {
	c := *s
	c.Stats, c.users = st, s.users.share()
	return &c
}

// Close ends the session; the last one sharing the script closes it.
func (s *ScriptSession) Close() { s.users.close() }
