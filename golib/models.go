package main

/*
#include <stdlib.h>
#include "module.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"unsafe"

	"gorai/backends"
	"gorai/commands"
	"gorai/exec"
)

// goraiSessionCopy is the session of a COPY of a model or script to key (server.CopySession); 0 on
// failure.
//
//export goraiSessionCopy
func goraiSessionCopy(h C.uintptr_t, key *C.char, keylen C.size_t) (copied C.uintptr_t) {
	defer recoverEntry(nil, "copying a model or script", func() { copied = 0 })
	if s := ai.CopySession(cgo.Handle(h).Value(), C.GoStringN(key, C.int(keylen))); s != nil {
		return C.uintptr_t(cgo.NewHandle(s))
	}
	return 0
}

// goraiSessionClose closes a model's or script's session when the C side frees it.
//
//export goraiSessionClose
func goraiSessionClose(h C.uintptr_t) {
	defer recoverEntry(nil, "closing a session", nil)
	handle := cgo.Handle(h)
	defer handle.Delete()
	ai.CloseSession(handle.Value())
}

// storedModel is a model in the keyspace (commands.Model).
type storedModel struct{ c *C.gorai_model }

func (m storedModel) Meta() commands.ModelMeta {
	c := m.c
	return commands.ModelMeta{
		Backend:         backendName(c.backend),
		Device:          C.GoString(c.device),
		Tag:             C.GoBytes(unsafe.Pointer(c.tag), C.int(c.taglen)),
		BatchSize:       int64(c.batchsize),
		MinBatchSize:    int64(c.minbatchsize),
		MinBatchTimeout: int64(c.minbatchtimeout),
		Inputs:          cStrings(c.inputs, c.ninputs),
		Outputs:         cStrings(c.outputs, c.noutputs),
	}
}

func (m storedModel) Arity() (inputs, outputs int) { return int(m.c.ninputs), int(m.c.noutputs) }

func (m storedModel) Blob() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(m.c.blob)), int(m.c.bloblen))
}

func (m storedModel) Session() *exec.ModelSession {
	return cgo.Handle(m.c.session).Value().(*exec.ModelSession)
}
func (m storedModel) Retain()  { C.gorai_model_retain(m.c) }
func (m storedModel) Release() { C.gorai_model_release(m.c) }

func cStrings(p **C.char, n C.uint64_t) []string {
	out := make([]string, int(n))
	for i, s := range unsafe.Slice(p, int(n)) {
		out[i] = C.GoString(s)
	}
	return out
}

// newStoredModel makes the C model for meta and blob, holding session (of model), with refcount 1; it
// adopts blob.
func newStoredModel(meta commands.ModelMeta, session *exec.ModelSession, model backends.Model, blob commands.Blob) *C.gorai_model {
	c := C.gorai_model_new()
	c.backend = backendIndex(meta.Backend)
	c.device = cString(meta.Device)
	setAOFCommand(c, meta.Device)
	c.tag, c.taglen = cBytes(meta.Tag), C.size_t(len(meta.Tag))
	c.batchsize, c.minbatchsize, c.minbatchtimeout = C.uint64_t(meta.BatchSize), C.uint64_t(meta.MinBatchSize), C.uint64_t(meta.MinBatchTimeout)
	setNames(c, model)
	cb := blob.(*cBlob)
	c.blob, c.bloblen = cb.p, C.size_t(cb.n)
	c.session = C.uintptr_t(cgo.NewHandle(session))
	return c
}

// setAOFCommand marks a model whose device only AI.MODELSET takes, for the AOF rewrite (which runs in
// a forked child, where no Go may run) to write it back as AI.MODELSET.
func setAOFCommand(c *C.gorai_model, device string) {
	c.aof_modelset = 0
	if commands.OnlyModelSetTakes(device) {
		c.aof_modelset = 1
	}
}

// setNames gives the C model the input and output names its backend model reports: the model's own
// (ONNX graph inputs and outputs, TorchScript forward's parameters and one "" per output), or for TF
// the nodes it was given. A model read from RDB takes them too, as in RedisAI: its encodings 0 and 1
// held no names for those backends.
func setNames(c *C.gorai_model, model backends.Model) {
	C.gorai_free_names(c.inputs, c.ninputs)
	C.gorai_free_names(c.outputs, c.noutputs)
	in, out := model.InputNames(), model.OutputNames()
	c.ninputs, c.inputs = C.uint64_t(len(in)), cNames(in)
	c.noutputs, c.outputs = C.uint64_t(len(out)), cNames(out)
}

func cString(s string) *C.char {
	return C.gorai_strdup((*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s)))
}
func cBytes(b []byte) *C.char {
	return C.gorai_strdup((*C.char)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b)))
}

func cNames(names []string) **C.char {
	c := C.gorai_names(C.uint64_t(len(names)))
	for i, n := range names {
		unsafe.Slice(c, len(names))[i] = cString(n)
	}
	return c
}

// goraiModelRestore opens the session of a model read from an RDB file (loading is 1) or a DUMP
// payload (RESTORE: 0): 1 on success. It runs in the main process, never in a forked child.
//
//export goraiModelRestore
func goraiModelRestore(c *C.gorai_model, key *C.char, keylen C.size_t, loading C.int) (ok C.int) {
	defer recoverEntry(nil, "loading a model", func() { ok = 0 })
	m := storedModel{c}
	meta := m.Meta()
	err := commands.CheckLoadedModel(meta)
	var model backends.Model
	if err == nil {
		model, err = ai.Builder(context.Background(), loading != 0).OpenModel(meta, m.Blob())
	}
	if err != nil {
		logf(nil, "warning", "gorai: could not load model %q from %s: %v", C.GoStringN(key, C.int(keylen)), loadedFrom(loading), err)
		return 0
	}
	setNames(c, model)
	setAOFCommand(c, meta.Device)
	c.session = C.uintptr_t(cgo.NewHandle(ai.NewModelSession(C.GoStringN(key, C.int(keylen)), meta, model)))
	return 1
}
