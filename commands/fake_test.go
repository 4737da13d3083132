package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gorai/backends"
	"gorai/exec"
	"gorai/stats"
	"gorai/tensor"
)

// The backends as the module registers them (backends/registrytest checks the real ones): their
// names, order and TF's node names are what the commands read.
func init() {
	for i, name := range []string{"TF", "TFLITE", "TORCH", "ONNX"} {
		backends.Register(backends.Driver{Name: name, RDBIndex: i, NodeNames: name == "TF", Scripts: name == "TORCH"})
	}
}

// fakeKeyspace is an in-memory keyspace: tensors, models, scripts, plus keys of some other type.
type fakeKeyspace struct {
	tensors    map[string]tensor.Tensor
	models     map[string]*fakeModel
	scripts    map[string]*fakeScript
	other      map[string]bool
	replicated int
	modelSets  int // SetModel calls
	scriptSets int // SetScript calls
	deletes    int // Delete calls
	maxBulk    int64
	read       []string // every key looked up (Tensor, Model, Script), in order
	written    []string // every key set or deleted, in order
}

func newFakeKeyspace() *fakeKeyspace {
	return &fakeKeyspace{tensors: map[string]tensor.Tensor{}, models: map[string]*fakeModel{},
		scripts: map[string]*fakeScript{}, other: map[string]bool{}, maxBulk: 512 << 20}
}

// notTensor: the key holds a model, a script or another type.
func (k *fakeKeyspace) notTensor(key []byte) bool {
	return k.other[string(key)] || k.models[string(key)] != nil || k.scripts[string(key)] != nil
}

func (k *fakeKeyspace) Tensor(key []byte) (tensor.Tensor, error) {
	k.read = append(k.read, string(key))
	if k.notTensor(key) {
		return tensor.Tensor{}, ErrWrongType
	}
	return k.tensors[string(key)], nil
}

func (k *fakeKeyspace) SetTensor(key []byte, t tensor.Tensor) error {
	k.written = append(k.written, string(key))
	if k.notTensor(key) {
		t.Release()
		return ErrWrongType
	}
	if old, ok := k.tensors[string(key)]; ok {
		old.Release()
	}
	k.tensors[string(key)] = t
	return nil
}

// PersistTensor stores t, counting it as replicated.
func (k *fakeKeyspace) PersistTensor(key []byte, t tensor.Tensor) {
	if k.SetTensor(key, t) == nil {
		k.replicated++
	}
}

func (k *fakeKeyspace) ReplicateVerbatim() { k.replicated++ }

func (k *fakeKeyspace) Model(key []byte) (Model, error) {
	k.read = append(k.read, string(key))
	if _, ok := k.tensors[string(key)]; ok || k.other[string(key)] || k.scripts[string(key)] != nil {
		return nil, ErrWrongType
	}
	if m := k.models[string(key)]; m != nil {
		return m, nil
	}
	return nil, nil
}

// SetModel stores the model with copies of meta and blob (the caller's buffers may be reused),
// freeing blob as the module's stored model would when it goes.
func (k *fakeKeyspace) SetModel(key []byte, meta ModelMeta, session backends.Model, blob Blob) {
	k.modelSets++
	k.written = append(k.written, string(key))
	if old := k.models[string(key)]; old != nil && old.session != nil {
		old.session.Close()
	}
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.Inputs = append([]string(nil), meta.Inputs...)
	meta.Outputs = append([]string(nil), meta.Outputs...)
	k.models[string(key)] = &fakeModel{meta: meta, blob: append([]byte{}, blob.Bytes()...), session: session}
	blob.Free()
}

func (k *fakeKeyspace) Script(key []byte) (Script, error) {
	k.read = append(k.read, string(key))
	if _, ok := k.tensors[string(key)]; ok || k.other[string(key)] || k.models[string(key)] != nil {
		return nil, ErrWrongType
	}
	if s := k.scripts[string(key)]; s != nil {
		return s, nil
	}
	return nil, nil
}

// SetScript stores the script with copies of meta and source (the caller's buffers may be reused).
func (k *fakeKeyspace) SetScript(key []byte, meta ScriptMeta, compiled backends.Script, source []byte) {
	k.scriptSets++
	k.written = append(k.written, string(key))
	if old := k.scripts[string(key)]; old != nil && old.compiled != nil {
		old.compiled.Close()
	}
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.EntryPoints = slices.Clone(meta.EntryPoints) // keeps nil apart from empty
	k.scripts[string(key)] = &fakeScript{meta: meta, source: append([]byte{}, source...), compiled: compiled}
}

