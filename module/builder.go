package main

import (
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
}

func (a *aiState) builder() builder {
	b := builder{
		libraries: make(map[string]string),
		intraOp:   int(a.config.IntraOpParallelism),
		interOp:   int(a.config.InterOpParallelism),
		// MODEL_EXECUTION_TIMEOUT is in milliseconds.
		executionTimeout: time.Duration(a.config.ModelExecutionTimeout) * time.Millisecond,
	}
	for _, name := range backends.Names() {
		b.libraries[name] = a.libraryPath(name)
	}
	return b
}

// backend loads the named backend on first use.
func (b builder) backend(name string) (backends.Backend, error) {
	be, err := backends.Load(name, b.libraries[name])
	if err != nil {
		logf(nil, "warning", "gorai: %v", err)
		return nil, errCouldNotLoadBackend
	}
	return be, nil
}

func (b builder) OpenModel(meta commands.ModelMeta, blob []byte) (backends.Model, error) {
	be, err := b.backend(meta.Backend)
	if err != nil {
		return nil, err
	}
	return be.NewModel(blob, backends.ModelOptions{
		Device:           meta.Device,
		IntraOpThreads:   b.intraOp,
		InterOpThreads:   b.interOp,
		ExecutionTimeout: b.executionTimeout,
		Inputs:           meta.Inputs,
		Outputs:          meta.Outputs,
	})
}

func (b builder) OpenScript(meta commands.ScriptMeta, source []byte) (backends.Script, error) {
	be, err := b.backend(scriptBackend())
	if err != nil {
		return nil, err
	}
	sb, ok := be.(backends.ScriptBackend)
	if !ok {
		return nil, errCouldNotLoadBackend
	}
	return sb.NewScript(source, backends.ScriptOptions{
		Device:         meta.Device,
		EntryPoints:    meta.EntryPoints,
		IntraOpThreads: b.intraOp,
		InterOpThreads: b.interOp,
	})
}
