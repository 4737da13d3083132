package server

import (
	"context"
	"errors"
	"time"

	"gorai/backends"
	"gorai/commands"
)

// builder makes models and scripts with the configuration of the moment it was taken, on the main
// thread (where AI.CONFIG changes it): a build on another goroutine reads its own copy.
type builder struct {
	libraries        map[string]string // backend name -> library path
	intraOp, interOp int
	executionTimeout time.Duration
	memoryLimit      int64           // bytes; 0: none
	trusted          bool            // see backends.ModelOptions.Trusted
	wanted           context.Context // see backends.ModelOptions.Wanted
	log              func(level, format string, args ...any)
}

// Builder is a commands.Builder with the configuration of now; call it on the main thread. trusted says
// whether the blobs it builds from are ones Redis itself hands over (its RDB or AOF being loaded, its
// master's stream) rather than a client's (backends.ModelOptions.Trusted); wanted is done once nobody
// waits for what it builds (backends.ModelOptions.Wanted).
func (s *Server) Builder(wanted context.Context, trusted bool) commands.Builder {
	b := builder{
		libraries: make(map[string]string),
		intraOp:   int(s.Config.IntraOpParallelism),
		interOp:   int(s.Config.InterOpParallelism),
		// MODEL_EXECUTION_TIMEOUT is in milliseconds, BACKEND_MEMORY_LIMIT in MB.
		executionTimeout: commands.Duration(s.Config.ModelExecutionTimeout, time.Millisecond),
		memoryLimit:      commands.Megabytes(s.Config.BackendMemoryLimit),
		trusted:          trusted,
		wanted:           wanted,
		log:              s.Log,
	}
	for _, name := range backends.Names() {
		b.libraries[name] = s.LibraryPath(name)
	}
	return b
}

// backend loads the named backend on first use.
func (b builder) backend(name string) (backends.Backend, error) {
	be, err := backends.Load(name, b.libraries[name])
	if err != nil {
		b.log("warning", "gorai: %v", err)
		return nil, errCouldNotLoadBackend
	}
	return be, nil
}

func (b builder) OpenModel(meta commands.ModelMeta, blob []byte) (backends.Model, error) {
	be, err := b.backend(meta.Backend)
	if err != nil {
		return nil, err
	}
	if err := b.notWanted(meta.Backend + " model"); err != nil {
		return nil, err
	}
	model, err := be.NewModel(blob, backends.ModelOptions{
		Device:           meta.Device,
		IntraOpThreads:   b.intraOp,
		InterOpThreads:   b.interOp,
		ExecutionTimeout: b.executionTimeout,
		MemoryLimit:      b.memoryLimit,
		Trusted:          b.trusted,
		Wanted:           b.wanted,
		Inputs:           meta.Inputs,
		Outputs:          meta.Outputs,
	})
	b.logNotWanted(err, meta.Backend+" model")
	return model, err
}

// notWanted is ErrNotWanted, logged, for a build whose client has gone before it began (it waited
// for a slot: engine.Background).
func (b builder) notWanted(what string) error {
	if b.wanted == nil || b.wanted.Err() == nil {
		return nil
	}
	b.logNotWanted(backends.ErrNotWanted, what)
	return backends.ErrNotWanted
}

// logNotWanted says in the log that a build was dropped before it began (or before its trial), its
// client gone.
func (b builder) logNotWanted(err error, what string) {
	if errors.Is(err, backends.ErrNotWanted) {
		b.log("verbose", "gorai: a %s was not built: its client left before it began", what)
	}
}

func (b builder) OpenScript(meta commands.ScriptMeta, source []byte) (backends.Script, error) {
	d, _ := backends.ScriptDriver()
	be, err := b.backend(d.Name)
	if err != nil {
		return nil, err
	}
	sb, ok := be.(backends.ScriptBackend)
	if !ok {
		return nil, errCouldNotLoadBackend
	}
	if err := b.notWanted("script"); err != nil {
		return nil, err
	}
	script, err := sb.NewScript(source, backends.ScriptOptions{
		Device:         meta.Device,
		EntryPoints:    meta.EntryPoints,
		IntraOpThreads: b.intraOp,
		InterOpThreads: b.interOp,
		Trusted:        b.trusted,
		Wanted:         b.wanted,
	})
	b.logNotWanted(err, "script")
	return script, err
}