func (k *fakeKeyspace) Delete(key []byte) {
	k.deletes++
	k.written = append(k.written, string(key))
	if m := k.models[string(key)]; m != nil && m.session != nil {
		m.session.Close()
	}
	if s := k.scripts[string(key)]; s != nil && s.compiled != nil {
		s.compiled.Close()
	}
	delete(k.models, string(key))
	delete(k.scripts, string(key))
	delete(k.tensors, string(key))
}
func (k *fakeKeyspace) MaxBulkLen() int64 { return k.maxBulk }

func (k *fakeKeyspace) release() {
	for _, t := range k.tensors {
		t.Release()
	}
	for _, m := range k.models {
		if m.session != nil {
			m.session.Close()
		}
	}
	for _, s := range k.scripts {
		if s.compiled != nil {
			s.compiled.Close()
		}
	}
}

// fakeModel is a stored model.
type fakeModel struct {
	meta    ModelMeta
	blob    []byte
	session backends.Model
	// exec is what runs of it use, set by the tests that run plans or read its counters (elsewhere
	// Session makes one with counters of its own: every stored model has a session).
	exec *exec.ModelSession
}

func (m *fakeModel) Meta() ModelMeta   { return m.meta }
func (m *fakeModel) Blob() []byte      { return m.blob }
func (m *fakeModel) Arity() (int, int) { return len(m.meta.Inputs), len(m.meta.Outputs) }

func (m *fakeModel) Retain()  {}
func (m *fakeModel) Release() {}
func (m *fakeModel) Session() *exec.ModelSession {
	if m.exec == nil {
		m.exec = &exec.ModelSession{Stats: stats.Unlisted(stats.Entry{})}
	}
	return m.exec
}

// fakeSession is what fakeRuntime.OpenModel builds.
type fakeSession struct {
	inputs, outputs []string
	closed          int
}

func (s *fakeSession) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	return nil, errors.New("fakeSession does not run")
}
func (s *fakeSession) InputNames() []string  { return s.inputs }
func (s *fakeSession) OutputNames() []string { return s.outputs }
func (s *fakeSession) Close()                { s.closed++ }

// fakeScript is a stored script.
type fakeScript struct {
	meta     ScriptMeta
	source   []byte
	compiled backends.Script
	// exec is what runs of it use, set by the tests that read its counters (elsewhere Session makes
	// one with counters of its own, as fakeModel's).
	exec *exec.ScriptSession
}

func (s *fakeScript) Meta() ScriptMeta { return s.meta }
func (s *fakeScript) Source() []byte   { return s.source }

func (s *fakeScript) Retain()  {}
func (s *fakeScript) Release() {}
func (s *fakeScript) Session() *exec.ScriptSession {
	if s.exec == nil {
		s.exec = &exec.ScriptSession{Stats: stats.Unlisted(stats.Entry{IsScript: true})}
	}
	return s.exec
}

// fakeCompiled is what fakeRuntime.OpenScript builds.
type fakeCompiled struct{ closed int }

func (c *fakeCompiled) Run(_ context.Context, fn string, inputs []tensor.Tensor, keys, args []string, nOutputs int) ([]tensor.Tensor, error) {
	return nil, errors.New("fakeCompiled does not run")
}
func (c *fakeCompiled) Close() { c.closed++ }

type scriptOpenCall struct {
	meta   ScriptMeta
	source []byte
}

// scriptExecuteCall is a single script run's plan, with its borrowed parts copied.
type scriptExecuteCall struct {
	script                 Script
	function               string
	inputs                 [][]byte // the data of each input tensor
	inputPtrs              []tensor.Tensor
	keys, args, outputKeys []string
	timeout                time.Duration
}

type openCall struct {
	meta ModelMeta
	blob []byte
}

// executeCall is a single model run's plan, with its borrowed parts copied.
type executeCall struct {
	model      Model
	inputs     [][]byte // the data of each input tensor
	inputPtrs  []tensor.Tensor
	outputKeys []string
	timeout    time.Duration
}

type loadCall struct{ name, path string }

