package main

/*
#include "module.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"unsafe"

	"gorai/commands"
	"gorai/exec"
)

// storedScript is a script in the keyspace (commands.Script).
type storedScript struct{ c *C.gorai_script }

func (s storedScript) Meta() commands.ScriptMeta {
	c := s.c
	return commands.ScriptMeta{
		Device:      C.GoString(c.device),
		Tag:         C.GoBytes(unsafe.Pointer(c.tag), C.int(c.taglen)),
		EntryPoints: cStrings(c.entry_points, c.nentry_points),
	}
}

func (s storedScript) Source() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(s.c.source)), int(s.c.sourcelen))
}

func (s storedScript) Session() *exec.ScriptSession {
	return cgo.Handle(s.c.session).Value().(*exec.ScriptSession)
}
func (s storedScript) Retain()  { C.gorai_script_retain(s.c) }
func (s storedScript) Release() { C.gorai_script_release(s.c) }

// newStoredScript makes the C script for meta and source, holding session, with refcount 1.
func newStoredScript(meta commands.ScriptMeta, session *exec.ScriptSession, source []byte) *C.gorai_script {
	c := C.gorai_script_new()
	c.device = cString(meta.Device)
	c.tag, c.taglen = cBytes(meta.Tag), C.size_t(len(meta.Tag))
	c.source, c.sourcelen = cBytes(source), C.size_t(len(source))
	c.nentry_points, c.entry_points = C.uint64_t(len(meta.EntryPoints)), cNames(meta.EntryPoints)
	c.session = C.uintptr_t(cgo.NewHandle(session))
	return c
}

// goraiScriptRestore compiles a script read from an RDB file (loading is 1) or a DUMP payload (RESTORE:
// 0): 1 on success.
//
//export goraiScriptRestore
func goraiScriptRestore(c *C.gorai_script, key *C.char, keylen C.size_t, loading C.int) (ok C.int) {
	defer recoverEntry(nil, "loading a script", func() { ok = 0 })
	s := storedScript{c}
	meta := s.Meta()
	compiled, err := ai.Builder(context.Background(), loading != 0).OpenScript(meta, s.Source())
	if err != nil {
		logf(nil, "warning", "gorai: could not load script %q from %s: %v", C.GoStringN(key, C.int(keylen)), loadedFrom(loading), err)
		return 0
	}
	c.session = C.uintptr_t(cgo.NewHandle(ai.NewScriptSession(C.GoStringN(key, C.int(keylen)), meta, compiled)))
	return 1
}

// loadedFrom names where a model or script being restored came from, for the log.
func loadedFrom(loading C.int) string {
	if loading != 0 {
		return "an RDB load (file, AOF preamble or replication)"
	}
	return "a DUMP payload (RESTORE)"
}
