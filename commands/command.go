// Package commands holds the grammar, validation, exact error texts and reply shapes of the AI.*
// commands. It is written against small interfaces (a keyspace, a reply writer) and has no cgo, so
// its unit and fuzz tests run without Redis; the module package implements the interfaces over the
// Redis module API.
package commands

import (
	"errors"

	"gorai/backends"
	"gorai/exec"
	"gorai/stats"
	"gorai/tensor"
)

// Handler runs one command. args[0] is the command name. A returned error is sent as an error reply
// with exactly its text; nothing may have been written to Env.Out before it. Handlers are run by
// Command.Run, which has checked the number of arguments (and, for an execution command,
// Runtime.CanExecute) first.
type Handler func(env Env, args [][]byte) error

// Env is what a handler works with.
type Env struct {
	Keys    Keyspace
	Out     Reply
	Runtime Runtime
}

// Runtime is what model and script commands need beyond the keyspace: backends, background
// execution, statistics and configuration.
type Runtime interface {
	// Offload calls build away from Redis' main thread while the client waits, then the result's
	// Commit on the main thread, with the keyspace and reply of that moment (or its Drop when the
	// client has gone). Where a client cannot wait (MULTI, scripts, a replica applying its
	// master's stream, loading) both run at once, Commit with env. build must not use env or the
	// command's arguments, which may be gone by then.
	Offload(env Env, build func(Builder) Built) error
	// JoinBlob copies a model's blob, given in chunks, into one buffer of the module's memory.
	JoinBlob(chunks [][]byte) Blob
	// CanExecute refuses, with its reply text, where a run cannot wait for its result: inside
	// MULTI or a script. Execution commands ask it before anything else, as RedisAI does.
	CanExecute() error
	// Execute blocks the client and runs the plan in the background; the runtime replies (ReplyRun)
	// when it is over. When it returns nil it owns the plan (exec.Submit); on an error, a reply text
	// sent at once, the caller still does.
	Execute(plan *exec.Plan) error
	// LoadBackend opens a backend library explicitly (AI.CONFIG LOADBACKEND).
	LoadBackend(name, path string) error
	// MayLoadLibraries refuses, with Redis' NOPERM reply, a user whom Redis' ACL does not let run
	// MODULE LOAD: AI.CONFIG LOADBACKEND and BACKENDSPATH choose libraries that Redis loads into
	// itself, as MODULE LOAD does.
	MayLoadLibraries() error
	// MayRead reports whether Redis' ACL lets the user running the command read key, as AI.INFO key
	// reads it: AI._MODELSCAN and AI._SCRIPTSCAN list only those keys (a tag is the key's data).
	MayRead(key string) bool
	Stats() *stats.Table
	Config() *Config
}

// Builder makes models and scripts, loading their backend on first use; it may be used from any
// goroutine. Its errors are reply texts.
type Builder interface {
	// OpenModel builds a backend model from a blob.
	OpenModel(meta ModelMeta, blob []byte) (backends.Model, error)
	// OpenScript compiles a script with the TORCH backend.
	OpenScript(meta ScriptMeta, source []byte) (backends.Script, error)
}

// Blob is a model's bytes in the module's memory (Redis' allocator, so that used_memory counts them
// and no copy of the model lingers on the Go heap): the stored model adopts it; a model that is not
// stored frees it.
type Blob interface {
	Bytes() []byte
	Free()
}

// Built is what an offloaded build made: Commit stores it and replies, on the main thread; Drop
// releases it when Commit will not run.
type Built struct {
	Commit func(env Env) error
	Drop   func()
}

// Keyspace is the part of the Redis keyspace the commands use. Keys are binary.
type Keyspace interface {
	// Tensor is the tensor stored at key, the zero Tensor when the key is empty, or ErrWrongType.
	// The tensor is borrowed: it stays valid until the command returns.
	Tensor(key []byte) (tensor.Tensor, error)
	// SetTensor stores t at key, taking over the caller's reference (released on error too).
	SetTensor(key []byte, t tensor.Tensor) error
	// Model is the model stored at key, nil when the key is empty, or ErrWrongType. It is borrowed
	// until the command returns.
	Model(key []byte) (Model, error)
	// SetModel stores a model at key, taking over session and blob (released on error too).
	SetModel(key []byte, meta ModelMeta, session backends.Model, blob Blob)
	// Script is the script stored at key, nil when the key is empty, or ErrWrongType. It is
	// borrowed until the command returns.
	Script(key []byte) (Script, error)
	// SetScript stores a script at key, taking over compiled (closed on error too).
	SetScript(key []byte, meta ScriptMeta, compiled backends.Script, source []byte)
	// PersistTensor stores t at key, taking over the caller's reference, and replicates it as
	// AI.TENSORSET (a run's outputs, whose command does not say their contents).
	PersistTensor(key []byte, t tensor.Tensor)
	// Delete removes key.
	Delete(key []byte)
	// ReplicateVerbatim sends the current command to replicas and the AOF as it is.
	ReplicateVerbatim()
	// MaxBulkLen is the server's proto-max-bulk-len: no value may be larger.
	MaxBulkLen() int64
}

// Reply writes one reply. Every string inside an array is a bulk string, as RedisAI sends them.
type Reply interface {
	OK()
	Array(n int)
	Bulk(s string)
	BulkBytes(b []byte)
	// Tensor sends t as AI.TENSORGET does in format f (module/tensor_commands.c).
	Tensor(t tensor.Tensor, f tensor.Format)
	Int(v int64)
	// Simple sends a simple string ("+TIMEDOUT", a DAG's "+NA").
	Simple(s string)
	// Error sends an error reply as an element of an array (a DAG's failed op).
	Error(text string)
	Null()
}

// KeyArg is where a command names a key, and what it does with it: Redis holds a user to its key
// permissions by these (a read-only user may read but not write), and routes by them in a cluster.
type KeyArg struct {
	Pos int
	Use KeyUse
}

// KeyUse is what a command does with a key.
type KeyUse int

const (
	KeyRead   KeyUse = iota // the value is read
	KeyWrite                // the value is replaced
	KeyRoute                // the key only routes the command (a DAG's ROUTING); it is not touched
	KeyDelete               // the key is deleted
)

// ErrWrongArity makes the module send Redis' own wrong-arity error, naming the command.
var ErrWrongArity = errors.New("wrong number of arguments")

// ErrWrongType is Redis' error for a key holding another type.
var ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")

// errf builds an error with a fixed reply text.
func errf(text string) error { return errors.New(text) }