// fakeRuntime records what the commands ask of it and fails with the configured errors (openErr
// and execErr for models and scripts alike; txErr as a transaction refuses runs; noLoadingErr as
// ACL refuses a user MODULE LOAD).
type fakeRuntime struct {
	openErr, execErr, loadErr, txErr, noLoadingErr error
	unreadable                                     []string // keys ACL does not let the user read
	opened                                         []openCall
	sessions                                       []*fakeSession
	executed                                       []executeCall
	scriptsOpened                                  []scriptOpenCall
	compiled                                       []*fakeCompiled
	scriptsExecuted                                []scriptExecuteCall
	dags                                           []*exec.Plan // every DAG plan handed to Execute, refused ones included
	plans                                          []*exec.Plan // every plan handed to Execute
	loaded                                         []loadCall
	stats                                          *stats.Table
	config                                         Config
	// deferBuilds keeps offloaded builds in built instead of committing them at once.
	deferBuilds bool
	built       []Built
	blobsLive   int // blobs made by JoinBlob and not freed
}

// fakeBlob counts, in its runtime, the blobs not yet freed.
type fakeBlob struct {
	b  []byte
	rt *fakeRuntime
}

func (b *fakeBlob) Bytes() []byte { return b.b }
func (b *fakeBlob) Free() {
	if b.rt.blobsLive--; b.rt.blobsLive < 0 {
		panic("a blob freed twice")
	}
}

func (r *fakeRuntime) JoinBlob(chunks [][]byte) Blob {
	r.blobsLive++
	return &fakeBlob{bytes.Join(chunks, nil), r}
}

func (r *fakeRuntime) Offload(env Env, build func(Builder) Built) error {
	b := build(r)
	if r.deferBuilds {
		r.built = append(r.built, b)
		return nil
	}
	return b.Commit(env)
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{stats: stats.NewTable(), config: DefaultConfig("/m")}
}

func (r *fakeRuntime) OpenModel(meta ModelMeta, blob []byte) (backends.Model, error) {
	meta.Tag = append([]byte{}, meta.Tag...)
	r.opened = append(r.opened, openCall{meta, append([]byte{}, blob...)})
	if r.openErr != nil {
		return nil, r.openErr
	}
	s := &fakeSession{inputs: meta.Inputs, outputs: meta.Outputs}
	r.sessions = append(r.sessions, s)
	return s, nil
}

func (r *fakeRuntime) CanExecute() error { return r.txErr }

func (r *fakeRuntime) OpenScript(meta ScriptMeta, source []byte) (backends.Script, error) {
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.EntryPoints = slices.Clone(meta.EntryPoints) // keeps nil apart from empty
	r.scriptsOpened = append(r.scriptsOpened, scriptOpenCall{meta, append([]byte{}, source...)})
	if r.openErr != nil {
		return nil, r.openErr
	}
	c := &fakeCompiled{}
	r.compiled = append(r.compiled, c)
	return c, nil
}

// Execute records the plan: a single run as the run it describes, a DAG as it is. When it fails
// (execErr), the handler releases the plan; otherwise the test releases DAGs (releaseDAGs).
func (r *fakeRuntime) Execute(plan *exec.Plan) error {
	r.plans = append(r.plans, plan)
	if !plan.Single {
		r.dags = append(r.dags, plan)
		return r.execErr
	}
	op := plan.Ops[0]
	var inputs [][]byte
	for _, t := range plan.Loaded {
		inputs = append(inputs, append([]byte{}, t.Data()...))
	}
	var outputKeys []string
	for _, p := range plan.Persist {
		outputKeys = append(outputKeys, string(p.Key))
	}
	loaded := append([]tensor.Tensor{}, plan.Loaded...)
	if op.Kind == exec.ModelRun {
		r.executed = append(r.executed, executeCall{model: op.Model.(Model), timeout: plan.Timeout,
			inputs: inputs, inputPtrs: loaded, outputKeys: outputKeys})
	} else {
		r.scriptsExecuted = append(r.scriptsExecuted, scriptExecuteCall{script: op.Script.(Script), function: op.Function,
			timeout: plan.Timeout, inputs: inputs, inputPtrs: loaded, keys: op.Keys, args: op.Args, outputKeys: outputKeys})
	}
	return r.execErr
}

// releaseDAGs releases every recorded plan (Release may be called again on a released plan).
func (r *fakeRuntime) releaseDAGs() {
	for _, p := range r.dags {
		p.Release()
	}
}

// dagTensorCounter follows the tensors DAG parsing builds (through dag.go's buildDAGTensor seam):
// it holds two references of its own to each, so that the plan's release can be seen in the count
// (3 while the plan holds the tensor, 2 once it has released it) and a second release frees nothing.
type dagTensorCounter struct{ built []tensor.Tensor }

// countDAGTensors installs a counter until the test ends, when it drops its references.
func countDAGTensors(tb testing.TB) *dagTensorCounter {
	c := &dagTensorCounter{}
	build := buildDAGTensor
	buildDAGTensor = func(args [][]byte, maxBulkLen func() int64) (tensor.Tensor, error) {
		t, err := build(args, maxBulkLen)
		if err == nil {
			t.Retain()
			t.Retain()
			c.built = append(c.built, t)
		}
		return t, err
	}
	tb.Cleanup(func() {
		buildDAGTensor = build
		for _, t := range c.built {
			for n := t.RefCount(); n > 0; n-- {
				t.Release()
			}
		}
	})
	return c
}

// check fails unless exactly want built tensors are live (held by their plan) and none was
// released more than once.
func (c *dagTensorCounter) check(tb testing.TB, what string, want int) {
	tb.Helper()
	live := 0
	for _, t := range c.built {
		switch t.RefCount() {
		case 3:
			live++
		case 2:
		default:
			tb.Fatalf("%s: a tensor the DAG built was released more than once", what)
		}
	}
	if live != want {
		tb.Fatalf("%s: %d tensors live (built %d), want %d", what, live, len(c.built), want)
	}
}

func (r *fakeRuntime) MayLoadLibraries() error { return r.noLoadingErr }

func (r *fakeRuntime) MayRead(key string) bool { return !slices.Contains(r.unreadable, key) }

func (r *fakeRuntime) LoadBackend(name, path string) error {
	r.loaded = append(r.loaded, loadCall{name, path})
	return r.loadErr
}

func (r *fakeRuntime) Stats() *stats.Table { return r.stats }
func (r *fakeRuntime) Config() *Config     { return &r.config }

// textReply renders a reply as text: +OK, *n, $"bulk", :int, _ (null), tensor(dtype shape format data).
type textReply struct{ parts []string }

func (r *textReply) OK()                { r.add("+OK") }
func (r *textReply) Array(n int)        { r.add(fmt.Sprintf("*%d", n)) }
func (r *textReply) Bulk(s string)      { r.add(fmt.Sprintf("$%q", s)) }
func (r *textReply) BulkBytes(b []byte) { r.add(fmt.Sprintf("$%q", b)) }
func (r *textReply) Tensor(t tensor.Tensor, f tensor.Format) {
	r.add(fmt.Sprintf("tensor(%s %v %d %q)", t.DType().Name(), t.Shape(), f, t.Data()))
}
func (r *textReply) Int(v int64)       { r.add(fmt.Sprintf(":%d", v)) }
func (r *textReply) Null()             { r.add("_") }
func (r *textReply) Simple(s string)   { r.add("+" + s) }
func (r *textReply) Error(text string) { r.add("-" + text) }
func (r *textReply) add(s string)      { r.parts = append(r.parts, s) }
func (r *textReply) String() string    { return strings.Join(r.parts, " ") }

// setTensor stores at a key the tensor AI.TENSORSET's arguments make ("key type ...").
func setTensor(t *testing.T, ks *fakeKeyspace, line string) {
	t.Helper()
	a := args(line)
	parsed, err := tensor.Parse(a[1:], func() int64 { return 1 << 20 })
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if err := ks.SetTensor(a[0], parsed); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
}

// run runs a handler with the command line split on spaces; it returns the reply text, or the error
// text ("-" + error, "-ARITY" for the wrong-arity error).
func run(ks *fakeKeyspace, h Handler, line string) string {
	return runAI(ks, nil, h, line)
}

// runAI is run with a runtime (nil: none).
func runAI(ks *fakeKeyspace, rt *fakeRuntime, h Handler, line string) string {
	return runArgs(ks, rt, h, args(line))
}

func runArgs(ks *fakeKeyspace, rt *fakeRuntime, h Handler, a [][]byte) string {
	var r textReply
	env := Env{Keys: ks, Out: &r}
	if rt != nil {
		env.Runtime = rt
	}
	err := call(h, env, a)
	switch {
	case errors.Is(err, ErrWrongArity):
		return "-ARITY"
	case err != nil:
		if len(r.parts) > 0 {
			return "reply written before an error: " + r.String()
		}
		return "-" + err.Error()
	}
	return r.String()
}

func args(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Split(line, " ") {
		out = append(out, []byte(strings.ReplaceAll(f, `\0`, "\x00")))
	}
	return out
}

// call runs h as the module does, through its entry in Commands (an execution command's transaction
// check, then the arity), or alone when it has no entry.
func call(h Handler, env Env, a [][]byte) error {
	p := reflect.ValueOf(h).Pointer()
	for i := range Commands {
		if reflect.ValueOf(Commands[i].Handler).Pointer() == p {
			return Commands[i].Run(env, a)
		}
	}
	return h(env, a)
}
